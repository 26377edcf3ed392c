"""What the exam pages do, counted for /metrics (config/metrics.py): per serving process.

Each Daphne process counts its own; Prometheus scrapes every process (docs/deploy.md) and adds
them up. Names follow Prometheus's conventions: _total for counters, _seconds for durations.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ANSWER_CHANGES = Counter(
    "exams_answer_changes_total",
    "Answer changes acknowledged to exam pages (socket and HTTP fallback), by outcome",
    ["outcome"],
)
ANSWER_ACK_SECONDS = Histogram(
    "exams_answer_ack_seconds",
    "Time from an answer change reaching the server to its acknowledgement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EXAM_SOCKETS = Gauge("exams_exam_page_sockets", "Exam pages connected to this process")
