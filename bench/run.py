"""`make bench`: start storm and autosave against PostgreSQL, Redis and Daphne, each beside its bound.

Steps (bench/README.md explains the numbers):
1. a fresh bench database (dropped and created; its name must contain "bench") and an emptied
   Redis database; migrate; the demo bank and exam, N candidates, one open sitting per storm;
2. the bounds, straight through psycopg while no server runs (bench/bounds.py);
3. for each Daphne set-up (BENCH_DAPHNE, default 2 processes): the servers as in production (DJANGO_DEBUG=0,
   DATABASE_URL, REDIS_URL), the candidates signed in (once, untimed), a start storm at each
   concurrency, then autosave over WebSockets at each concurrency (bench/client.py);
4. checks in the database (every start and every acknowledged save is really stored);
5. pyinstrument profiles of the hot paths, in-process (bench/profile_hot.py).
Prints one BENCH line per (benchmark, concurrency) for the first Daphne set-up; the others as
"# daphne=…" lines. Every process it starts runs in its own process group and is ended on exit,
on failure and on Ctrl-C.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from processes import CHILDREN, end, end_all, free_port, spawn, start_daphnes

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).parent / "daphne")

CANDIDATES = int(os.environ.get("BENCH_CANDIDATES", "500"))
CONCURRENCIES = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "50,500").split(",")]
DAPHNE_SETUPS = [int(p) for p in os.environ.get("BENCH_DAPHNE", "2").split(",")]
AUTOSAVE_SECONDS = float(os.environ.get("BENCH_AUTOSAVE_SECONDS", "15"))
BOUND_SAVE_SECONDS = float(os.environ.get("BENCH_BOUND_SECONDS", "10"))
PROFILE_SERVER = os.environ.get("BENCH_PROFILE_SERVER", "1") != "0"
PROFILE_CANDIDATES = 150



# --- processes ------------------------------------------------------------------------------------
def run(args: list[str], *, env: dict, timeout: float, what: str, track: list | None = None) -> str:
    """Run a child to completion within `timeout` seconds; return its stdout, fail loudly otherwise."""
    process = spawn(args, env=env)
    if track is not None:
        track.append(process.pid)
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end(process)
        raise SystemExit(f"bench: {what} did not finish within {timeout:.0f} s") from None
    finally:
        if track is not None:
            track.remove(process.pid)
    CHILDREN.remove(process)
    if process.returncode != 0:
        raise SystemExit(f"bench: {what} failed (exit {process.returncode})\n{stdout[-2000:]}")
    return stdout


# --- environment ----------------------------------------------------------------------------------
def environment() -> tuple[dict, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/exams_bench")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    # BENCH_SERVER_ENV="NAME=value …": an experiment (e.g. DB_CONN_MAX_AGE=0); empty for the real run.
    for pair in os.environ.get("BENCH_SERVER_ENV", "").split():
        name, _, value = pair.partition("=")
        env[name] = value
    # BENCH_EXPERIMENT: bench/experiment_settings.py overrides settings to measure a proposal.
    settings = "bench.experiment_settings" if os.environ.get("BENCH_EXPERIMENT") else "config.settings"
    env.update(DJANGO_DEBUG="0", DJANGO_SETTINGS_MODULE=settings, MEDIA_ROOT=str(OUT / "media"), PYTHONPATH=str(ROOT),
               DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or "bench-secret-key-not-for-production-0123456789abcdef",
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    url = urlsplit(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    if url.scheme not in ("postgres", "postgresql") or "bench" not in name:
        raise SystemExit(f"bench: DATABASE_URL must be a PostgreSQL database whose name contains 'bench' "
                         f"(it is dropped and created afresh); got {env['DATABASE_URL']!r}")
    redis_db = urlsplit(env["REDIS_URL"]).path.lstrip("/") or "0"
    if redis_db == "0":
        raise SystemExit("bench: REDIS_URL must name a Redis database other than 0 (the bench empties it)")
    dsn = urlunsplit(("postgresql", url.netloc, "/" + name, url.query, ""))
    return env, dsn


def fresh_database(env: dict, dsn: str) -> None:
    url = urlsplit(dsn)
    name = url.path.lstrip("/")
    admin = urlunsplit((url.scheme, url.netloc, "/postgres", url.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()


# --- sampling CPU and connections -----------------------------------------------------------------
def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def _stat(pid: str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    return [name] + text.rsplit(")", 1)[1].split()


def _service_cpu() -> dict[str, float]:
    """Return the CPU seconds PostgreSQL and Redis have used: each live process, plus, for the
    postmaster, its reaped children (a backend per connection comes and goes)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {pid: st for pid in os.listdir("/proc") if pid.isdigit() and (st := _stat(pid)) is not None}
    totals = {"postgres": 0.0, "redis": 0.0}
    for st in stats.values():
        name = "postgres" if st[0] == "postgres" else "redis" if st[0].startswith("redis-server") else None
        if name is None:
            continue
        own = int(st[12]) + int(st[13])
        parent = stats.get(st[2])
        if parent is None or parent[0] != st[0]:  # the postmaster (or redis itself): add reaped children
            own += int(st[14]) + int(st[15])
        totals[name] += own / tick
    return totals


def _busy() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Every 0.2 s: machine CPU, the servers' and the client's CPU, and the database's connections."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.servers, self.clients = dsn, [], []
        self.samples: list[dict] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            while not self.stopped.wait(0.2):
                ours, every = connection.execute(
                    "SELECT count(*) FILTER (WHERE datname = current_database()), count(*) FILTER (WHERE backend_type = "
                    "'client backend') FROM pg_stat_activity").fetchone()
                self.samples.append({
                    "t": time.time(), "busy": _busy(), "connections": ours - 1, "all_connections": every,
                    **_service_cpu(),
                    "server": sum(_cpu_of(p) for p in list(self.servers)),
                    "client": sum(_cpu_of(p) for p in list(self.clients)),
                })

    def window(self, start: float, finish: float) -> dict:
        inside = [s for s in self.samples if start <= s["t"] <= finish]
        if len(inside) < 2:
            return {}
        first, last = inside[0], inside[-1]
        seconds = last["t"] - first["t"]
        cores = os.cpu_count() or 1

        def share(key: str) -> float:
            return round(100 * (last[key] - first[key]) / seconds / cores, 1)

        machine, server, client = share("busy"), share("server"), share("client")
        postgres, redis = share("postgres"), share("redis")
        return {"cpu_machine_pct": machine, "cpu_daphne_pct": server, "cpu_client_pct": client,
                "cpu_postgres_pct": postgres, "cpu_redis_pct": redis,
                "cpu_other_pct": round(machine - server - client - postgres - redis, 1),
                "db_connections_max": max(s["connections"] for s in inside),
                "db_connections_all_max": max(s["all_connections"] for s in inside)}


# --- the server -----------------------------------------------------------------------------------
def start_servers(count: int, env: dict, sampler: Sampler, label: str) -> tuple[list[int], list[subprocess.Popen]]:
    ports, processes = start_daphnes(count, daphne=DAPHNE, env=env, log_dir=OUT, label=label)
    sampler.servers.extend(process.pid for process in processes)
    return ports, processes


def stop_servers(processes: list[subprocess.Popen], sampler: Sampler) -> None:
    for process in processes:
        if process.pid in sampler.servers:
            sampler.servers.remove(process.pid)
        end(process)


# --- checks in the database -----------------------------------------------------------------------
def batch_sizes(db, attempt_ids: list[int], start: float, finish: float, processes: int) -> dict:
    """Return how many saves went to the database together: every save of one responses_save call
    shares its `received_at`, so the answer log shows the group commit's batches. Each process has
    one writer, so processes × seconds / batches is the time from one batch of a writer to its next."""
    sizes = [row[0] for row in db.execute(
        "SELECT count(*) FROM exams_answerlog WHERE attempt_id = ANY(%s) "
        "AND received_at BETWEEN to_timestamp(%s) AND to_timestamp(%s) GROUP BY received_at",
        (attempt_ids, start - 1, finish + 1)).fetchall()]
    if not sizes:
        return {}
    sizes.sort()
    total = sum(sizes)
    return {"batches": len(sizes), "batch_median": sizes[len(sizes) // 2], "batch_max": sizes[-1],
            "batch_seen_by_a_save": round(sum(s * s for s in sizes) / total, 1),
            "batch_cycle_ms": round(processes * (finish - start) * 1000 / len(sizes), 1)}


def check_storm(db, sitting_id: int, started: int, items: int) -> list[str]:
    attempts, slots, events = db.execute(
        "SELECT count(DISTINCT a.id), count(i.id), "
        "(SELECT count(*) FROM exams_attemptevent e JOIN exams_attempt b ON b.id = e.attempt_id "
        " JOIN exams_enrolment f ON f.id = b.enrolment_id WHERE f.sitting_id = %s AND e.kind = 'started') "
        "FROM exams_attempt a JOIN exams_enrolment en ON en.id = a.enrolment_id "
        "LEFT JOIN exams_attemptitem i ON i.attempt_id = a.id WHERE en.sitting_id = %s",
        (sitting_id, sitting_id)).fetchone()
    problems = []
    # More attempts than pages is possible (a start stored, its page then refused); fewer is not.
    if attempts < started:
        problems.append(f"{started} starts answered with the exam page, but {attempts} attempts in the database")
    if slots != attempts * items:
        problems.append(f"{attempts} attempts hold {slots} attempt items, not {attempts * items}")
    if events != attempts:
        problems.append(f"{attempts} attempts but {events} 'started' events")
    return problems


def check_saves(db, attempt_ids: list[int], acked: int) -> tuple[list[str], dict]:
    logged, responses, seq = db.execute(
        "SELECT (SELECT count(*) FROM exams_answerlog WHERE attempt_id = ANY(%s)), "
        "(SELECT count(*) FROM exams_response WHERE attempt_id = ANY(%s)), "
        "(SELECT coalesce(sum(last_seq), 0)::bigint FROM exams_attempt WHERE id = ANY(%s))",
        (attempt_ids, attempt_ids, attempt_ids)).fetchone()
    problems = []
    if logged != acked:
        problems.append(f"{acked} saves acknowledged ok, but {logged} rows in the answer log")
    if not 0 < responses <= len(attempt_ids) * 100:
        problems.append(f"{responses} stored responses for {len(attempt_ids)} attempts")
    return problems, {"answer_log_rows": logged, "responses": responses, "sum_last_seq": seq}


def profile_server(env: dict, manifest: dict, sessions: Path) -> dict:
    """One Daphne process under pyinstrument: a small start storm, then saves at the first
    concurrency, on PROFILE_CANDIDATES candidates. The rates under the profiler are not reported."""
    port = free_port()
    out = OUT / "profile-server.txt"
    say(f"profiling one Daphne process's event loop (start storm and autosave, {PROFILE_CANDIDATES} candidates)")
    log = open(OUT / "daphne-profiled.log", "w")  # noqa: SIM115 (closed with the process)
    server = spawn([PYTHON, str(BENCH / "profile_server.py"), str(out), "-b", "127.0.0.1", "-p", str(port),
                    "config.asgi:application"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("bench: the profiled Daphne did not start; see bench/out/daphne-profiled.log") from None
                time.sleep(0.3)
        enrolments = dict(sorted(manifest["sittings"]["server-profile"]["enrolments"].items())[:PROFILE_CANDIDATES])
        (OUT / "enrolments-server-profile.json").write_text(json.dumps(enrolments))
        run([PYTHON, str(BENCH / "client.py"), "storm", "--ports", str(port), "--sessions", str(sessions),
             "--enrolments", str(OUT / "enrolments-server-profile.json"), "--concurrency", str(CONCURRENCIES[0]),
             "--out", str(OUT / "storm-server-profile.json")], env=env, timeout=180, what="profiled storm")
        run([PYTHON, str(BENCH / "client.py"), "autosave", "--ports", str(port), "--sessions", str(sessions),
             "--enrolments", str(OUT / "enrolments-server-profile.json"), "--attempts", str(OUT / "storm-server-profile.json"),
             "--phases", f"{CONCURRENCIES[0]}:8", "--out", str(OUT / "autosave-server-profile.json")],
            env=env, timeout=180, what="profiled autosave")
    finally:
        end(server)  # SIGTERM: the reactor stops and the profile is written
    storm = json.loads((OUT / "storm-server-profile.json").read_text())["summary"]
    saves = json.loads((OUT / "autosave-server-profile.json").read_text())["phases"][0]
    writer = OUT / "profile-server-writer.txt"
    result = {"storm_rate": storm["rate"], "autosave_rate": saves["rate"], "written": out.exists(),
              "writer": writer.read_text().split("\n", 1)[0] if writer.exists() else None}
    say(f"under the profiler: {storm['rate']:.1f} starts/s, {saves['rate']:.0f} saves/s; {result['writer']}")
    return result


# --- the whole run --------------------------------------------------------------------------------
def fmt_line(name: str, result: dict, unit: str, bound: float, bound_unit: str) -> str:
    ratio = result["rate"] / bound if bound else float("nan")
    line = (f"{name} {result['rate']:.1f} {unit} ratio={ratio:.2f} p50={result['p50_ms']:.0f}ms "
            f"p99={result['p99_ms']:.0f}ms bound={bound:.1f} {bound_unit}")
    # Failures are not in the rate; say so on the line rather than only further down.
    failed = sum(result["errors"].values()) + sum(result.get("refused", {}).values())
    return line + (f" failed={failed}" if failed else "")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def delivery_bench() -> list[str]:
    """Start storm and autosave beside their bounds; print the BENCH lines, return the problems."""
    began = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    env, dsn = environment()
    idle_check = _busy()
    time.sleep(1)
    busy_before = 100 * (_busy() - idle_check) / (os.cpu_count() or 1)
    if busy_before > 20:  # other work on the machine (tests, a browser) takes cores from the server
        say(f"warning: the machine is already {busy_before:.0f} % busy; the numbers will be low")

    say(f"fresh database {urlsplit(dsn).path.lstrip('/')} and Redis {env['REDIS_URL']}")
    fresh_database(env, dsn)
    (OUT / "sessions.json").unlink(missing_ok=True)  # sessions of the database just dropped
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env, timeout=180, what="migrate")
    labels = [f"storm-d{p}-c{c}" for p in DAPHNE_SETUPS for c in CONCURRENCIES]
    labels += [f"bound-c{c}" for c in CONCURRENCIES] + ["profile", "server-profile"]
    manifest = json.loads(run([PYTHON, str(BENCH / "fixtures.py"), str(CANDIDATES), ",".join(labels)],
                              env=env, timeout=180, what="fixtures"))
    (OUT / "manifest.json").write_text(json.dumps(manifest))
    users = {u["username"]: u["id"] for u in manifest["candidates"]}
    bound_users = {u["username"]: u["id"] for u in manifest["bound_candidates"]}
    items = manifest["item_count"]
    say(f"{len(users)} candidates, {len(labels)} sittings, {items}-item exam ({manifest['seconds']} s)")

    # Opened now: under load the server may take every connection PostgreSQL allows.
    db = psycopg.connect(dsn, autocommit=True)
    sampler = Sampler(dsn)
    sampler.start()
    results: dict = {"bounds": {}, "setups": {}}

    # The bounds, while nothing else runs.
    for c in CONCURRENCIES:
        enrolments = manifest["sittings"][f"bound-c{c}"]["enrolments"]
        (OUT / f"bound-enrolments-c{c}.json").write_text(json.dumps(
            [{"enrolment": e, "candidate": bound_users[name]} for name, e in sorted(enrolments.items())]))
        out = json.loads(run([PYTHON, str(BENCH / "bounds.py"), "starts", "--dsn", dsn, "--exam", str(manifest["exam"]),
                              "--item-count", str(items), "--enrolments", str(OUT / f"bound-enrolments-c{c}.json"),
                              "--concurrency", str(c), "--out", str(OUT / f"bound-starts-c{c}.json")],
                             env=env, timeout=180, what=f"bound starts at {c}", track=sampler.clients))
        results["bounds"][f"starts_{c}"] = out
        say(f"bound starts at {c} in flight: {out['rate']:.1f} starts/s ({out['rate'] * (items + 2):.0f} rows/s), "
            f"p50 {out['p50_ms']:.0f} ms, p99 {out['p99_ms']:.0f} ms, pool {out['pool']}, errors {out['errors']}")
    bound_attempts = []
    for c in CONCURRENCIES:
        bound_attempts += json.loads((OUT / f"bound-starts-c{c}.json").read_text())["attempts"]
    (OUT / "bound-attempts.json").write_text(json.dumps(bound_attempts))
    for c in CONCURRENCIES:
        out = json.loads(run([PYTHON, str(BENCH / "bounds.py"), "saves", "--dsn", dsn, "--attempts",
                              str(OUT / "bound-attempts.json"), "--concurrency", str(c), "--seconds", str(BOUND_SAVE_SECONDS),
                              "--out", str(OUT / f"bound-saves-c{c}.json")],
                             env=env, timeout=120, what=f"bound saves at {c}", track=sampler.clients))
        results["bounds"][f"saves_{c}"] = out
        say(f"bound saves at {c} in flight: {out['rate']:.1f} upserts/s, p50 {out['p50_ms']:.1f} ms, "
            f"p99 {out['p99_ms']:.1f} ms, pool {out['pool']}, errors {out['errors']}")

    sessions = OUT / "sessions.json"  # the candidates' cookies, once they have signed in
    problems: list[str] = []
    for processes in DAPHNE_SETUPS:
        label = f"d{processes}"
        setup: dict = {"processes": processes}
        say(f"{processes} Daphne process(es)")
        ports, servers = start_servers(processes, env, sampler, label)
        port_list = ",".join(map(str, ports))
        try:
            if not sessions.exists():
                say(f"signing {len(users)} candidates in through /login/ (untimed; one password hash each)")
                out = run([PYTHON, str(BENCH / "client.py"), "login", "--ports", port_list, "--manifest",
                           str(OUT / "manifest.json"), "--sessions", str(sessions), "--concurrency", "4"],
                          env=env, timeout=600, what="login")
                say(f"signed in: {out.strip()}")
            for c in CONCURRENCIES:
                sitting = manifest["sittings"][f"storm-{label}-c{c}"]
                (OUT / f"enrolments-{label}-c{c}.json").write_text(json.dumps(sitting["enrolments"]))
                run([PYTHON, str(BENCH / "client.py"), "storm", "--ports", port_list, "--sessions", str(sessions),
                     "--enrolments", str(OUT / f"enrolments-{label}-c{c}.json"), "--concurrency", str(c),
                     "--out", str(OUT / f"storm-{label}-c{c}.json")],
                    env=env, timeout=240, what=f"start storm at {c}", track=sampler.clients)
                storm = json.loads((OUT / f"storm-{label}-c{c}.json").read_text())
                summary = storm["summary"]
                summary.update(sampler.window(summary["wall_started"], summary["wall_finished"]))
                problems += [f"storm {label} c{c}: {p}" for p in check_storm(db, sitting["sitting"], summary["count"], items)]
                if summary["errors"] or summary["count"] != len(sitting["enrolments"]):
                    problems.append(f"storm {label} c{c}: {summary['count']} of {len(sitting['enrolments'])} started; "
                                    f"errors {summary['errors']}")
                setup[f"storm_{c}"] = summary
                say(f"start storm at {c}: {summary['rate']:.1f} starts/s, p50 {summary['p50_ms']:.0f} ms, "
                    f"p99 {summary['p99_ms']:.0f} ms, errors {summary['errors']}, CPU daphne {summary.get('cpu_daphne_pct')} % "
                    f"client {summary.get('cpu_client_pct')} % postgres {summary.get('cpu_postgres_pct')} % "
                    f"redis {summary.get('cpu_redis_pct')} % other {summary.get('cpu_other_pct')} % (of {os.cpu_count()} cores), "
                    f"db connections ≤ {summary.get('db_connections_max')} (all databases ≤ {summary.get('db_connections_all_max')})")
            # Autosave: every candidate of the first storm's sitting with its attempt and socket open
            # (a candidate whose start failed presses Start again first, untimed).
            phases = ",".join(f"{c}:{AUTOSAVE_SECONDS:g}" for c in CONCURRENCIES)
            first = f"{label}-c{CONCURRENCIES[0]}"
            run([PYTHON, str(BENCH / "client.py"), "autosave", "--ports", port_list, "--sessions", str(sessions),
                 "--enrolments", str(OUT / f"enrolments-{first}.json"), "--attempts", str(OUT / f"storm-{first}.json"),
                 "--phases", phases, "--out", str(OUT / f"autosave-{label}.json")],
                env=env, timeout=180 + 3 * AUTOSAVE_SECONDS * len(CONCURRENCIES), what="autosave", track=sampler.clients)
        finally:
            stop_servers(servers, sampler)
        autosave = json.loads((OUT / f"autosave-{label}.json").read_text())
        attempts = autosave["attempts"]
        acked = 0
        for phase in autosave["phases"]:
            c = phase["concurrency"]
            phase.update(sampler.window(phase["wall_started"], phase["wall_finished"]))
            phase.update(batch_sizes(db, list(attempts.values()), phase["wall_started"], phase["wall_finished"], processes))
            acked += phase["count"]
            if phase["errors"] or phase["refused"]:
                problems.append(f"autosave {label} c{c}: errors {phase['errors']}, refused {phase['refused']}")
            setup[f"autosave_{c}"] = phase
            say(f"autosave at {c}: {phase['rate']:.1f} saves/s, p50 {phase['p50_ms']:.1f} ms, p99 {phase['p99_ms']:.1f} ms, "
                f"errors {phase['errors']}, refused {phase['refused']}, batch median {phase.get('batch_median')} "
                f"(as a save sees it {phase.get('batch_seen_by_a_save')}, a writer's cycle {phase.get('batch_cycle_ms')} ms), CPU daphne {phase.get('cpu_daphne_pct')} % "
                f"client {phase.get('cpu_client_pct')} % postgres {phase.get('cpu_postgres_pct')} % "
                f"redis {phase.get('cpu_redis_pct')} % other {phase.get('cpu_other_pct')} %, "
                f"db connections ≤ {phase.get('db_connections_max')} (all databases ≤ {phase.get('db_connections_all_max')})")
        save_problems, stored = check_saves(db, list(attempts.values()), acked)
        problems += [f"autosave {label}: {p}" for p in save_problems]
        setup["stored"] = stored
        results["setups"][label] = setup

    sampler.stopped.set()
    if PROFILE_SERVER:
        results["server_profile"] = profile_server(env, manifest, sessions)

    # Profiles, in-process, with a batch of the size the group commit really formed at the first concurrency.
    primary = results["setups"][f"d{DAPHNE_SETUPS[0]}"]
    room = len(manifest["sittings"]["profile"]["enrolments"]) - 85
    batch = max(1, min(100, room, int(primary[f"autosave_{CONCURRENCIES[0]}"].get("batch_median") or 25)))
    (OUT / "enrolments-profile.json").write_text(json.dumps(manifest["sittings"]["profile"]["enrolments"]))
    say(f"profiling start + page and responses_save (batch of {batch})")
    profile = json.loads(run([PYTHON, str(BENCH / "profile_hot.py"), str(OUT / "enrolments-profile.json"), str(OUT),
                              str(batch)], env=env, timeout=300, what="profile"))
    results["profile"] = profile
    say(f"in-process: start + page {profile['start_and_page']['ms_each']:.1f} ms and "
        f"{profile['start_and_page']['queries_each']:.0f} SQL statements each; responses_save of {batch}: "
        f"{profile['responses_save']['ms_per_batch']:.1f} ms, {profile['responses_save']['queries_per_batch']:.0f} statements "
        f"(one writer: {profile['responses_save']['saves_per_second_one_writer']:.0f} saves/s); "
        f"profiles in bench/out/profile-*.txt")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "exams", "config"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    results.update(commit=commit + ("+dirty" if dirty else ""), date=dt.date.today().isoformat(),
                   cores=os.cpu_count(), candidates=len(users), machine_busy_before_pct=round(busy_before), seconds=round(time.monotonic() - began), problems=problems)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))

    for processes in DAPHNE_SETUPS:
        setup = results["setups"][f"d{processes}"]
        prefix = "BENCH " if processes == DAPHNE_SETUPS[0] else f"# daphne={processes}: "
        lines = []
        for c in CONCURRENCIES:
            s, b = setup[f"storm_{c}"], results["bounds"][f"starts_{c}"]
            lines.append(fmt_line(f"start_storm_{c}", s, "starts/s", b["rate"], "rows/s"))
        for c in CONCURRENCIES:
            s, b = setup[f"autosave_{c}"], results["bounds"][f"saves_{c}"]
            lines.append(fmt_line(f"autosave_{c}", s, "saves/s", b["rate"], "upserts/s"))
        for line in lines:
            print(prefix + line, flush=True)
    print(f"# {DAPHNE_SETUPS[0]} Daphne process(es) for the BENCH lines; {len(users)} candidates; "
          f"server environment extras: {os.environ.get('BENCH_SERVER_ENV') or 'none'}; "
          f"experiment: {os.environ.get('BENCH_EXPERIMENT') or 'none'}; "
          f"commit {results['commit']}; {results['seconds']} s; details in bench/out/results.json", flush=True)
    return problems


def run_part(script: str, *, env: dict, timeout: float, what: str) -> list[str]:
    """Run one bench script to the end; pass its BENCH lines on, return its problems.

    The script prints its own "# PROBLEM:" lines on stderr; its exit status says whether it had any.
    """
    process = spawn([PYTHON, str(BENCH / script)], env=env)
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end(process)
        return [f"{what} did not finish within {timeout:.0f} s"]
    CHILDREN.remove(process)
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            print(line, flush=True)
    return [] if process.returncode == 0 else [f"{what} exited {process.returncode} (see its '# PROBLEM' lines above)"]


def media_bench() -> list[str]:
    """The media server's CPU per candidate (bench/media_grid.py)."""
    env, _dsn = environment()
    say("media grid: N synthetic candidates publishing to a real media server, one proctor on the grid")
    return run_part("media_grid.py", env=env, timeout=600, what="media grid")


def grading_bench() -> list[str]:
    """Scoring and item analysis of 10,000 attempts (bench/grading.py)."""
    env, dsn = environment()
    # A database of its own (it is dropped and filled with 10,000 attempts): the delivery part's stays.
    env["DATABASE_URL"] = urlunsplit(urlsplit(dsn)._replace(path="/exams_bench_grading"))
    say("grading: 10,000 attempts × 100 items scored by attempt_score and analysed, each beside NumPy")
    return run_part("grading.py", env=env, timeout=1800, what="grading bench")


def drill_bench() -> list[str]:
    """500 candidates of one proctored room arrive, are admitted and start at once (bench/drill.py)."""
    env, dsn = environment()
    # A database of its own (dropped and filled afresh): the delivery part's stays.
    env["DATABASE_URL"] = urlunsplit(urlsplit(dsn)._replace(path="/exams_bench_drill"))
    say("drill: a proctored room of 500 arriving, admitted and starting at once; every request must succeed")
    return run_part("drill.py", env=env, timeout=900, what="start and admission drill")


PARTS = {part.strip() for part in os.environ.get("BENCH_PARTS", "delivery,media,grading,drill").split(",") if part.strip()}


def main() -> None:
    unknown = PARTS - {"delivery", "media", "grading", "drill"}
    if unknown:
        raise SystemExit(f"BENCH_PARTS: unknown part(s) {sorted(unknown)}; use delivery, media, grading, drill")
    problems = []
    if "delivery" in PARTS:
        problems += delivery_bench()
    if "media" in PARTS:
        problems += media_bench()
    if "grading" in PARTS:
        problems += grading_bench()
    if "drill" in PARTS:
        problems += drill_bench()
    if problems:
        for problem in problems:
            print(f"# PROBLEM: {problem}", flush=True)
        raise SystemExit(1)


def _terminate(signum, _frame):
    raise SystemExit(f"bench: stopped by signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        main()
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        end_all()
