// The exam page: answers are stored locally first, then sent; the server's acks empty the outbox.
import { AnswerStore } from './attempt/store.js';
import { ServerClock, formatLeft } from './attempt/clock.js';
import { ServerLink } from './attempt/link.js';
import { renderItem, renderOverview } from './attempt/view.js';

const data = JSON.parse(document.getElementById('attempt-data').textContent);
// Texts of the payload, plus those the template carries as data attributes (#page-strings).
const S = { ...data.strings, ...document.getElementById('page-strings').dataset };
const total = data.items.length;
const store = new AnswerStore(data.attempt, data.responses, data.lastSeq);
const clock = new ServerClock(data.serverNow);
const csrfToken = document.querySelector('#finish-form input[name=csrfmiddlewaretoken]').value;
const $ = (id) => document.getElementById(id);

let current = Number(sessionStorage.getItem(`exam-current:${data.attempt}`)) || 1;
let deadline = data.deadline;
let graceMs = data.graceMs;
let state = { status: data.status, locked: data.locked, lockReason: data.lockReason, thisDevice: data.thisDevice,
  pausedAt: data.pausedAt, pauseReason: data.pauseReason, endReason: data.endReason };
let online = false;
let inflight = new Set();       // sequence numbers sent and not yet acknowledged
let flushTimer = null;
let deadlineAsked = false;
let signedOut = false;
let otherTab = false;
let noticeTimer = null;
let lastServerNotice = '';
// Time warnings (issue 12): at 10 and 5 minutes left, on screen and to screen readers, each once. An
// end moved back past a mark arms its warning again.
const WARN_AT_MINUTES = [10, 5];
const timeWarned = new Set();
// What a screen reader has been told of the connection and of saving, so that only changes are said.
let toldOnline = null;
let savedTimer = null;
let sawPending = false;
const MAX_CHANGES_PER_MESSAGE = 200;  // the server's limit per save message
// Under the server's 1 MiB per socket frame and per HTTP save body: 200 long answers in Mongolian or
// Chinese (three bytes a character) would pass the count and be refused for their size, for ever.
const MAX_BYTES_PER_MESSAGE = 900 * 1024;
const utf8 = new TextEncoder();

const link = new ServerLink({
  wsPath: data.urls.ws, saveUrl: data.urls.save, stateUrl: data.urls.state, csrfToken,
  onMessage: handle,
  onStatus: (isOpen) => {
    online = isOpen;
    inflight.clear();
    if (isOpen) { ping(); flush(0); }
    showStatus();
  },
  // Only the server's clear word ends the page (see link.js). A reload loses nothing: the
  // answers not sent yet are in localStorage, and the reloaded page sends them.
  onEnd: (reason) => {
    if (reason === 'signedOut') { signedOut = true; showStatus(); } else location.reload();
  },
});

function canAnswer() {
  return state.status === 'in_progress' && !state.locked && state.thisDevice && !signedOut && !otherTab
    && !state.pausedAt && clock.now() < deadline;
}

function draw() {
  current = Math.min(Math.max(current, 1), total);
  sessionStorage.setItem(`exam-current:${data.attempt}`, String(current));
  const shown = current;
  renderItem({ item: data.items[current - 1], total, answer: store.get(current), strings: S, disabled: !canAnswer(),
    onChange: (value) => answer(shown, value, store.get(shown).flagged) });
  overview();
  showStatus();
}

function overview() {
  return renderOverview({ total, current, store, strings: S, onPick: (pos) => goTo(pos) });
}

// Moving to an item puts the keyboard focus on it (its heading), so that a keyboard or screen
// reader user continues from the item and not from the button that was pressed.
function goTo(pos) {
  current = Math.min(Math.max(pos, 1), total);
  draw();
  $('item-title').focus({ preventScroll: false });
}

function answer(pos, value, flagged) {
  if (!canAnswer()) return;
  store.change(pos, value, flagged);
  overview();
  showStatus();
  flush(typeof value === 'string' ? 600 : 50);  // typing is sent in bursts, clicks at once
}

function flush(delay = 50) {
  clearTimeout(flushTimer);
  flushTimer = setTimeout(sendPending, delay);
}

// The next changes to send: not in flight, within the server's count and size per message.
function nextBatch() {
  const batch = [];
  let bytes = 0;
  for (const change of store.pending()) {
    if (inflight.has(change.seq)) continue;
    const size = utf8.encode(JSON.stringify(change)).length + 1;
    if (batch.length && (batch.length >= MAX_CHANGES_PER_MESSAGE || bytes + size > MAX_BYTES_PER_MESSAGE)) break;
    batch.push(change);
    bytes += size;
  }
  return batch;
}

function sendPending() {
  const changes = nextBatch();
  if (!changes.length || signedOut || otherTab) return;
  if (link.send({ t: 'save', changes })) {
    changes.forEach((c) => inflight.add(c.seq));
    return;
  }
  // No socket: it redials by itself and the outbox waits. HTTP only when the link allows it (the
  // socket down for a while, no other save in flight, the back-off over); a failed save is tried
  // again after the back-off, a saved one goes on through its acks in handle().
  const wait = link.postWait();
  if (wait === null) return;
  if (wait > 0) { flush(wait); return; }
  link.post(changes).then((answered) => { if (!answered) flush(0); });
}

function handle(message) {
  switch (message.t) {
    case 'state': {
      clock.sample(performance.now(), message.serverNow);  // rough until the first pong
      const before = { deadline, pausedAt: state.pausedAt };
      deadline = message.deadline; graceMs = message.graceMs;
      $('end-time').textContent = message.deadlineLabel;
      state = { status: message.status, locked: message.locked, lockReason: message.lockReason, thisDevice: message.thisDevice,
        pausedAt: message.pausedAt, pauseReason: message.pauseReason, endReason: message.endReason };
      if (state.status !== 'in_progress') return finished();
      if (!state.pausedAt && store.pending().length) flush(0);  // resumed: send what waited
      tellClockChange(before, message);
      draw();
      break;
    }
    case 'refused':  // the socket is closed right after with the same code
      if (message.code === 4401) link.end('signedOut');
      if (message.code === 4404) link.end('reload');
      break;
    case 'pong':
      clock.sample(message.c, message.s);
      break;
    case 'error':  // a frame the server refused (malformed); the socket stays open, the outbox is resent later
      console.warn('refused by the server:', message.code, message.reason);
      break;
    case 'ack':
      for (const result of message.results) { inflight.delete(result.seq); store.acknowledge(result); }
      overview();
      showStatus();
      // A passing refusal (server error, locked, paused) is tried again later, not at once.
      if (store.pending().some((c) => !inflight.has(c.seq))) flush(message.results.some((r) => !r.ok) ? 2000 : 0);
      break;
    case 'locked':
      state.locked = true; state.lockReason = message.reason; draw();
      break;
    case 'moved':
      state.thisDevice = false; state.locked = false; state.lockReason = message.reason; link.stop(); draw();
      window.dispatchEvent(new CustomEvent('exam:inactive'));
      break;
    case 'submitted':
      state.status = 'submitted'; finished();
      break;
    case 'ended':  // the proctor ended the attempt (disqualified)
      state.status = 'disqualified'; state.endReason = message.reason; finished();
      break;
    default:
      break;
  }
}

// The end moved: say so, with the reason, and the new end, on screen and to screen readers
// (R-TAKE-7). An extension's push carries the proctor's reason; a resume moves the end by the
// pause; a server outage is told in the server's words; an end moved while this page was not
// connected is told without a reason.
function tellClockChange(before, message) {
  if (state.status !== 'in_progress') return;
  const end = message.deadlineLabel;
  let text = null;
  if (message.notice && message.notice !== lastServerNotice) {
    // The server says why the end moved (a server outage credited as a system pause); it repeats
    // it to a page that reconnects, which tells it once.
    text = lastServerNotice = message.notice;
  } else if (message.extension) {
    text = S.extended.replace('%(minutes)s', message.extension.minutes)
      .replace('%(reason)s', message.extension.reason).replace('%(end)s', end);
  } else if (before.pausedAt && !state.pausedAt) {
    text = S.resumed.replace('%(end)s', end);
  } else if (message.deadline > before.deadline && !state.pausedAt) {
    text = S.endMoved.replace('%(end)s', end);
  }
  if (text) showNotice(text);
}

function showNotice(text) {
  $('notice-text').textContent = text;
  $('notice').hidden = false;
  $('clock').classList.add('changed');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => $('clock').classList.remove('changed'), 10000);
  announce(text);
}

// A polite live region that is always in the page: text put into a region that appears at the
// same moment is not read by every screen reader.
function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 100);
}

function ping() { link.send({ t: 'ping', c: performance.now() }); }

// The tightest mark passed is said once (a page opened with 3 minutes left says 5, not 10 and 5).
function warnOfTime(left) {
  for (const minutes of WARN_AT_MINUTES) if (left > minutes * 60_000) timeWarned.delete(minutes);
  if (state.status !== 'in_progress' || state.pausedAt || left <= 0) return;
  const passed = WARN_AT_MINUTES.filter((minutes) => left <= minutes * 60_000);
  if (!passed.length) return;
  const tightest = Math.min(...passed);
  if (timeWarned.has(tightest)) return;
  passed.forEach((minutes) => timeWarned.add(minutes));
  showNotice(S.timeWarnings[tightest].replace('%(end)s', $('end-time').textContent));
}

// Said to screen readers: the connection when it changes (not when the page first connects), and
// "all answers saved" once the outbox empties and the candidate has paused for a moment, not at
// every keystroke.
function tellStatus(pending) {
  if (online && toldOnline === null) toldOnline = true;  // the first connection is no news
  else if (toldOnline !== null && toldOnline !== online) { toldOnline = online; announce(online ? S.online : S.offline); }
  clearTimeout(savedTimer);
  if (pending === 0 && sawPending) {
    savedTimer = setTimeout(() => { sawPending = false; announce(S.allSaved); }, 1500);
  } else if (pending > 0) {
    sawPending = true;
  }
}

function showStatus() {
  const pending = store.pending().length;
  const conn = $('conn');
  conn.textContent = online ? S.online : S.offline;
  conn.className = `pill ${online ? 'online' : 'offline'}`;
  const saveState = $('save-state');
  saveState.textContent = pending === 0 ? S.allSaved : S.unsent.replace('%(n)s', pending);
  saveState.className = pending === 0 ? 'saved' : 'pending';
  tellStatus(pending);
  const banner = $('banner');
  const refused = Object.entries(store.refused);
  if (signedOut) {
    showOverlay(S.signedOutTitle, S.signedOut, S.loginUrl, S.signIn);
  } else if (otherTab) {
    showOverlay(S.otherTabTitle, S.otherTab);
  } else if (!state.thisDevice && state.status === 'in_progress' && !state.locked) {
    showOverlay(S.movedTitle, state.lockReason || S.moved);
  } else if (state.locked) {
    showOverlay(S.lockedTitle, state.lockReason, null, undefined, 'locked');
  } else if (state.pausedAt && state.status === 'in_progress') {
    const chat = document.getElementById('chat') ? ` ${S.pausedChat}` : '';
    showOverlay(S.pausedTitle, S.paused.replace('%(reason)s', state.pauseReason) + chat, null, undefined, 'paused');
  } else {
    hideOverlay();
  }
  if (!online && state.status === 'in_progress') {
    banner.hidden = false; banner.className = 'banner offline';
    banner.textContent = S.offlineBanner.replace('%(n)s', pending);
  } else if (refused.length) {
    banner.hidden = false; banner.className = 'banner refused';
    banner.textContent = S.refused.replace('%(items)s', refused.map(([p]) => p).join(', ')) + ' ' + refused[0][1];
  } else {
    banner.hidden = true;
  }
}

// `keep` names an overlay that leaves the proctoring panel (the chat) usable above it: while
// paused or locked the candidate must still be able to write to the proctor.
function showOverlay(title, text, linkHref, linkText = S.seeResult, keep = '') {
  $('overlay').hidden = false;
  if (keep) document.body.dataset.overlay = keep; else delete document.body.dataset.overlay;
  $('overlay-title').textContent = title;
  $('overlay-text').textContent = text || '';
  const a = $('overlay-link');
  a.hidden = !linkHref;
  if (linkHref) { a.href = linkHref; a.textContent = linkText; }
}
function hideOverlay() { $('overlay').hidden = true; delete document.body.dataset.overlay; }

function finished() {
  link.stop();
  clearInterval(ticker);
  if (state.status === 'disqualified') {
    // The reason stays on screen; the result page repeats it.
    showOverlay(S.endedTitle, state.endReason, data.urls.result);
    return;
  }
  showOverlay(S.submittedTitle, S.submitted, data.urls.result);
  setTimeout(() => location.assign(data.urls.result), 1500);
}

function tick() {
  // While paused the clock stands at the pause (R-TAKE-7).
  const left = deadline - (state.pausedAt ?? clock.now());
  $('time-left').textContent = formatLeft(left);
  $('clock').classList.toggle('warning', left < 5 * 60 * 1000);
  warnOfTime(left);
  const over = left <= 0 && state.status === 'in_progress';
  if (over !== $('clock').classList.contains('over')) { $('clock').classList.toggle('over', over); draw(); }
  if (over) {
    $('time-left').textContent = S.timeUp;
    // Once the grace for answers in flight has passed, ask the server to submit.
    if (!deadlineAsked && left <= -graceMs - 500) {
      deadlineAsked = true;
      if (!link.send({ t: 'deadline' })) {
        link.fetchState().then((body) => { if (body) handle({ t: 'state', ...body }); });
      }
      setTimeout(() => { deadlineAsked = false; }, 5000);
    }
  }
}

// --- controls ------------------------------------------------------------------------------------
$('prev').addEventListener('click', () => goTo(current - 1));
$('next').addEventListener('click', () => goTo(current + 1));
// The skip link: straight to the answer (the chosen option, or the first; the text field).
$('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  const area = $('answer');
  const target = area.querySelector('input:checked') || area.querySelector('input, textarea') || area;
  target.focus();
});
$('notice-close').addEventListener('click', () => { $('notice').hidden = true; $('item-title').focus(); });
$('flag').addEventListener('click', () => {
  const a = store.get(current);
  answer(current, a.value, !a.flagged);
  draw();
});
$('finish').addEventListener('click', () => {
  const counts = overview();
  $('finish-summary').textContent = S.finishSummary
    .replace('%(answered)s', counts.answered).replace('%(total)s', total)
    .replace('%(unanswered)s', counts.unanswered).replace('%(flagged)s', counts.flagged);
  $('finish-error').textContent = '';
  $('finish-dialog').showModal();
});
$('finish-cancel').addEventListener('click', () => $('finish-dialog').close());
$('finish-confirm').addEventListener('click', async () => {
  // Every answer must be on the server before finishing; wait for the outbox to empty.
  flush(0);
  const until = performance.now() + 10000;
  while (store.pending().length && performance.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (store.pending().length) {
    $('finish-error').textContent = S.cannotFinishOffline.replace('%(n)s', store.pending().length);
    return;
  }
  link.stop();
  $('finish-form').submit();
});
// ← and → move between items only where the keys mean nothing else: never in a field, an option
// group (radios move between their options with the arrows, as the platform does), a button or
// a link, and never with a modifier (Alt+← is the browser's Back).
const OWN_KEYS = 'input, textarea, select, button, a[href], [contenteditable], [role=radiogroup], [role=group], dialog, .chat';
document.addEventListener('keydown', (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || $('finish-dialog').open) return;
  if (event.target instanceof Element && event.target.closest(OWN_KEYS)) return;
  if (event.key === 'ArrowRight' && current < total) { event.preventDefault(); goTo(current + 1); }
  if (event.key === 'ArrowLeft' && current > 1) { event.preventDefault(); goTo(current - 1); }
});
window.addEventListener('online', () => flush(0));

// One tab per attempt in this browser: the newest takes over, and an older one hands over the
// changes it has not sent yet and stops, so two tabs never number changes independently.
const tabs = 'BroadcastChannel' in window ? new BroadcastChannel(`exam-attempt:${data.attempt}`) : null;
if (tabs) {
  tabs.onmessage = (event) => {
    if (event.data?.t === 'opened' && !otherTab) {
      tabs.postMessage({ t: 'unsent', changes: store.pending() });
      otherTab = true; link.stop(); draw();
      window.dispatchEvent(new CustomEvent('exam:inactive'));  // the proctoring panel stops too
    } else if (event.data?.t === 'unsent' && !otherTab) {
      event.data.changes.forEach((change) => store.adopt(change));
      draw(); flush(0);
    }
  };
  tabs.postMessage({ t: 'opened' });
}

$('end-time').textContent = data.deadlineLabel;
draw();
link.connect();
link.watch();
const ticker = setInterval(tick, 250);
setInterval(ping, 10000);
setInterval(() => { if (store.pending().length) { inflight.clear(); flush(0); } }, 10000);
tick();
if (state.status !== 'in_progress') finished();
