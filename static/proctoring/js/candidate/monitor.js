// The candidate's side of the live room, shared by the waiting room and the exam page:
// camera, microphone and whole-screen share sent to the media server over one peer connection,
// the signals the proctor must see (R-PROC-3), and the chat with the proctor.
// The proctoring socket reconnects by itself; after every reconnect the media is published again,
// because the server hangs up a socket's peer connections when the socket goes.
import { ServerLink } from '../../../exams/js/attempt/link.js';
import { publish } from '../media/publisher.js';

const HEARTBEAT_MS = 10000;
const REPUBLISH_MS = 3000;
const FIRST_CONNECT_MS = 8000;  // from the page's load

export async function openCamera() {
  return navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15, max: 15 } },
    audio: { echoCancellation: true, noiseSuppression: true },
  });
}

// Must run from a click: browsers allow screen capture only on a user gesture.
export async function openScreen() {
  return navigator.mediaDevices.getDisplayMedia({
    video: { displaySurface: 'monitor', frameRate: { ideal: 5, max: 5 } },
    audio: false, monitorTypeSurfaces: 'include', selfBrowserSurface: 'exclude', surfaceSwitching: 'exclude',
  });
}

const live = (track) => Boolean(track && track.readyState === 'live' && track.enabled);

export class Monitor {
  constructor({ wsPath, onMessage = () => {}, onChange = () => {} }) {
    this.onMessage = onMessage;   // every message of the socket, after the monitor's own handling
    this.onChange = onChange;     // signals, connection or media state changed: redraw
    this.camera = null;
    this.screen = null;
    // What this page has been through, so that it tells "not yet" from "lost" (issue 10, points 7
    // and 9): a page that has not yet opened its camera reports nothing about it, and the candidate
    // is asked to share the screen, not told they stopped, until a share of this page has ended.
    this.cameraAsked = false;   // the camera request has been answered (granted or refused)
    this.screenEnded = false;   // a screen share of this page ended
    this.everConnected = false;
    this.connected = false;
    this.mediaState = 'new';
    this.publication = null;
    this.ice = null;             // the ICE servers of the last hello
    this.answerWaiter = null;
    this.lastReport = '';
    this.link = new ServerLink({
      wsPath, saveUrl: null, csrfToken: null,
      onMessage: (message) => this.handle(message),
      onStatus: (open) => {
        this.connected = open;
        if (open) this.everConnected = true;
        // Publishing waits for the server's hello, which carries the ICE servers (handle).
        if (open) { this.lastReport = ''; this.report(); }
        this.onChange();
      },
    });
    for (const event of ['visibilitychange', 'focus', 'blur']) {
      (event === 'visibilitychange' ? document : window).addEventListener(event, () => this.report());
    }
  }

  start() {
    this.link.connect();
    this.link.watch();
    setInterval(() => { this.link.send({ t: 'ping' }); this.report(true); }, HEARTBEAT_MS);
  }

  async useCamera() {
    try {
      this.camera = await openCamera();
    } finally {
      this.cameraAsked = true;
    }
    this.camera.getTracks().forEach((track) => { track.onended = () => { this.report(); this.onChange(); }; });
    this.report(); this.republish(); this.onChange();
    return this.camera;
  }

  async useScreen() {
    const screen = await openScreen();
    if (this.screen) this.screen.getTracks().forEach((track) => track.stop());
    this.screen = screen;
    screen.getVideoTracks()[0].onended = () => { this.screenEnded = true; this.report(); this.onChange(); };
    this.report(); this.republish(); this.onChange();
    return screen;
  }

  signals() {
    const screenTrack = this.screen?.getVideoTracks()[0];
    const surface = screenTrack?.getSettings?.().displaySurface;
    // Until the camera request is answered the page knows nothing of camera and microphone, and
    // says nothing: the server keeps what the page before this one (a reload) reported.
    const devices = this.cameraAsked ? {
      camera: live(this.camera?.getVideoTracks()[0]),
      microphone: live(this.camera?.getAudioTracks()[0]),
    } : {};
    return {
      ...devices,
      screen: live(screenTrack),
      // A browser that does not say what is shared is given the benefit of the doubt.
      wholeScreen: live(screenTrack) && (surface === undefined || surface === 'monitor'),
      visible: document.visibilityState === 'visible',
      focused: document.hasFocus(),
    };
  }

  // Tell the server the page's state when it changes (or, with `always`, as a heartbeat).
  report(always = false) {
    const state = this.signals();
    const text = JSON.stringify(state);
    if (!always && text === this.lastReport) return;
    if (this.link.send({ t: 'signals', state })) this.lastReport = text;
    this.onChange();
  }

  handle(message) {
    if (message.t === 'hello') {
      this.ice = message.ice;
      this.republish();
    }
    if (message.t === 'media.answer' || message.t === 'media.error') {
      const waiter = this.answerWaiter;
      this.answerWaiter = null;
      if (waiter) (message.t === 'media.answer' ? waiter.resolve(message) : waiter.reject(new Error(message.reason)));
      return;
    }
    this.onMessage(message);
  }

  // The signalling function publisher.js calls: the offer goes over the socket, the answer comes back.
  signal(offer) {
    return new Promise((resolve, reject) => {
      if (this.answerWaiter) this.answerWaiter.reject(new Error('superseded'));
      this.answerWaiter = { resolve, reject };
      if (!this.link.send({ t: 'media.offer', sdp: offer.sdp, kinds: offer.kinds })) {
        this.answerWaiter = null;
        reject(new Error('offline'));
      }
      setTimeout(() => { if (this.answerWaiter?.resolve === resolve) { this.answerWaiter = null; reject(new Error('no answer')); } }, 15000);
    });
  }

  // Publish what we have (again): after a reconnect, a new screen share, or a failed connection.
  async republish() {
    clearTimeout(this.retryTimer);
    if (!this.connected || !this.camera) return;
    const previous = this.publication;
    this.publication = null;
    if (previous) previous.close();
    try {
      this.mediaState = 'connecting';
      const publication = await publish({
        camera: this.camera, screen: this.screen, signal: (offer) => this.signal(offer), ice: this.ice,
        onState: (state) => {
          if (this.publication !== publication) return;
          this.mediaState = state;
          this.onChange();
          if (state === 'failed' || state === 'closed') this.retryLater();
        },
      });
      this.publication = publication;
    } catch (error) {
      this.mediaState = 'failed';
      this.retryLater();
    }
    this.onChange();
  }

  retryLater() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.republish(), REPUBLISH_MS);
  }

  send(message) { return this.link.send(message); }

  // Leaving the page on purpose (the exam starts): nothing to reconnect.
  stop() {
    this.link.stop();
    if (this.publication) this.publication.close();
  }
}

// What the candidate must fix now, as keys of strings.fix, most important first. `history` is the
// monitor (cameraAsked, screenEnded, everConnected): nothing is "lost" that this page never had.
export function problemsOf(signals, connected, history = { cameraAsked: true, screenEnded: true, everConnected: true }) {
  const problems = [];
  // Before the first connection the page is connecting, not disconnected, unless that takes long.
  if (!connected && (history.everConnected || performance.now() > FIRST_CONNECT_MS)) problems.push('offline');
  if (history.cameraAsked && !signals.camera) problems.push('camera');
  if (history.cameraAsked && !signals.microphone) problems.push('microphone');
  if (!signals.screen) problems.push(history.screenEnded ? 'screen' : 'screenNeeded');
  else if (!signals.wholeScreen) problems.push('wholeScreen');
  if (!signals.visible) problems.push('visible');
  else if (!signals.focused) problems.push('focused');
  return problems;
}
