// Drawing the item and the overview. Item texts are inserted as text, never as HTML.

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

export function renderItem({ item, total, answer, strings, disabled, onChange }) {
  document.getElementById('item-title').textContent = strings.itemOf.replace('%(n)s', item.pos).replace('%(total)s', total);
  const flag = document.getElementById('flag');
  flag.setAttribute('aria-pressed', answer.flagged ? 'true' : 'false');
  flag.classList.toggle('on', !!answer.flagged);
  flag.disabled = disabled;

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

  const area = document.getElementById('answer');
  area.replaceChildren();
  const value = answer.value;
  if (item.options) {
    const multiple = item.kind === 'multiple';
    if (multiple) area.append(el('p', { class: 'hint', text: strings.chooseAll }));
    const chosen = new Set(Array.isArray(value) ? value : []);
    const list = el('div', { class: 'options', role: multiple ? 'group' : 'radiogroup' });
    item.options.forEach((text, index) => {
      const input = el('input', {
        type: multiple ? 'checkbox' : 'radio', name: `item-${item.pos}`, value: String(index),
        checked: chosen.has(index), disabled,
        onchange: () => {
          const picked = [...list.querySelectorAll('input:checked')].map((i) => Number(i.value));
          onChange(picked);
        },
      });
      list.append(el('label', { class: 'option' }, input, el('span', { class: 'letter', text: LETTERS[index] }), el('span', { text })));
    });
    area.append(list);
    if (!multiple && chosen.size) {
      area.append(el('button', { type: 'button', class: 'link', text: strings.clear, disabled, onclick: () => onChange([]) }));
    }
  } else if (item.kind === 'fill_in') {
    area.append(el('label', { class: 'textanswer' }, el('span', { text: strings.yourAnswer }),
      el('input', { type: 'text', maxlength: '500', value: value || '', disabled, autocomplete: 'off',
        oninput: (e) => onChange(e.target.value) })));
  } else {
    const textarea = el('textarea', { rows: '14', maxlength: '20000', disabled, oninput: (e) => onChange(e.target.value) });
    textarea.value = value || '';
    area.append(el('label', { class: 'textanswer' }, el('span', { text: strings.yourAnswer }), textarea));
  }
  document.getElementById('prev').disabled = item.pos <= 1;
  document.getElementById('next').disabled = item.pos >= total;
}

export function renderOverview({ total, current, store, onPick }) {
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
  }
  document.getElementById('n-answered').textContent = answered;
  document.getElementById('n-unanswered').textContent = total - answered;
  document.getElementById('n-flagged').textContent = flagged;
  return { answered, flagged, unanswered: total - answered };
}
