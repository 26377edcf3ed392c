// The proctor's live room (R-PROC-2..5): every candidate's camera and screen small in a grid, one
// candidate large with sound on click, signals and incidents as they happen, and the actions.
// The room socket brings every change; actions are POSTs whose effect comes back over the socket.
import { ServerLink } from '../../exams/js/attempt/link.js';
import { view } from './media/viewer.js';

const data = JSON.parse(document.getElementById('room-data').textContent);
const S = data.strings;
const $ = (id) => document.getElementById(id);
const csrfToken = document.querySelector('input[name=csrfmiddlewaretoken]').value;

const tiles = new Map();        // enrolment id → tile data from the server
const tileViews = new Map();    // enrolment id → { element, viewer }
const messages = new Map();     // enrolment id → [message]
let incidents = [];
let session = { stage: 'admitting' };
let canAct = false;
let ice = null;                 // the ICE servers of the last hello (TURN credentials are fresh on each)
let focusId = null;
let focusViewer = null;
let armedStep = null;
let armedStepTimer = null;
let armedAction = null;  // a final action waiting for its confirming click
let armedTimer = null;
let forceCollect = false;
let viewSeq = 0;
const answerWaiters = new Map();  // view id → resolve/reject

const link = new ServerLink({
  wsPath: data.ws, saveUrl: null, csrfToken,
  onMessage: handle,
  onStatus: (open, code) => {
    $('conn').textContent = open ? S.online : S.offline;
    $('conn').className = `pill ${open ? 'online' : 'offline'}`;
    if (code === 4401) location.assign('/login/');
    // The server closed every view of the old socket: view again on the new one.
    if (open) {
      tileViews.forEach((entry, id) => { closeViewer(entry); ensureGridView(id); });
      if (focusId) openFocusMedia(focusId);
    }
  },
});

function handle(message) {
  switch (message.t) {
    case 'hello':
      ice = message.ice;
      canAct = message.canAct;
      document.body.classList.toggle('observer', !canAct);
      $('observer-note').hidden = canAct;
      session = message.session;
      message.tiles.forEach((tile) => tiles.set(tile.enrolment, tile));
      incidents = message.incidents;
      messages.clear();
      message.messages.forEach(addMessage);
      drawAll();
      break;
    case 'tile': tiles.set(message.tile.enrolment, message.tile); drawTile(message.tile); if (focusId === message.tile.enrolment) drawFocus(); break;
    case 'incident': upsertIncident(message.incident); drawIncidents(); break;
    case 'message': addMessage(message.message); if (focusId === message.message.enrolment) drawChat(); break;
    case 'stage': session = message.session; drawStage(); break;
    case 'media.answer': case 'media.error': {
      const waiter = answerWaiters.get(message.viewId);
      answerWaiters.delete(message.viewId);
      if (waiter) (message.t === 'media.answer' ? waiter.resolve({ sdp: message.sdp }) : waiter.reject(new Error(message.reason)));
      break;
    }
    case 'stills': loadStills(); break;
    default: break;
  }
}

function addMessage(message) {
  const list = messages.get(message.enrolment) || [];
  if (!list.some((m) => m.id === message.id)) list.push(message);
  messages.set(message.enrolment, list);
}

function upsertIncident(incident) {
  const index = incidents.findIndex((i) => i.id === incident.id);
  if (index >= 0) incidents[index] = incident; else incidents.unshift(incident);
}

// --- media ---------------------------------------------------------------------------------------
function signal({ sdp, session: candidate, quality, viewId }) {
  return new Promise((resolve, reject) => {
    answerWaiters.set(viewId, { resolve, reject });
    if (!link.send({ t: 'view', session: candidate, quality, sdp, viewId })) {
      answerWaiters.delete(viewId);
      reject(new Error('offline'));
    }
  });
}

async function openView(enrolment, quality, onTrack) {
  const viewId = `${quality}-${enrolment}-${++viewSeq}`;
  return view({ session: String(enrolment), quality, onTrack, ice, signal: (offer) => signal({ ...offer, session: String(enrolment), quality, viewId }) });
}

function closeViewer(entry) {
  if (entry.viewer) { entry.viewer.close(); entry.viewer = null; }
  entry.opening = false;
}

async function ensureGridView(enrolment) {
  const entry = tileViews.get(enrolment);
  if (!entry || entry.viewer || entry.opening || !link.open) return;
  entry.opening = true;
  try {
    entry.viewer = await openView(enrolment, 'grid', (kind, stream) => {
      const video = entry.element.querySelector(kind === 'screen' ? '.screen' : '.camera');
      if (video && kind !== 'audio') { video.srcObject = stream; video.play().catch(() => {}); }
    });
  } catch (error) {
    entry.viewer = null;
  }
  entry.opening = false;
}

async function openFocusMedia(enrolment) {
  if (focusViewer) { focusViewer.close(); focusViewer = null; }
  try {
    const viewer = await openView(enrolment, 'focus', (kind, stream) => {
      const element = $(kind === 'screen' ? 'focus-screen' : kind === 'audio' ? 'focus-audio' : 'focus-camera');
      element.srcObject = stream;
      element.play().catch(() => {});
    });
    if (focusId !== enrolment) { viewer.close(); return; }
    focusViewer = viewer;
  } catch (error) {
    focusViewer = null;
  }
}

// --- drawing -------------------------------------------------------------------------------------
function statusOf(tile) {
  const a = tile.attempt;
  if (a) {
    if (a.status === 'in_progress' && a.locked) return ['locked', S.attempt.locked];
    if (a.status === 'in_progress' && a.pausedAt) return ['paused', S.attempt.paused];
    return [a.status, S.attempt[a.status] || a.status];
  }
  return [tile.checkin, S.checkin[tile.checkin] || tile.checkin];
}

function drawTile(tile) {
  let entry = tileViews.get(tile.enrolment);
  if (!entry) {
    const element = document.createElement('article');
    element.className = 'tile';
    element.dataset.enrolment = tile.enrolment;
    element.dataset.testid = 'tile';
    element.innerHTML = `<div class="feeds"><video class="camera" autoplay muted playsinline></video>`
      + `<video class="screen" autoplay muted playsinline></video></div>`
      // The name is the tile's button: a keyboard reaches every candidate with Tab and opens one with Enter.
      + `<div class="who"><button type="button" class="open-tile"><b class="name"></b> <span class="seat"></span></button></div>`
      + `<div class="chips"><span class="chip status"></span><span class="chip online"></span><span class="chip check"></span>`
      + `<span class="chip unread" hidden></span></div>`
      + `<div class="alerts"></div>`;
    element.addEventListener('click', (event) => setFocus(tile.enrolment, { moveFocus: event.detail === 0 }));
    entry = { element, viewer: null, opening: false };
    tileViews.set(tile.enrolment, entry);
    $('tiles').append(element);
  }
  const { element } = entry;
  element.querySelector('.name').textContent = tile.name;
  element.querySelector('.seat').textContent = tile.seat ? `· ${tile.seat}` : '';
  element.querySelector('.open-tile').setAttribute('aria-pressed', focusId === tile.enrolment ? 'true' : 'false');
  const [state, label] = statusOf(tile);
  const chip = element.querySelector('.status');
  chip.textContent = label;
  chip.dataset.state = state;
  element.dataset.state = state;
  const online = element.querySelector('.online');
  online.textContent = tile.online ? S.online : S.offline;
  online.dataset.online = tile.online ? 'yes' : 'no';
  const check = element.querySelector('.check');
  check.hidden = !tile.check;
  if (tile.check) {
    check.dataset.passed = tile.check.passed ? 'yes' : 'no';
    check.textContent = `${S.systemCheck} ${tile.check.passed ? '✓' : '✗'}`;
    const upload = tile.check.uploadMbps === null ? '' : `${tile.check.uploadMbps} Mbps `;
    check.title = upload + tile.check.problems.map((code) => S.problems[code] || code).join(' ');
  }
  const unread = element.querySelector('.unread');
  unread.hidden = !tile.unread;
  unread.textContent = `✉ ${tile.unread}`;
  element.querySelector('.alerts').replaceChildren(...tile.openIncidents.map((kind) => {
    const alert = document.createElement('span');
    alert.className = 'alert';
    alert.dataset.kind = kind;
    alert.textContent = S.incidents[kind] || kind;
    return alert;
  }));
  element.classList.toggle('alarm', tile.openIncidents.length > 0);
  element.classList.toggle('focused', focusId === tile.enrolment);
  ensureGridView(tile.enrolment);
}

// Replace a list's children without losing the keyboard: a control removed with the old children
// drops the focus on the page's body, and the list is redrawn whenever something arrives (a new
// incident while the proctor tabs through the list). The new control with the same data-key
// gets it back, or else the list's first control.
function replaceKeepingFocus(list, children) {
  const active = document.activeElement;
  const had = active !== list && list.contains(active);
  const key = had ? active.dataset.key : undefined;
  list.replaceChildren(...children);
  if (!had) return;
  const same = key === undefined ? null : list.querySelector(`[data-key="${CSS.escape(key)}"]`);
  (same || list.querySelector('button, a[href]'))?.focus();
}

function drawIncidents() {
  const list = $('incidents');
  if (!incidents.length) { list.innerHTML = `<li class="muted">${S.noIncidents}</li>`; return; }
  replaceKeepingFocus(list, incidents.slice(0, 200).map((incident) => {
    const item = document.createElement('li');
    item.dataset.kind = incident.kind;
    item.dataset.open = incident.bySystem && !incident.endedAt ? 'yes' : 'no';
    const who = tiles.get(incident.enrolment);
    const time = document.createElement('time');
    time.textContent = incident.atLabel;
    // A button, so that the list leads to the candidate by keyboard too.
    const text = document.createElement('button');
    text.type = 'button';
    text.className = 'link incident-open';
    text.dataset.key = `incident-${incident.id}`;
    const length = incident.bySystem && !incident.endedAt ? S.open : incident.lasted ? S.lasted.replace('%(time)s', incident.lasted) : '';
    text.textContent = `${who ? who.name : ''}: ${incident.label}${incident.note ? ` — ${incident.note}` : ''}`
      + (length ? ` (${length})` : '') + (incident.by ? ` [${incident.by}]` : '');
    text.addEventListener('click', (event) => setFocus(incident.enrolment, { moveFocus: event.detail === 0 }));
    item.append(time, ' ', text);
    for (const id of [incident.still, incident.screenStill].filter(Boolean)) {
      const a = document.createElement('a');
      a.href = data.urls.still.replace('{id}', id);
      a.target = '_blank';
      a.textContent = '📷';
      a.className = 'still-link';
      a.dataset.key = `still-${incident.id}-${id}`;
      a.setAttribute('aria-label', S.stills);
      item.append(' ', a);
    }
    return item;
  }));
}

function drawStage() {
  const button = $('next-step');
  const hadFocus = document.activeElement === button;
  $('stage').textContent = S.stages[session.stage] || session.stage;
  $('stage').dataset.stage = session.stage;
  $('start-code').hidden = !session.startCode;
  $('start-code').textContent = `${S.startCode}: ${session.startCode}`;
  const next = { admitting: 'started', started: 'collected', collected: 'ended' }[session.stage];
  button.hidden = !canAct || !next;
  button.dataset.to = next || '';
  button.textContent = armedStep === next ? `✔ ${S.confirmNext[next]}` : S.next[next] || '';
  button.classList.toggle('armed', armedStep === next);
  // The last step hides its button: the keyboard goes to the stage it led to ("Ended"), beside
  // it, rather than to the page's body (WCAG 2.4.3).
  if (hadFocus && button.hidden) $('stage').focus();
}

function drawFocus() {
  const active = document.activeElement;
  const hadFocus = active && active !== document.body && $('focus').contains(active) ? active : null;
  renderFocus();
  if (hadFocus) handFocusOn(hadFocus);
}

// A control hidden by its own action (Admit and Refuse once the candidate is decided, Pause and
// Resume as they swap, the attempt's row once it ends) takes the keyboard focus with it: Chromium
// drops it on the page's body, and a keyboard or screen-reader user starts again from the top of
// the page (WCAG 2.4.3, issue 12). Pause and Resume take each other's place, so the focus does too;
// anything else goes to the candidate's name, the top of the panel, which reads out her facts.
function handFocusOn(had) {
  const shown = (element) => Boolean(element?.isConnected && element.getClientRects().length);
  if (shown(had)) return;
  const partner = { pause: 'resume', resume: 'pause' }[had.dataset.action];
  const next = partner && document.querySelector(`[data-action=${partner}]`);
  if (shown(next)) next.focus();
  else if (!$('focus').hidden) $('focus-name').focus();
  else document.querySelector(`.tile[data-enrolment="${focusId}"] .open-tile`)?.focus();
}

function renderFocus() {
  // Before the return for a closed panel: closing must un-press the tile it was opened from
  // (a screen reader announced it "pressed" still, and its border stayed).
  document.querySelectorAll('.tile').forEach((el) => {
    const focused = Number(el.dataset.enrolment) === focusId;
    el.classList.toggle('focused', focused);
    el.querySelector('.open-tile')?.setAttribute('aria-pressed', focused ? 'true' : 'false');
  });
  const tile = tiles.get(focusId);
  $('focus').hidden = !tile;
  if (!tile) return;
  $('focus-name').textContent = tile.name;
  const [, label] = statusOf(tile);
  const facts = [tile.seat && `${tile.seat}`, tile.ticket, label];
  if (tile.attempt && tile.attempt.status === 'in_progress') facts.push(S.ends.replace('%(time)s', tile.attempt.deadlineLabel));
  if (tile.attempt?.pausedAt && tile.attempt.status === 'in_progress') {
    const minutes = Math.floor((Date.now() - tile.attempt.pausedAt) / 60000);
    facts.push(`${S.pausedFor} ${minutes} min: ${tile.attempt.pauseReason}`);
    // R-TAKE-7: a failure of two hours or more ends the sitting for the candidate (the board reschedules).
    if (minutes >= 120) facts.push(S.pausedTooLong);
  }
  if (tile.systemPausedSeconds) {
    const credit = tile.systemPausedSeconds;
    facts.push(S.systemPaused.replace('%(time)s', `${Math.floor(credit / 60)} min ${credit % 60} s`));
  }
  if (tile.checkinReason) facts.push(tile.checkinReason);
  if (tile.check) {
    const upload = tile.check.uploadMbps === null ? '' : `, ${tile.check.uploadMbps} Mbps`;
    const problems = tile.check.problems.map((code) => S.problems[code] || code).join(' ');
    facts.push(`${S.systemCheck} ${tile.check.atLabel}${upload}${problems ? `: ${problems}` : ' ✓'}`);
  }
  $('focus-facts').textContent = facts.filter(Boolean).join(' · ');
  $('focus').dataset.enrolment = focusId;
  const running = tile.attempt && tile.attempt.status === 'in_progress';
  const deciding = !tile.attempt && ['waiting', 'refused', 'not_arrived'].includes(tile.checkin);
  document.querySelector('[data-when=checkin]').hidden = !canAct || !deciding;
  document.querySelector('[data-when=attempt]').hidden = !canAct || !running;
  document.querySelector('[data-action=pause]').hidden = Boolean(tile.attempt?.pausedAt);
  document.querySelector('[data-action=resume]').hidden = !tile.attempt?.pausedAt;
  document.querySelector('[data-action=hand-over]').hidden = !tile.attempt?.locked;
  document.querySelector('.focus-actions').hidden = !canAct;
  $('focus-chat-form').hidden = !canAct;  // observers read the chat, they do not write in it
  drawChat();
}

function drawChat() {
  const list = $('focus-chat');
  list.replaceChildren(...(messages.get(focusId) || []).map((message) => {
    const item = document.createElement('li');
    item.className = message.fromProctor ? 'from-me' : 'from-candidate';
    const who = document.createElement('b');
    who.textContent = `${message.atLabel} `;
    const text = document.createElement('span');
    text.textContent = message.text;
    item.append(who, text);
    return item;
  }));
  list.scrollTop = list.scrollHeight;
}

function drawAll() {
  [...tiles.values()].forEach(drawTile);
  drawIncidents();
  drawStage();
  if (focusId) drawFocus();
}

async function loadStills() {
  if (!focusId) return;
  const response = await fetch(data.urls.candidate.replace('{id}', focusId), { credentials: 'same-origin' });
  if (!response.ok) return;
  const { stills, recordings } = await response.json();
  replaceKeepingFocus($('focus-stills'), [...stills.map((still) => {
    const a = document.createElement('a');
    a.href = still.url; a.target = '_blank'; a.title = `${still.label} ${still.at}`;
    a.dataset.key = `still-${still.id}`;
    const img = document.createElement('img');
    img.src = still.url; img.alt = still.label; img.loading = 'lazy';
    a.append(img);
    return a;
  }), ...recordings.map((recording) => {
    const a = document.createElement('a');
    a.href = recording.url; a.target = '_blank'; a.className = 'recording';
    a.dataset.key = `recording-${recording.id}`;
    a.textContent = `▶ ${recording.track} ${recording.at}`;
    return a;
  })]);
}

// moveFocus: opened by keyboard (a click with no pointer): the keyboard goes on to the candidate's panel.
function setFocus(enrolment, { moveFocus = false } = {}) {
  if (moveFocus) requestAnimationFrame(() => $('focus-name').focus());
  if (focusId === enrolment) return;
  focusId = enrolment;
  // A reason typed for one candidate must never be applied to another.
  $('reason').value = '';
  disarmAction();
  $('action-error').textContent = '';
  ['focus-camera', 'focus-screen', 'focus-audio'].forEach((id) => { $(id).srcObject = null; });
  drawFocus();
  openFocusMedia(enrolment);
  loadStills();
  if ((tiles.get(enrolment)?.unread || 0) > 0 && canAct) post(data.urls.action.replace('{id}', enrolment).replace('{action}', 'read'), {});
}

// --- actions -------------------------------------------------------------------------------------
async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: `${response.status}` }));
  if (answer.tile) { tiles.set(answer.tile.enrolment, answer.tile); drawTile(answer.tile); drawFocus(); }
  return answer;
}

async function act(action) {
  const tile = tiles.get(focusId);
  if (!tile) return;
  const reason = $('reason').value.trim();
  let url;
  let body = { reason };
  if (action === 'admit' || action === 'refuse' || action === 'incident') {
    url = data.urls.action.replace('{id}', focusId).replace('{action}', action);
    if (action === 'incident') body = { kind: $('incident-kind').value, note: reason };
  } else {
    url = data.urls.attemptAction.replace('{id}', tile.attempt.id).replace('{action}', action);
    if (action === 'extend') body.minutes = Number($('minutes').value);
    if (action === 'hand-over') body.to = 'new';
  }
  // Disqualifying is final: a second click, on a button that names the candidate, confirms it.
  if (action === 'disqualify' && armedAction !== `disqualify-${focusId}`) {
    armAction(`disqualify-${focusId}`, S.confirmDisqualify.replace('%(name)s', tile.name));
    return;
  }
  disarmAction();
  if (action === 'incident') await snapshot('incident');
  const answer = await post(url, body);
  $('action-error').textContent = answer.ok ? '' : answer.error;
  // Cleared only if it still holds what was sent: a slow answer must not wipe a reason typed since.
  if (answer.ok && $('reason').value.trim() === reason) $('reason').value = '';
}

function armAction(key, label) {
  disarmAction();
  armedAction = key;
  const button = document.querySelector('[data-action=disqualify]');
  button.dataset.label = button.textContent;
  button.textContent = label;
  button.classList.add('armed');
  armedTimer = setTimeout(disarmAction, 6000);
}

function disarmAction() {
  clearTimeout(armedTimer);
  armedAction = null;
  const button = document.querySelector('[data-action=disqualify]');
  if (button.dataset.label) button.textContent = button.dataset.label;
  button.classList.remove('armed');
}

// A still now, of camera and screen; the media process answers with "stills" on the socket.
function snapshot(purpose) {
  return new Promise((resolve) => {
    if (!link.send({ t: 'snapshot', enrolment: focusId, purpose })) { resolve(); return; }
    setTimeout(resolve, 1500);  // the incident takes the newest still either way
  });
}

document.querySelectorAll('[data-action]').forEach((button) => button.addEventListener('click', () => act(button.dataset.action)));
document.querySelectorAll('[data-snapshot]').forEach((button) => button.addEventListener('click', () => snapshot(button.dataset.snapshot)));
function closeFocus() {
  const closed = focusId;
  focusId = null; if (focusViewer) focusViewer.close(); focusViewer = null; drawFocus();
  // The keyboard goes back to the tile it came from, not to the top of the page.
  document.querySelector(`.tile[data-enrolment="${closed}"] .open-tile`)?.focus();
}
$('focus-close').addEventListener('click', closeFocus);
// Escape closes the candidate's panel from anywhere in it, as "close" does; not from a field
// that holds typed text (a reason, a message), which Escape would otherwise throw away.
$('focus').addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || event.defaultPrevented || !focusId) return;
  if (event.target.matches('input:not([type=checkbox]), textarea') && event.target.value) return;
  event.preventDefault();
  closeFocus();
});
$('focus-listen').addEventListener('change', (event) => { $('focus-audio').muted = !event.target.checked; });
$('focus-audio').muted = true;
$('focus-chat-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.querySelector('input');
  const text = input.value.trim();
  if (!text || !focusId) return;
  const answer = await post(data.urls.action.replace('{id}', focusId).replace('{action}', 'message'), { text });
  if (answer.ok) input.value = ''; else $('action-error').textContent = answer.error;
});
$('next-step').addEventListener('click', async () => {
  const to = $('next-step').dataset.to;
  // Two clicks: a room step is final for everyone in the room.
  // One timer at a time: the timer of a step confirmed a moment ago disarmed the next step early
  // (Enter, Enter to start the room, then Enter on "Collect" and the second Enter armed it again).
  clearTimeout(armedStepTimer);
  if (armedStep !== to) { armedStep = to; drawStage(); armedStepTimer = setTimeout(() => { armedStep = null; drawStage(); }, 5000); return; }
  armedStep = null;
  const answer = await post(data.urls.advance, { to, force: forceCollect && to === 'collected' });
  forceCollect = false;
  if (answer.ok) { session = answer.session; $('room-error').textContent = ''; }
  else {
    $('room-error').textContent = answer.error;
    // Candidates still have time: the next two clicks collect anyway, knowingly.
    if (answer.code === 'time_left') forceCollect = true;
  }
  drawStage();
});
$('incident-kind').replaceChildren(...data.incidentKinds.map((kind) => {
  const option = document.createElement('option');
  option.value = kind.id; option.textContent = kind.label;
  return option;
}));

link.connect();
link.watch();
setInterval(() => link.send({ t: 'ping' }), 10000);
setInterval(() => tileViews.forEach((_, id) => ensureGridView(id)), 5000);
