// The candidate's answers as this browser knows them, kept in localStorage so that a reload,
// a crash or a lost connection loses nothing. Every change gets the next sequence number of the
// attempt; the outbox holds, per item, the newest change the server has not acknowledged yet.

export class AnswerStore {
  constructor(attemptId, serverResponses, serverLastSeq) {
    this.key = `exam-attempt:${attemptId}`;
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(this.key)) || {}; } catch { saved = {}; }
    this.seq = Math.max(saved.seq || 0, serverLastSeq || 0);
    this.answers = saved.answers || {};
    this.outbox = saved.outbox || {};
    this.refused = saved.refused || {};
    // The server's copy wins wherever it is newer; unsent local changes stay.
    for (const [pos, r] of Object.entries(serverResponses || {})) {
      const local = this.answers[pos];
      if (!local || local.seq < r.seq) this.answers[pos] = { value: r.value, flagged: r.flagged, seq: r.seq };
      const pending = this.outbox[pos];
      if (pending && pending.seq <= r.seq) delete this.outbox[pos];
    }
    this.persist();
  }

  persist() {
    try {
      localStorage.setItem(this.key, JSON.stringify({ seq: this.seq, answers: this.answers, outbox: this.outbox, refused: this.refused }));
    } catch { /* storage full or disabled: the server copy is still authoritative */ }
  }

  get(pos) { return this.answers[pos] || { value: null, flagged: false, seq: 0 }; }

  change(pos, value, flagged) {
    const seq = ++this.seq;
    this.answers[pos] = { value, flagged, seq };
    this.outbox[pos] = { pos: Number(pos), seq, value, flagged };
    delete this.refused[pos];
    this.persist();
    return seq;
  }

  pending() { return Object.values(this.outbox); }

  // Refusals that pass: the change stays in the outbox and is sent again later.
  static RETRIED = new Set(['error', 'locked', 'paused']);

  // A change another tab of this browser made and had not sent when this tab took over.
  adopt(change) {
    if (this.get(change.pos).seq >= change.seq) return;
    this.answers[change.pos] = { value: change.value, flagged: change.flagged, seq: change.seq };
    this.outbox[change.pos] = change;
    this.seq = Math.max(this.seq, change.seq);
    this.persist();
  }

  acknowledge(result) {
    for (const [pos, change] of Object.entries(this.outbox)) {
      if (change.seq !== result.seq) continue;
      if (result.ok) delete this.outbox[pos];
      else if (!AnswerStore.RETRIED.has(result.code)) {
        // Refused for good (time up, submitted, another device): keep the reason, stop sending.
        delete this.outbox[pos];
        this.refused[pos] = result.reason;
      }
    }
    this.persist();
  }

  isAnswered(pos) {
    const v = this.get(pos).value;
    return v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0);
  }
}
