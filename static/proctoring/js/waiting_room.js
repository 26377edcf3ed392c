// The waiting room (R-PROC-1): the system check again, the camera for the ID card and the room,
// the proctor's decision, and Start once admitted and the room has started.
import { Chat } from './candidate/chat.js';
import { Monitor, problemsOf } from './candidate/monitor.js';
import { SystemCheck } from './candidate/run_check.js';

const data = JSON.parse(document.getElementById('room-data').textContent);
const S = data.strings;
const $ = (id) => document.getElementById(id);
const csrfToken = document.querySelector('#start-form input[name=csrfmiddlewaretoken]').value;
let checkin = { status: data.checkin, reason: data.reason };
let room = data.room;
let checkPassed = false;

const monitor = new Monitor({ wsPath: data.ws, onMessage: handle, onChange: draw });
const chat = new Chat({ root: $('chat'), strings: S, send: (m) => monitor.send(m) });
const check = new SystemCheck({
  root: document.querySelector('main'), data, csrfToken,
  useCamera: () => monitor.useCamera(), useScreen: () => monitor.useScreen(),
  onDone: (result) => { checkPassed = result.passed; draw(); },
});

function handle(message) {
  switch (message.t) {
    case 'hello':
      checkin = { status: message.checkin, reason: message.reason }; room = message.room;
      chat.show(message.messages);
      if (message.attempt) location.reload();  // started on another tab: the server redirects to it
      break;
    case 'checkin': checkin = { status: message.status, reason: message.reason }; break;
    case 'room': room = message.stage; break;
    case 'message': chat.add(message.message); break;
    case 'warning': chat.warn(message); break;
    case 'refused': if (message.code === 4401) location.assign('/login/'); break;
    default: break;
  }
  draw();
}

function draw() {
  const signals = monitor.signals();
  const problems = problemsOf(signals, monitor.connected, monitor).filter((p) => p !== 'focused' && p !== 'visible');
  $('fix').hidden = problems.length === 0;
  $('fix').textContent = problems.map((p) => S.fix[p]).join(' ');
  const text = S.checkin[checkin.status] || '';
  $('checkin-status').textContent = text.replace('%(reason)s', checkin.reason || '');
  $('checkin-status').dataset.state = checkin.status;
  $('room-status').textContent = S.room[room] || '';
  const ready = checkin.status === 'admitted' && room === 'started' && signals.camera && signals.screen && signals.wholeScreen;
  $('start').disabled = !ready;
}

$('chat').addEventListener('click', () => chat.markRead());
$('start-form').addEventListener('submit', () => { monitor.stop(); });
monitor.start();
check.run();
setInterval(draw, 1000);
