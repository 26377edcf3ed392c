"""Settings for measuring a proposed change before anyone makes it: config.settings plus overrides.

Used only when BENCH_EXPERIMENT is set (a comma-separated list), never by the real `make bench`:

    BENCH_EXPERIMENT=switch-interval .venv/bin/python bench/run.py

- switch-interval: the GIL handed over every 0.5 ms instead of 5 ms, so that the thread writing
  a batch (database_sync_to_async) is not kept waiting by the event loop after each query.

(The earlier experiments db-pool and redis-timeout became the real settings.)
"""

from __future__ import annotations

import os
import sys

from config.settings import *  # noqa: F403

EXPERIMENTS = {name for name in os.environ.get("BENCH_EXPERIMENT", "").split(",") if name}
UNKNOWN = EXPERIMENTS - {"switch-interval"}
if UNKNOWN:
    raise RuntimeError(f"BENCH_EXPERIMENT: unknown {sorted(UNKNOWN)}")

if "switch-interval" in EXPERIMENTS:
    sys.setswitchinterval(0.0005)
