// The server owns the clock (R-TAKE-3). The page keeps the server's time as an offset from the
// browser's monotonic clock (performance.now), so neither a wrong computer clock nor the computer
// setting its clock mid-exam changes the time left shown.

export class ServerClock {
  constructor(serverNow) {
    this.base = serverNow - performance.now();
    this.bestRoundTrip = Infinity;
  }

  // A ping answered: the server's time was `server` when half the round trip had passed.
  // `sentAt` is the performance.now() at which the ping was sent.
  sample(sentAt, server) {
    const roundTrip = performance.now() - sentAt;
    if (roundTrip <= this.bestRoundTrip || roundTrip < 1000) {
      this.bestRoundTrip = Math.min(this.bestRoundTrip, roundTrip);
      this.base = server - (sentAt + roundTrip / 2);
    }
  }

  now() { return performance.now() + this.base; }
}

export function formatLeft(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}
