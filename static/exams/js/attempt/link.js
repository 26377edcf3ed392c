// The page's connection to the server: a WebSocket that reconnects by itself, with an HTTP
// fallback for saves when the socket cannot connect (some networks block WebSockets).
// A socket can die without closing (a cable pulled, Wi-Fi lost): the page pings every 10 s, and
// a socket silent for longer than SILENCE_MS, or the browser going offline, is dropped and redialled.

const SILENCE_MS = 25000;
// A handshake that never finishes (a stalled proxy, a server too busy to answer) fires no event at
// all, and the page would stay offline for good: past this, it is given up and dialled again.
const HANDSHAKE_MS = 10000;

export class ServerLink {
  constructor({ wsPath, saveUrl, csrfToken, onMessage, onStatus }) {
    Object.assign(this, { wsPath, saveUrl, csrfToken, onMessage, onStatus });
    this.socket = null;
    this.open = false;
    this.failures = 0;
    this.stopped = false;
    this.lastHeard = 0;
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    let socket;
    try {
      socket = new WebSocket(scheme + location.host + this.wsPath);
    } catch (error) {  // never leave the page without a next try
      console.error(error);
      this.redial();
      return;
    }
    this.socket = socket;
    const handshake = setTimeout(() => { if (this.socket === socket && !this.open) this.drop(); }, HANDSHAKE_MS);
    socket.onopen = () => {
      clearTimeout(handshake);
      this.open = true; this.failures = 0; this.lastHeard = performance.now(); this.onStatus(true);
    };
    socket.onmessage = (event) => {
      this.lastHeard = performance.now();
      try { this.onMessage(JSON.parse(event.data)); } catch (e) { console.error(e); }
    };
    socket.onclose = (event) => {
      clearTimeout(handshake);
      if (this.socket !== socket) return;
      this.open = false;
      this.onStatus(false, event.code);
      if (this.stopped || event.code === 4401 || event.code === 4404) return;
      this.redial();
    };
  }

  redial() {
    this.failures += 1;
    setTimeout(() => this.connect(), Math.min(5000, 300 * 2 ** Math.min(this.failures, 5)));
  }

  // Give up on the current socket: it is gone even if the browser has not noticed.
  drop() {
    const socket = this.socket;
    if (!socket || this.stopped) return;
    this.socket = null;
    socket.onopen = socket.onmessage = socket.onclose = null;
    try { socket.close(); } catch { /* already closed */ }
    const wasOpen = this.open;
    this.open = false;
    if (wasOpen) this.onStatus(false);
    this.redial();
  }

  watch() {
    window.addEventListener('offline', () => this.drop());
    setInterval(() => {
      if (this.open && performance.now() - this.lastHeard > SILENCE_MS) this.drop();
    }, 2000);
  }

  send(message) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  // Saves over HTTP; the answer arrives as if it were an ack on the socket.
  async post(changes) {
    const response = await fetch(this.saveUrl, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.csrfToken },
      body: JSON.stringify({ changes }),
    });
    if (response.redirected || !(response.headers.get('content-type') || '').includes('json')) {
      // Sent to the login page: the session is over, not the network.
      this.onStatus(false, 4401);
      throw new Error('signed out');
    }
    if (!response.ok) throw new Error(`save failed: ${response.status}`);
    const body = await response.json();
    this.onMessage({ t: 'ack', results: body.results });
  }

  stop() { this.stopped = true; if (this.socket) this.socket.close(); }
}
