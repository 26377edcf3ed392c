"""`BENCH grading` and `BENCH item_analysis`: one sitting of 10,000 attempts × 100 items on PostgreSQL.

    .venv/bin/python bench/grading.py          # about 2–3 minutes

1. A fresh database (DATABASE_URL, default postgres://…/exams_bench_grading; its name must contain
   "bench"; dropped and created), migrated with manage.py migrate.
2. A bank of 400 choice items (60 % single best answer, 25 % multiple response, 15 % cause–effect),
   an exam of 100 items, one sitting, 10,000 candidates with submitted attempts: forms of 100 items
   drawn at random per candidate, options shuffled, answers simulated (a 2-parameter logistic
   model: abilities ~ N(0, 1), item difficulties ~ N(−0.5, 1), so the test has a realistic spread
   and reliability; 2 % of items left blank). Bulk SQL: COPY for the million form slots and the
   million answers.
3. BENCH grading: grading.services.attempt_score for every attempt, in this process, one after
   another (as one Celery worker process would), timed. The bound: the same scores computed with
   NumPy on the same data — one query reading keys, answers and weights from PostgreSQL into
   arrays, then vectorised scoring (all-or-nothing, the exam's rule). Both totals must agree exactly.
4. BENCH item_analysis: grading.analysis (data.load_matrix + stats.analyse), timed. The bound:
   the same rows fetched with one plain psycopg query (no Django) plus the same statistics in
   NumPy (difficulty, item–rest point-biserial, KR-20, option counts by top and bottom 27 %); the
   two must agree to 1e-9.

Prints `BENCH grading <rate> attempts/s ratio=<ours/bound> bound=<rate> attempts/s` and
`BENCH item_analysis <seconds> s ratio=<bound/ours> bound=<seconds> s`; details on stderr as "# …".
Exit status 1 (after the BENCH lines, with "# PROBLEM: …") if a check fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and this file is called grading.py:
# `import grading` (the Django app) would import it. The project root goes there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/exams_bench_grading")
ATTEMPTS = int(os.environ.get("BENCH_GRADING_ATTEMPTS", "10000"))
ITEMS_PER_FORM = 100
BANK_SIZE = int(os.environ.get("BENCH_GRADING_BANK", "400"))
SEED = 20240501
PROBLEMS: list[str] = []


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def fresh_database() -> None:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"DATABASE_URL names {name!r}: the bench drops its database, so the name must contain 'bench'")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                     (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    # In-process and alone: locmem cache, in-memory channel layer, no broker.
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()


def main() -> int:
    started = time.perf_counter()
    fresh_database()
    setup_django()
    from bench.grading_bench import analysis_bench, generate, scoring_bench

    sitting_id, attempt_ids = generate.sitting(attempts=ATTEMPTS, items_per_form=ITEMS_PER_FORM, bank_size=BANK_SIZE, seed=SEED)
    rate, bound_rate, problems = scoring_bench.run(sitting_id, attempt_ids)
    PROBLEMS.extend(problems)
    print(f"BENCH grading {rate:.1f} attempts/s ratio={rate / bound_rate:.5f} bound={bound_rate:.1f} attempts/s", flush=True)
    seconds, bound_seconds, problems = analysis_bench.run(sitting_id)
    PROBLEMS.extend(problems)
    print(f"BENCH item_analysis {seconds:.2f} s ratio={bound_seconds / seconds:.3f} bound={bound_seconds:.2f} s", flush=True)
    note(f"whole run {time.perf_counter() - started:.0f} s")
    for problem in PROBLEMS:
        note(f"PROBLEM: {problem}")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
