// A candidate's camera, microphone and whole screen, sent to the media server on one connection.
//
// Besides camera and screen at modest settings, the page sends a small, slow copy of each
// ("camera_grid", "screen_grid"): the browser encodes them, so the server can hand a proctor's
// grid small pictures without decoding or encoding anything per candidate.

const CAMERA = { width: 640, height: 480, frameRate: 15, maxBitrate: 500_000 };
const SCREEN = { width: 1280, height: 720, frameRate: 5, maxBitrate: 800_000 };
const CAMERA_GRID = { width: 160, frameRate: 3, maxBitrate: 60_000 };
const SCREEN_GRID = { width: 320, frameRate: 1, maxBitrate: 100_000 };
const AUDIO_MAX_BITRATE = 32_000;
// aiortc answers only once it has the whole offer: no trickle ICE, so wait for all candidates.
const ICE_GATHERING_TIMEOUT_MS = 5000;

export async function getCamera() {
  return navigator.mediaDevices.getUserMedia({
    video: {
      width: { ideal: CAMERA.width },
      height: { ideal: CAMERA.height },
      frameRate: { ideal: CAMERA.frameRate, max: CAMERA.frameRate },
    },
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
}

// Returns { stream, surface, wholeScreen }: the browser may let the candidate pick a window or a
// tab despite the preference; wholeScreen is true only when it says the surface is a monitor.
export async function getScreen() {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: {
      displaySurface: 'monitor',
      width: { max: SCREEN.width },
      height: { max: SCREEN.height },
      frameRate: { max: SCREEN.frameRate },
    },
    audio: false,
    monitorTypeSurfaces: 'include',
    selfBrowserSurface: 'exclude',
    surfaceSwitching: 'exclude',
    systemAudio: 'exclude',
  });
  const [track] = stream.getVideoTracks();
  const surface = track ? track.getSettings().displaySurface : undefined;
  return { stream, surface, wholeScreen: surface === 'monitor' };
}

// One bundled transport; the ICE servers and policy the server handed over, if any (a network that
// blocks UDP or direct paths reaches the media server only through the TURN server's relay).
export function peerConfiguration(ice) {
  return {
    bundlePolicy: 'max-bundle',
    iceServers: ice?.servers || [],
    iceTransportPolicy: ice?.policy === 'relay' ? 'relay' : 'all',
  };
}

export function waitForIceGathering(pc, timeoutMs = ICE_GATHERING_TIMEOUT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      clearTimeout(timer);
      resolve();
    };
    // Past the timeout, send what was gathered: host candidates come first and are enough here.
    const timer = setTimeout(() => {
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    }, timeoutMs);
    pc.addEventListener('icegatheringstatechange', done);
  });
}

function scaleTo(track, width) {
  const actual = track.getSettings().width || width;
  return Math.max(1, actual / width);
}

// publish({ camera, screen, signal, onState }) → { pc, close() }
//   camera: MediaStream with a video and an audio track (getCamera); screen: MediaStream
//   (getScreen().stream) or null; signal({ sdp, kinds }) → Promise<{ sdp }> carries the offer to
//   the server; onState(connectionState) on every change ("closed" after close());
//   ice: { servers, policy } from the server's hello (STUN, TURN with a fresh credential).
// Publishing again (after "failed", a reload, a new screen) replaces the server's connection.
export async function publish({ camera, screen = null, signal, onState = () => {}, ice = null }) {
  const pc = new RTCPeerConnection(peerConfiguration(ice));
  const sent = [];
  const copies = [];
  const add = (track, kind, encoding, degradationPreference) => {
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', sendEncodings: [encoding] });
    sent.push([transceiver, kind]);
    if (degradationPreference) {
      const parameters = transceiver.sender.getParameters();
      parameters.degradationPreference = degradationPreference;
      transceiver.sender.setParameters(parameters).catch(() => {}); // a hint; not every browser has it
    }
  };

  const [cameraTrack] = camera ? camera.getVideoTracks() : [];
  const [micTrack] = camera ? camera.getAudioTracks() : [];
  const [screenTrack] = screen ? screen.getVideoTracks() : [];
  if (cameraTrack) {
    add(cameraTrack, 'camera', { maxBitrate: CAMERA.maxBitrate, maxFramerate: CAMERA.frameRate }, 'balanced');
    const small = cameraTrack.clone();
    copies.push(small);
    add(small, 'camera_grid', {
      maxBitrate: CAMERA_GRID.maxBitrate,
      maxFramerate: CAMERA_GRID.frameRate,
      scaleResolutionDownBy: scaleTo(cameraTrack, CAMERA_GRID.width),
    });
  }
  if (micTrack) add(micTrack, 'audio', { maxBitrate: AUDIO_MAX_BITRATE });
  if (screenTrack) {
    screenTrack.contentHint = 'detail'; // text stays sharp; the frame rate gives way first
    add(screenTrack, 'screen', { maxBitrate: SCREEN.maxBitrate, maxFramerate: SCREEN.frameRate }, 'maintain-resolution');
    const small = screenTrack.clone();
    copies.push(small);
    add(small, 'screen_grid', {
      maxBitrate: SCREEN_GRID.maxBitrate,
      maxFramerate: SCREEN_GRID.frameRate,
      scaleResolutionDownBy: scaleTo(screenTrack, SCREEN_GRID.width),
    });
  }

  pc.addEventListener('connectionstatechange', () => onState(pc.connectionState));
  const close = () => {
    copies.forEach((track) => track.stop());
    if (pc.signalingState !== 'closed') {
      pc.close();
      onState('closed');
    }
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc);
    const kinds = Object.fromEntries(sent.map(([transceiver, kind]) => [transceiver.mid, kind]));
    const answer = await signal({ sdp: pc.localDescription.sdp, kinds });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  } catch (error) {
    close();
    throw error;
  }
  return { pc, close };
}
