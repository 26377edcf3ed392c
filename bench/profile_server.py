"""Daphne under pyinstrument: where the server's event-loop thread spends its time under load.

    profile_server.py OUT_TEXT_FILE DAPHNE_ARGS…

Runs Daphne's own command line in this process with the profiler on the main thread, which is
the Twisted/asyncio event loop (HTTP and WebSocket protocol, Channels consumers, the channel
layer, the save batcher). Work handed to threads (sync views, database_sync_to_async) shows as
the loop waiting; the batcher's writer thread is profiled separately (WriterProbe) and written
next to it as *-writer.txt. On SIGTERM the reactor stops and the profiles are written.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from daphne.cli import CommandLineInterface
from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

FLAT_LINES = 60


def _package(path: str | None) -> str:
    """Return who a frame belongs to: the project's module, a library, or the standard library."""
    if not path:
        return "(interpreter)"
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for project in ("/exams/", "/config/", "/proctoring/", "/grading/", "/bench/"):
        if project in path:
            return project.strip("/") + " (project)"
    return "(standard library)"


def self_times(session) -> tuple[dict, dict, float]:
    """Return each function's own time, each package's own time and the total, from the raw tree."""
    functions: dict[str, float] = {}
    packages: dict[str, float] = {}
    stack = [session.root_frame()]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        own = frame.time - sum(child.time for child in frame.children)
        if own <= 0:
            continue
        # pyinstrument keeps a function's own time in a synthetic "[self]" child: name the parent.
        owner = frame.parent if frame.is_synthetic_leaf and frame.parent is not None else frame
        name = f"{owner.function}  {owner.file_path_short or ''}:{owner.line_no or ''}"
        functions[name] = functions.get(name, 0.0) + own
        package = _package(owner.file_path)
        if owner.function in ("epoll.poll", "select.select", "poll.poll"):
            package = "(idle: waiting for the network)"
        elif package == "(standard library)" and owner.function.startswith(("socket.", "lock.", "epoll.")):
            package = f"(system calls: {owner.function.split('.')[0]})"
        packages[package] = packages.get(package, 0.0) + own
    return functions, packages, session.duration


def write(profiler: Profiler, out: Path) -> None:
    """The call tree (library frames folded), then own time by package and by function."""
    session = profiler.last_session
    tree = ConsoleRenderer(unicode=True, show_all=False, time="percent_of_total").render(session)
    functions, packages, total = self_times(session)
    lines = [tree, f"--- own time by package (of {total:.2f} s) ---"]
    lines += [f"{100 * t / total:6.1f} %  {name}" for name, t in sorted(packages.items(), key=lambda kv: -kv[1])[:25]]
    lines += ["", f"--- own time by function, top {FLAT_LINES} ---"]
    lines += [f"{100 * t / total:6.1f} %  {name}"
              for name, t in sorted(functions.items(), key=lambda kv: -kv[1])[:FLAT_LINES]]
    out.write_text("\n".join(lines) + "\n")
    session.save(str(out.with_suffix(".pyisession")))  # for `pyinstrument --load …` with other views


class WriterProbe:
    """Wraps the batcher's responses_save (at run time, in this process only): times each batch as
    the writer thread sees it and profiles that thread while it writes."""

    def __init__(self) -> None:
        self.profiler = Profiler(interval=0.0005, async_mode="disabled")
        self.calls, self.changes, self.seconds = 0, 0, 0.0

    def install(self) -> None:
        import exams.batching

        original = exams.batching.responses_save

        def timed(*, changes, **kwargs):
            began = time.perf_counter()
            self.profiler.start()  # the writer's thread; stopped again below, the samples add up
            try:
                return original(changes=changes, **kwargs)
            finally:
                self.profiler.stop()
                self.calls += 1
                self.changes += len(changes)
                self.seconds += time.perf_counter() - began

        exams.batching.responses_save = timed

    def write(self, out: Path) -> None:
        if not self.calls:
            return
        write(self.profiler, out)
        out.write_text(
            f"responses_save in the server: {self.calls} batches, {self.changes / self.calls:.1f} changes each, "
            f"{1000 * self.seconds / self.calls:.1f} ms each (wall, in the writer thread)\n\n" + out.read_text())


def main() -> None:
    out = Path(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    probe = WriterProbe()
    probe.install()
    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        CommandLineInterface().run(sys.argv[2:])
    finally:
        profiler.stop()
        write(profiler, out)
        probe.write(out.with_name(out.stem + "-writer.txt"))


if __name__ == "__main__":
    main()
