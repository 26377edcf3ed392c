"""Continuity of a sitting through failures: outage credit, lost connections (issue 10, 25-26)."""

from .services import (
    clock_may_submit,
    connection_back,
    connection_lost,
    mark_serving_process,
    outage_settle,
    recent_outage_notice,
    site_beat,
)

__all__ = [
    "clock_may_submit",
    "connection_back",
    "connection_lost",
    "mark_serving_process",
    "outage_settle",
    "recent_outage_notice",
    "site_beat",
]
