// The server owns the clock (R-TAKE-3). The page measures how far this computer's clock is from
// the server's and shows the time left by the server's clock, whatever the computer says.

export class ServerClock {
  constructor(serverNow) {
    this.offset = serverNow - Date.now();
    this.bestRoundTrip = Infinity;
  }

  // A ping answered: the server's time was `server` when half the round trip had passed.
  sample(sentAt, server) {
    const receivedAt = Date.now();
    const roundTrip = receivedAt - sentAt;
    if (roundTrip <= this.bestRoundTrip || roundTrip < 1000) {
      this.bestRoundTrip = Math.min(this.bestRoundTrip, roundTrip);
      this.offset = server - (sentAt + roundTrip / 2);
    }
  }

  now() { return Date.now() + this.offset; }
}

export function formatLeft(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}
