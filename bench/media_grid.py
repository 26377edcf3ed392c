"""`python bench/media_grid.py`: the media server's CPU per candidate with a proctor watching the grid.

For each N in BENCH_MEDIA_CANDIDATES (default 10,20):
1. a real `manage.py media_server` on Redis (REDIS_URL, default redis://127.0.0.1:6379/5; nothing
   is flushed), evidence under bench/out/media-evidence/;
2. N synthetic candidates in two load processes (bench/media/load.py), each publishing what
   publisher.js publishes — camera 640x480@15 fps ~480 kbps, screen 1280x720@5 fps ~720 kbps,
   their grid copies 160x120@3 and 320x180@1, Opus 32 kbps — from clips encoded once
   (bench/media/clips.py), so the load costs packetizing, not encoding;
3. one proctor process viewing all N grid views (it receives and decodes 2N small streams);
4. after 5 s of settling, the media server's CPU time (utime+stime of all its threads, from
   /proc/<pid>/stat) over BENCH_MEDIA_SECONDS (default 20);
5. for the first N, a second proctor opens every candidate in focus too (camera, screen and
   microphone at full size); the extra CPU over a second window, divided by N, is the focus line
   (one view's ~1 % is below the noise of comparing two windows; N of them are not).
The load and proctor processes run on the same two cores as the server: nothing is subtracted.
Stills (every PROCTORING_STILL_SECONDS) and recordings run as in production, the evidence hook of
the settings included (the bench's sessions are not enrolments, so it only logs; LOG_LEVEL=ERROR
keeps that quiet).

Prints, per N and once for focus:
  BENCH media_grid_<N> <% of one core per candidate> %core/candidate ratio=<candidates per core / 20> candidates_per_core=<x>
  BENCH media_focus <extra % of one core> %core ratio=<5 / extra: ≥ 1 means one focus view costs
      less than one candidate's share at 20 per core>
Details (the load processes' CPU, frames the proctor got, stills written) go to stderr as "# …"
lines; "# PROBLEM: …" lines and exit status 1 if the proctor got under 80 % of the grid frames
or stills were missing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from processes import CHILDREN, end_all

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
COUNTS = [int(n) for n in os.environ.get("BENCH_MEDIA_CANDIDATES", "10,20").split(",")]
WINDOW = float(os.environ.get("BENCH_MEDIA_SECONDS", "20"))
SETTLE = 5.0
TARGET_PER_CORE = 20
FOCUS_BUDGET = 100 / TARGET_PER_CORE  # % of a core: one candidate's share at 20 per core
GRID_FPS = 3 + 1  # camera_grid + screen_grid frames a second per candidate (bench/media/clips.py)
STILL_SECONDS = 5

PROBLEMS: list[str] = []


class Child:
    """A child process in its own process group, its stdout lines collected by a thread."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        CHILDREN.append(self.process)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.lines[-30:])
                raise SystemExit(f"bench: no {text!r} from {' '.join(self.process.args[:4])}…\n{tail}")
            time.sleep(0.1)

    def last_number(self, prefix: str) -> int:
        for line in reversed(self.lines):
            if line.startswith(prefix):
                return int(line.split()[-1])
        return 0

    @property
    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def end_children() -> None:
    # The media server gets longer than the bench's usual 8 s to close its peer connections.
    end_all(grace=15.0)


def environment(group: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    env.update(DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
               MEDIA_ROOT=str(OUT / "media-evidence"), LOG_LEVEL="ERROR", BENCH_MEDIA_GROUP=group,
               DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or "bench-secret-key-not-for-production-0123456789abcdef")
    return env


def stills_written(since: float) -> int:
    root = OUT / "media-evidence" / "evidence"
    if not root.exists():
        return 0
    return sum(1 for path in root.rglob("*.jpg") if path.stat().st_mtime >= since)


def measure(server: Child, others: list[Child], seconds: float) -> tuple[float, dict[str, float]]:
    """Return the server's CPU seconds over `seconds`, and the others' by name."""
    before = server.cpu, [child.cpu for child in others]
    time.sleep(seconds)
    after = server.cpu, [child.cpu for child in others]
    return after[0] - before[0], {
        " ".join(child.process.args[3:5]): a - b for child, a, b in zip(others, after[1], before[1], strict=True)
    }


def run_grid(count: int, *, with_focus: bool) -> None:
    group = f"bench-media-{uuid.uuid4().hex[:8]}"
    env = environment(group)
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    sessions = [f"{prefix}-{i}" for i in range(count)]
    server = Child([PYTHON, "manage.py", "media_server"], env)
    server.wait_for("media server ready", 60)
    half = count // 2
    loads = [Child([PYTHON, "-m", "bench.media.load", "candidates", str(first), str(size), prefix], env)
             for first, size in ((0, half), (half, count - half)) if size]
    for load in loads:
        load.wait_for("ready", 60 + 3 * count)
    proctor = Child([PYTHON, "-m", "bench.media.load", "proctor", "grid", *sessions], env)
    proctor.wait_for("frames", 60)
    time.sleep(SETTLE)

    started, frames_before = time.time(), proctor.last_number("frames")
    cpu, others = measure(server, [*loads, proctor], WINDOW)
    frames = proctor.last_number("frames") - frames_before
    stills = stills_written(started)
    per_candidate = 100 * cpu / WINDOW / count
    per_core = 100 / per_candidate
    print(f"BENCH media_grid_{count} {per_candidate:.2f} %core/candidate ratio={per_core / TARGET_PER_CORE:.2f} "
          f"candidates_per_core={per_core:.1f}", flush=True)
    expected_frames = count * GRID_FPS * WINDOW
    expected_stills = count * 2 * WINDOW / STILL_SECONDS
    print(f"# media_grid_{count}: server {100 * cpu / WINDOW:.1f}% of a core; "
          + "; ".join(f"{name} {100 * seconds / WINDOW:.1f}%" for name, seconds in others.items())
          + f"; proctor got {frames}/{expected_frames:.0f} grid frames; {stills}/{expected_stills:.0f} stills",
          file=sys.stderr, flush=True)
    if frames < 0.8 * expected_frames:
        PROBLEMS.append(f"media_grid_{count}: the proctor got {frames} of {expected_frames:.0f} grid frames")
    if stills < 0.7 * expected_stills:
        PROBLEMS.append(f"media_grid_{count}: {stills} stills written, {expected_stills:.0f} expected")

    if with_focus:
        # One focus view adds ~1 % of a core, under the noise of two 20 s windows (stills come in
        # bursts every 5 s): open one on every candidate and divide, for a signal N times larger.
        focus = Child([PYTHON, "-m", "bench.media.load", "proctor", "focus", *sessions], env)
        focus.wait_for("frames", 60)
        time.sleep(SETTLE)
        frames_before = focus.last_number("frames")
        cpu_focus, _ = measure(server, [focus], WINDOW)
        extra = 100 * (cpu_focus - cpu) / WINDOW / count
        focus_frames = (focus.last_number("frames") - frames_before) / count
        print(f"BENCH media_focus {extra:.2f} %core ratio={FOCUS_BUDGET / max(extra, 0.01):.2f}", flush=True)
        print(f"# media_focus: server {100 * cpu_focus / WINDOW:.1f}% of a core with {count} candidates in grid "
              f"and each also in focus; a focus viewer got {focus_frames / WINDOW:.1f} video frames/s (20 sent)",
              file=sys.stderr, flush=True)
        if focus_frames < 0.8 * 20 * WINDOW:
            PROBLEMS.append(f"media_focus: a focus viewer got {focus_frames:.0f} video frames in {WINDOW:.0f} s")
    end_children()


def main() -> int:
    from bench.media.clips import ensure_clips  # noqa: PLC0415 - after sys.path is set

    ensure_clips()
    try:
        for index, count in enumerate(COUNTS):
            run_grid(count, with_focus=index == 0)
    finally:
        end_children()
    for problem in PROBLEMS:
        print(f"# PROBLEM: {problem}", flush=True)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
