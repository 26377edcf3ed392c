// The proctoring panel of the exam page: camera, microphone and screen to the proctor, what to fix,
// and the chat. Answers never go through here: they have their own socket (attempt.js).
import { Chat } from './candidate/chat.js';
import { Monitor, problemsOf } from './candidate/monitor.js';

const data = JSON.parse(document.getElementById('proctoring-data').textContent);
const S = data.strings;
const $ = (id) => document.getElementById(id);

const monitor = new Monitor({ wsPath: data.ws, onMessage: handle, onChange: draw });
const chat = new Chat({ root: $('chat'), strings: S, send: (m) => monitor.send(m) });

function handle(message) {
  if (message.t === 'hello') chat.show(message.messages);
  if (message.t === 'warning') { chat.warn(message); $('chat').scrollIntoView({ block: 'nearest' }); }
  if (message.t === 'message') {
    chat.add(message.message);
    if (message.message.fromProctor) $('chat').scrollIntoView({ block: 'nearest' });
  }
}

function draw() {
  const signals = monitor.signals();
  const problems = problemsOf(signals, monitor.connected, monitor);
  $('fix').hidden = problems.length === 0;
  $('fix').textContent = problems.map((p) => S.fix[p]).filter((v, i, all) => all.indexOf(v) === i).join(' ');
  $('share-screen').hidden = signals.screen && signals.wholeScreen;
}

$('share-screen').addEventListener('click', async () => {
  try { await monitor.useScreen(); } catch (error) { /* the candidate said no: the banner stays */ }
  draw();
});
$('chat').addEventListener('click', () => chat.markRead());

function stopAll() {
  monitor.stop();
  [monitor.camera, monitor.screen].forEach((stream) => stream?.getTracks().forEach((track) => track.stop()));
  document.querySelector('.proctor-panel').hidden = true;
}

// Another tab took over, or the staff moved the attempt to another device: this page must not
// keep sending (it would take the proctor's view from the device the attempt runs on).
window.addEventListener('exam:inactive', stopAll);
if (data.thisDevice) {
  monitor.start();
  monitor.useCamera().then((stream) => { $('self-view').srcObject = stream; }).catch(() => draw());
} else {
  document.querySelector('.proctor-panel').hidden = true;
}
// A reload or the step from the waiting room ends the screen share (browsers allow it only after a
// click): ask at once, and the proctor sees the gap as an incident until it is shared again.
draw();
setInterval(draw, 1000);
// For support staff in the browser console (and the end-to-end tests): the monitor's live state.
window.proctoring = { monitor };
