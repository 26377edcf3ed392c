"""The media servers and the proctors' and candidates' proctoring sockets, for /metrics."""

from __future__ import annotations

import time

from prometheus_client import Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .health import STALE_SECONDS
from .media.heartbeat import reports

PROCTORING_SOCKETS = Gauge(
    "proctoring_sockets", "Proctoring sockets connected to this process, by side", ["side"]
)


class MediaServers(Collector):
    """At each scrape: every media server alive, with the peer connections it carries."""

    def collect(self):
        servers = GaugeMetricFamily(
            "media_servers_alive", "Media servers that reported within their interval"
        )
        publishers = GaugeMetricFamily(
            "media_publishers", "Candidates publishing, per media server", labels=["instance"]
        )
        viewers = GaugeMetricFamily(
            "media_viewers", "Proctors' views, per media server", labels=["instance"]
        )
        try:
            alive = [r for r in reports() if time.time() - r["at"] < STALE_SECONDS]
        except Exception:  # Redis down: the media servers cannot be seen; /healthz says why
            return
        servers.add_metric([], len(alive))
        for report in alive:
            publishers.add_metric([report["instance"]], report.get("publishers", 0))
            viewers.add_metric([report["instance"]], report.get("viewers", 0))
        yield from (servers, publishers, viewers)
