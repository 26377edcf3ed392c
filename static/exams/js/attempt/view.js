// Drawing the item and the overview. Item texts are inserted as text, never as HTML.
//
// The answer's fields are built once per item shown and then only updated: a redraw (a new clock
// from the proctor, a reconnect, a lock) must never replace the field the candidate is typing in,
// or the focus falls to <body> and every key typed after it is lost (issue 10). For the same
// reason a text field that cannot take answers just now is read-only, not disabled: a disabled
// field loses the focus, a read-only one keeps it and its caret.

const LETTERS = 'ABCDEFGHIJ';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// The answer field that had the focus when the options were disabled (a pause, a lock): it gets
// the focus back when they are enabled again, if the focus has not gone anywhere else meanwhile.
let parked = null;

function shownPos(area) { return area.dataset.pos ? Number(area.dataset.pos) : null; }

export function renderItem({ item, total, answer, strings, disabled, onChange }) {
  const area = document.getElementById('answer');
  const value = answer.value;
  const flag = document.getElementById('flag');
  flag.setAttribute('aria-pressed', answer.flagged ? 'true' : 'false');
  flag.classList.toggle('on', !!answer.flagged);
  flag.disabled = disabled;

  if (shownPos(area) !== item.pos) {
    parked = null;
    buildItem({ item, total, strings, area, onChange });
  }
  updateAnswer({ item, area, value, disabled });
  document.getElementById('prev').disabled = item.pos <= 1;
  document.getElementById('next').disabled = item.pos >= total;
}

function buildItem({ item, total, strings, area, onChange }) {
  document.getElementById('item-title').textContent = strings.itemOf.replace('%(n)s', item.pos).replace('%(total)s', total);
  const stem = document.getElementById('stem');
  const reason = document.getElementById('reason');
  if (item.kind === 'cause_effect') {
    stem.replaceChildren(el('strong', { text: strings.assertion + ' ' }), document.createTextNode(item.stem));
    reason.replaceChildren(el('strong', { text: strings.reason + ' ' }), document.createTextNode(item.reason || ''));
    reason.hidden = false;
  } else {
    stem.textContent = item.stem;
    reason.hidden = true;
  }
  const image = document.getElementById('image');
  if (item.image) { image.src = item.image; image.hidden = false; } else { image.removeAttribute('src'); image.hidden = true; }

  area.replaceChildren();
  area.dataset.pos = String(item.pos);
  area.dataset.kind = item.kind;
  if (item.options) {
    const multiple = item.kind === 'multiple';
    const hintId = `hint-${item.pos}`;
    if (multiple) area.append(el('p', { class: 'hint', id: hintId, text: strings.chooseAll }));
    // Native radios and checkboxes: the arrow keys do what the platform does (move between the
    // radios of a group; nothing on a checkbox), and the page's item shortcuts leave them alone.
    const list = el('div', {
      class: 'options', role: multiple ? 'group' : 'radiogroup',
      'aria-labelledby': item.kind === 'cause_effect' ? 'item-title stem reason' : 'item-title stem',
      'aria-describedby': multiple ? hintId : null,
    });
    item.options.forEach((text, index) => {
      const input = el('input', {
        type: multiple ? 'checkbox' : 'radio', name: `item-${item.pos}`, value: String(index),
        onchange: () => {
          const picked = [...list.querySelectorAll('input:checked')].map((i) => Number(i.value));
          onChange(picked);
          showClear(area, picked.length > 0);
        },
      });
      list.append(el('label', { class: 'option' }, input, el('span', { class: 'letter', text: LETTERS[index] }), el('span', { text })));
    });
    area.append(list);
    if (!multiple) {
      area.append(el('button', {
        type: 'button', class: 'link clear', text: strings.clear,
        onclick: () => {
          list.querySelectorAll('input').forEach((input) => { input.checked = false; });
          onChange([]);
          showClear(area, false);
          list.querySelector('input')?.focus();  // the button hides itself: keep the keyboard in the item
        },
      }));
    }
  } else {
    const field = item.kind === 'fill_in'
      ? el('input', { type: 'text', maxlength: '500', autocomplete: 'off' })
      : el('textarea', { rows: '14', maxlength: '20000' });
    field.addEventListener('input', () => onChange(field.value));
    area.append(el('label', { class: 'textanswer' }, el('span', { text: strings.yourAnswer }), field));
  }
}

function showClear(area, visible) {
  const clear = area.querySelector('button.clear');
  if (clear) clear.hidden = !visible;
}

function updateAnswer({ item, area, value, disabled }) {
  const focused = area.contains(document.activeElement) ? document.activeElement : null;
  if (item.options) {
    const chosen = new Set(Array.isArray(value) ? value : []);
    const inputs = [...area.querySelectorAll('.options input')];
    if (disabled && focused) parked = focused;
    for (const input of inputs) {
      input.checked = chosen.has(Number(input.value));
      input.disabled = disabled;
    }
    const clear = area.querySelector('button.clear');
    if (clear) { clear.disabled = disabled; clear.hidden = chosen.size === 0; }
    if (!disabled && parked) {
      const active = document.activeElement;
      if (parked.isConnected && (!active || active === document.body)) parked.focus({ preventScroll: true });
      parked = null;
    }
  } else {
    const field = area.querySelector('input, textarea');
    field.readOnly = disabled;
    field.setAttribute('aria-disabled', disabled ? 'true' : 'false');
    const text = value || '';
    // The candidate's field is never rewritten under their fingers: what it shows is what they
    // typed, and every keystroke has gone to the store already. It is filled from the store only
    // when it is not being edited (another tab's unsent answers adopted, say).
    if (field.value !== text && field !== focused) field.value = text;
  }
}

// The overview: one button per item, saying in its name what its colour and marks say.
export function renderOverview({ total, current, store, strings, onPick }) {
  const grid = document.getElementById('grid');
  if (grid.children.length !== total) {
    grid.replaceChildren(...Array.from({ length: total }, (_, i) => el('button', {
      type: 'button', class: 'cell', text: String(i + 1), 'data-pos': String(i + 1), onclick: () => onPick(i + 1),
    })));
  }
  let answered = 0, flagged = 0;
  for (const cell of grid.children) {
    const pos = Number(cell.dataset.pos);
    const isAnswered = store.isAnswered(pos), isFlagged = !!store.get(pos).flagged;
    answered += isAnswered ? 1 : 0;
    flagged += isFlagged ? 1 : 0;
    cell.classList.toggle('answered', isAnswered);
    cell.classList.toggle('flagged', isFlagged);
    cell.classList.toggle('current', pos === current);
    cell.classList.toggle('unsent', !!store.outbox[pos]);
    if (pos === current) cell.setAttribute('aria-current', 'step'); else cell.removeAttribute('aria-current');
    if (strings) {
      const states = [isAnswered ? strings.cellAnswered : strings.cellUnanswered];
      if (isFlagged) states.push(strings.cellFlagged);
      const label = `${pos}, ${states.join(', ')}`;
      if (cell.getAttribute('aria-label') !== label) cell.setAttribute('aria-label', label);
    }
  }
  document.getElementById('n-answered').textContent = answered;
  document.getElementById('n-unanswered').textContent = total - answered;
  document.getElementById('n-flagged').textContent = flagged;
  return { answered, flagged, unanswered: total - answered };
}
