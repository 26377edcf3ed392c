// A proctor's view of one candidate: receive-only, camera and screen (grid: small and slow;
// focus: full size, plus the microphone). The server answers even before the candidate publishes
// and keeps the tracks flowing across the candidate's reconnects: nothing to redo on this side
// unless this connection itself fails (onState "failed" → call view() again).

import { peerConfiguration, waitForIceGathering } from './publisher.js';

let lastViewId = 0;

// view({ session, quality, signal, onTrack, onState, ice }) → { pc, viewId, close() }
//   signal({ sdp, session, quality, viewId }) → Promise<{ sdp }>;
//   onTrack(kind, MediaStream) with kind "camera" | "screen" | "audio", one stream per kind.
export async function view({ session, quality = 'grid', signal, onTrack, onState = () => {}, ice = null }) {
  const pc = new RTCPeerConnection(peerConfiguration(ice));
  const kinds = quality === 'focus' ? ['camera', 'screen', 'audio'] : ['camera', 'screen'];
  // The server fills the video transceivers in order: camera first, then screen.
  const transceivers = kinds.map((kind) =>
    pc.addTransceiver(kind === 'audio' ? 'audio' : 'video', { direction: 'recvonly' }));
  pc.addEventListener('track', (event) => {
    const kind = kinds[transceivers.indexOf(event.transceiver)];
    // Not event.streams[0]: the server puts every track of a connection in one stream.
    if (kind) onTrack(kind, new MediaStream([event.track]));
  });
  pc.addEventListener('connectionstatechange', () => onState(pc.connectionState));
  lastViewId += 1;
  const viewId = `${quality}-${session}-${Date.now().toString(36)}-${lastViewId}`;
  const close = () => {
    if (pc.signalingState !== 'closed') {
      pc.close();
      onState('closed');
    }
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc);
    const answer = await signal({ sdp: pc.localDescription.sdp, session, quality, viewId });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  } catch (error) {
    close();
    throw error;
  }
  return { pc, viewId, close };
}
