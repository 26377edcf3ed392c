// The page's connection to the server: a WebSocket that redials by itself, and an HTTP fallback
// for saves while the socket stays down (some networks block WebSockets; a server restarting).
//
// The rules (issue 11; bench/ has a page simulator that follows the same ones):
// - The page is signed out ONLY when the server says so: a socket closed with 4401, or an HTTP 401
//   whose JSON says `signedOut`. An HTML page, a redirect, a 5xx, a network error or a timeout is a
//   failure to retry: an overloaded or restarting server answers like that, and 491 of 500 pages
//   signed themselves out when they read it as the end of the session.
// - Redial after uniform(0.5, 1) × min(4 s, 250 ms × 2^n), n = dials since the socket was last
//   open (at most 5): the jitter spreads hundreds of pages over the window after a server restart.
// - HTTP saves only once the socket has been down for 5 s, one request at a time, and after a
//   failure not before min(15 s, 3 s × 2^k) jittered (k = failures before this one), or the
//   server's Retry-After. Falling back at once kept 500 pages on HTTP, which overloaded the server
//   and kept the sockets down; a brief drop is bridged by the socket alone.
// - Any JSON answer over HTTP, even an error, means the server is up: the socket is dialled at once.
// A socket can die without closing (a cable pulled, Wi-Fi lost): the page pings every 10 s, and a
// socket silent for longer than SILENCE_MS, or the browser going offline, is dropped and redialled.

const SILENCE_MS = 25000;
// A handshake that never finishes (a stalled proxy, a server too busy to answer) fires no event at
// all, and the page would stay offline for good: past this, it is given up and dialled again.
const HANDSHAKE_MS = 10000;
const REDIAL_BASE_MS = 250;
const REDIAL_MAX_MS = 4000;
const FALLBACK_AFTER_MS = 5000;
const HTTP_BASE_MS = 3000;
const HTTP_MAX_MS = 15000;
// A request that hangs would hold the page's one HTTP slot for good; it counts as a failure.
const HTTP_TIMEOUT_MS = 20000;

const jitter = (ms) => ms * (0.5 + Math.random() / 2);

export class ServerLink {
  // onEnd(reason): the server ended this page's link, 'signedOut' or 'reload' (a stale CSRF token,
  // an attempt that is gone); the answers not sent yet are in localStorage.
  constructor({ wsPath, saveUrl, stateUrl, csrfToken, onMessage, onStatus, onEnd }) {
    Object.assign(this, { wsPath, saveUrl, stateUrl, csrfToken, onMessage, onStatus, onEnd });
    this.socket = null;       // dialling or open
    this.open = false;
    this.failures = 0;        // dials since the socket was last open
    this.redialTimer = null;
    this.stopped = false;
    this.lastHeard = 0;
    this.downSince = performance.now();  // not open yet counts as down
    this.posting = false;
    this.httpFailures = 0;
    this.postNotBefore = 0;
  }

  connect() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.redialTimer);
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
      this.open = true; this.failures = 0; this.downSince = null; this.lastHeard = performance.now();
      this.onStatus(true);
    };
    socket.onmessage = (event) => {
      this.lastHeard = performance.now();
      try { this.onMessage(JSON.parse(event.data)); } catch (e) { console.error(e); }
    };
    socket.onclose = (event) => {
      clearTimeout(handshake);
      if (this.socket !== socket) return;
      this.socket = null;
      this.lostOpen();
      if (event.code === 4401) return this.end('signedOut');
      if (event.code === 4404) return this.end('reload');
      this.onStatus(false, event.code);
      this.redial();
    };
  }

  redial() {
    if (this.stopped) return;
    const n = Math.min(this.failures, 5);
    this.failures += 1;
    clearTimeout(this.redialTimer);
    this.redialTimer = setTimeout(() => this.connect(), jitter(Math.min(REDIAL_MAX_MS, REDIAL_BASE_MS * 2 ** n)));
  }

  // The server answered over HTTP, so it is up: dial now rather than at the end of the back-off.
  dialNow() {
    if (!this.stopped && !this.socket) this.connect();
  }

  lostOpen() {
    if (!this.open) return;
    this.open = false;
    this.downSince = performance.now();
  }

  // Give up on the current socket: it is gone even if the browser has not noticed.
  drop() {
    const socket = this.socket;
    if (!socket || this.stopped) return;
    this.socket = null;
    socket.onopen = socket.onmessage = socket.onclose = null;
    try { socket.close(); } catch { /* already closed */ }
    const wasOpen = this.open;
    this.lostOpen();
    if (wasOpen) this.onStatus(false);
    this.redial();
  }

  watch() {
    window.addEventListener('offline', () => this.drop());
    window.addEventListener('online', () => this.dialNow());
    setInterval(() => {
      if (this.open && performance.now() - this.lastHeard > SILENCE_MS) this.drop();
    }, 2000);
  }

  send(message) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  // Milliseconds until an HTTP save may go (0: now), or null while one is in flight (its end
  // calls back) or the socket is open.
  postWait() {
    if (this.open || this.posting || this.stopped) return null;
    const now = performance.now();
    return Math.max(0, this.downSince + FALLBACK_AFTER_MS - now, this.postNotBefore - now);
  }

  // Saves over HTTP; the answer arrives as if it were an ack on the socket. Resolves to whether
  // the changes were answered; never rejects.
  async post(changes) {
    this.posting = true;
    let body;
    try {
      body = await this.ask(this.saveUrl, {
        method: 'POST', body: JSON.stringify({ changes }),
        headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.csrfToken },
      });
    } finally {
      this.posting = false;
    }
    if (!Array.isArray(body?.results)) return false;
    this.onMessage({ t: 'ack', results: body.results });
    return true;
  }

  // The attempt's state over HTTP (the clock, once the time is up and the socket is down).
  fetchState() { return this.ask(this.stateUrl); }

  // One HTTP request: resolves to the JSON body of a 2xx answer, or null; acts on the answers that
  // mean something (signed out, a stale CSRF token) and sets the back-off for the others.
  async ask(url, init = {}) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), HTTP_TIMEOUT_MS);
    let response;
    let body;
    try {
      response = await fetch(url, {
        ...init, credentials: 'same-origin', signal: timeout.signal,
        // A redirect is not followed: the login page (or a proxy's page) is not an answer to a save.
        redirect: 'manual',
        headers: { Accept: 'application/json', ...init.headers },
      });
      // An HTML error page, or an opaque redirect, is a failure like a network error.
      if (!(response.headers.get('content-type') || '').includes('application/json')) return this.failed(response);
      body = await response.json();
    } catch {  // network error, timeout, or a body that is not JSON after all
      return this.failed(response);
    } finally {
      clearTimeout(timer);
    }
    this.dialNow();
    if (response.ok) { this.httpFailures = 0; return body; }
    if (response.status === 401 && body?.signedOut === true) { this.end('signedOut'); return null; }
    if (response.status === 403 && body?.code === 'csrf') { this.end('reload'); return null; }
    return this.failed(response, body);
  }

  failed(response, body) {
    const retryAfter = Number(response?.headers.get('Retry-After') ?? body?.retryAfter);
    const wait = Number.isFinite(retryAfter) && retryAfter >= 0
      ? retryAfter * 1000
      : jitter(Math.min(HTTP_MAX_MS, HTTP_BASE_MS * 2 ** Math.min(this.httpFailures, 3)));
    this.httpFailures += 1;
    this.postNotBefore = performance.now() + wait;
    return null;
  }

  end(reason) {
    if (this.stopped) return;
    this.stop();
    this.onStatus(false);
    this.onEnd(reason);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.redialTimer);
    if (this.socket) this.socket.close();
  }
}
