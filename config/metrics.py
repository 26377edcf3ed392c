"""/metrics: this serving process's figures in Prometheus's text format, for the board's monitor.

What it shows: exam pages and proctoring sockets connected to this process, answer changes
acknowledged by outcome and the time from arrival to acknowledgement (exams.metrics), the length
of the Celery queue (scoring and e-mails waiting), and the media servers with what each carries
(proctoring.metrics). Each Daphne process counts its own: scrape every one (docs/deploy.md).

Not for the public: answered only to METRICS_ALLOWED addresses (loopback by default; behind the
proxy the address is the client's, config/proxy.py), and nginx does not pass it on.
"""

from __future__ import annotations

import ipaddress

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from proctoring.metrics import MediaServers

CELERY_QUEUES = ("celery",)


class CeleryQueues(Collector):
    """At each scrape: the tasks waiting in each Celery queue (a list in Redis)."""

    def collect(self):
        if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
            return
        waiting = GaugeMetricFamily(
            "celery_queue_length", "Tasks waiting in the Celery queue", labels=["queue"]
        )
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        try:
            for queue in CELERY_QUEUES:
                waiting.add_metric([queue], client.llen(queue))
        except redis.RedisError:
            return  # /healthz says Redis is down
        finally:
            client.close()
        yield waiting


REGISTRY.register(CeleryQueues())
REGISTRY.register(MediaServers())


def _allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse(status=404)  # as if there were nothing here
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
