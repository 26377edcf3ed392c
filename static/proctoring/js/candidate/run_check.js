// Runs the whole system check on a page that has templates/proctoring/_checklist.html, and records it.
import { browserFacts, measureUpload, recordCheck, showRow } from './check.js';
import { openCamera, openScreen } from './monitor.js';

export class SystemCheck {
  // `useCamera` / `useScreen` get the streams (the waiting room's Monitor keeps them for the exam).
  constructor({ root, data, csrfToken, useCamera = openCamera, useScreen = openScreen, onDone = () => {} }) {
    Object.assign(this, { root, data, csrfToken, useCamera, useScreen, onDone });
    this.S = data.strings;
    this.result = {};
    this.cameraStream = null;
    this.screenStream = null;
    this.running = null;
    root.querySelector('.share-screen').addEventListener('click', () => this.checkScreen());
    this.again = root.querySelector('.run-again');
    this.again?.addEventListener('click', () => this.run());
  }

  // One run at a time: a second press while the check runs waits for the same result.
  run() {
    if (!this.running) {
      if (this.again) this.again.disabled = true;
      this.running = this.runOnce().finally(() => {
        this.running = null;
        if (this.again) this.again.disabled = false;
      });
    }
    return this.running;
  }

  async runOnce() {
    const { isChrome, isPhone } = browserFacts();
    Object.assign(this.result, { isChrome, isPhone, enrolment: this.data.enrolment });
    showRow(this.root, 'browser', isChrome && !isPhone ? 'ok' : isPhone ? 'bad' : 'warn',
      isPhone ? this.S.problems.phone : isChrome ? 'Chrome' : this.S.problems.not_chrome);
    await this.checkCamera();
    if (!this.screenStream) showRow(this.root, 'screen', 'pending', '');
    await this.checkUpload();
    return this.finish();
  }

  async checkCamera() {
    showRow(this.root, 'camera', 'running', this.S.checking);
    showRow(this.root, 'microphone', 'running', this.S.checking);
    try {
      this.cameraStream = this.cameraStream?.active ? this.cameraStream : await this.useCamera();
    } catch (error) {
      this.cameraStream = null;
    }
    const video = this.cameraStream?.getVideoTracks()[0];
    const audio = this.cameraStream?.getAudioTracks()[0];
    this.result.camera = video?.readyState === 'live';
    this.result.microphone = audio?.readyState === 'live';
    showRow(this.root, 'camera', this.result.camera ? 'ok' : 'bad', this.result.camera ? this.S.ok : this.S.problems.camera);
    showRow(this.root, 'microphone', this.result.microphone ? 'ok' : 'bad', this.result.microphone ? this.S.ok : this.S.problems.microphone);
    const selfView = document.getElementById('self-view');
    if (selfView && this.cameraStream) selfView.srcObject = this.cameraStream;
  }

  async checkScreen() {
    showRow(this.root, 'screen', 'running', this.S.checking);
    try {
      this.screenStream = await this.useScreen();
    } catch (error) {
      this.screenStream = null;
    }
    const track = this.screenStream?.getVideoTracks()[0];
    const surface = track?.getSettings?.().displaySurface;
    this.result.screen = track?.readyState === 'live' && (surface === undefined || surface === 'monitor');
    showRow(this.root, 'screen', this.result.screen ? 'ok' : 'bad', this.result.screen ? this.S.ok : this.S.problems.screen);
    if (track) track.addEventListener('ended', () => { this.result.screen = false; showRow(this.root, 'screen', 'bad', this.S.problems.screen); });
    if ('upload' in this) await this.finish();
  }

  async checkUpload() {
    showRow(this.root, 'upload', 'running', this.S.checking);
    let measured = null;
    try {
      measured = await measureUpload(this.data.urls.upload, this.csrfToken);
    } catch (error) {
      measured = null;
    }
    this.result.uploadMbps = measured ? measured.mbps : null;
    this.result.uploadGoodputMbps = measured ? measured.goodputMbps : null;
    this.result.uploadLatencyMs = measured ? measured.latencyMs : null;
    this.upload = this.result.uploadMbps;
    // The server decides (PASSING_UPLOAD_MBPS: 4 Mbps less the measurement's tolerance); the row
    // shows the figure the decision is made on.
    const ok = measured !== null && measured.mbps >= this.data.passingUploadMbps;
    const label = measured === null ? this.S.notOk : this.S.mbps.replace('%(n)s', measured.mbps.toFixed(1));
    showRow(this.root, 'upload', ok ? 'ok' : 'bad', ok ? label : `${label} — ${this.S.problems.upload}`);
  }

  async finish() {
    const body = await recordCheck(this.data.urls.result, this.csrfToken, { ...this.result, screen: Boolean(this.result.screen) });
    const verdict = this.root.querySelector('#check-verdict');
    verdict.hidden = false;
    verdict.className = `verdict ${body.passed ? 'ok' : 'bad'}`;
    verdict.textContent = body.passed ? this.S.passed : this.S.failed;
    const list = this.root.querySelector('#check-problems');
    list.replaceChildren(...(body.problems || []).map((code) => {
      const item = document.createElement('li');
      item.textContent = this.S.problems[code] || code;
      return item;
    }));
    this.onDone(body);
    return body;
  }
}
