// The candidate's chat with the room's proctors: the thread, a box to reply, a badge for new lines.
export class Chat {
  constructor({ root, strings, send }) {
    this.root = root;
    this.strings = strings;
    this.list = root.querySelector('.chat-list');
    this.form = root.querySelector('form');
    this.input = root.querySelector('textarea, input[type=text]');
    this.seen = new Set();
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (text && send({ t: 'message', text })) this.input.value = '';
    });
    this.send = send;
  }

  // The thread so far; from then on, new lines are read out by screen readers as they arrive
  // (not the whole history again at every page load).
  show(messages) {
    messages.forEach((message) => this.add(message));
    this.list.setAttribute('aria-live', 'polite');
    this.list.setAttribute('aria-relevant', 'additions');
  }

  add(message) {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    const line = document.createElement('li');
    line.className = message.fromProctor ? 'from-proctor' : 'from-me';
    const who = document.createElement('b');
    who.textContent = `${message.fromProctor ? this.strings.proctor : this.strings.you} ${message.atLabel}`;
    const text = document.createElement('span');
    text.textContent = message.text;
    line.append(who, text);
    this.list.append(line);
    this.list.scrollTop = this.list.scrollHeight;
    if (message.fromProctor) {
      this.root.classList.add('unread');
      this.root.dataset.unread = 'yes';
    }
  }

  // An incident the proctor recorded: shown in the thread, marked, so the candidate can answer.
  warn({ label, note, atLabel }) {
    const line = document.createElement('li');
    line.className = 'warning';
    const who = document.createElement('b');
    who.textContent = `${this.strings.recorded} ${atLabel}`;
    const text = document.createElement('span');
    text.textContent = note ? `${label}: ${note}` : label;
    line.append(who, text);
    this.list.append(line);
    this.list.scrollTop = this.list.scrollHeight;
    this.root.classList.add('unread');
    this.root.dataset.unread = 'yes';
  }

  markRead() {
    this.root.classList.remove('unread');
    delete this.root.dataset.unread;
    this.send({ t: 'read' });
  }
}
