"""Django's ASGI handler, with every database connection a request took given back however it ends.

Issue 11, point 2: 25 HTTP saves whose clients gave up after 2 s while the view still waited left
a Daphne process with no pool connection, for good. Why: Django runs a request's sync code (the
sync middleware, a sync view, an async view's `sync_to_async` calls) in one worker thread of the
request's own, and the connections live in that thread's `connections` (thread-local). Only a
`close_old_connections` in that same thread gives them back. When the client leaves, Django
cancels the view's task (the thread runs on) and sends `request_finished`, whose close is queued
in that thread behind the view; 10 s after the disconnect Daphne (its application close timeout)
cancels the request, and with it that queued close. When Daphne cancels first, the view's task is
orphaned and nobody closes the response at all. Either way the thread ends the view with the
connection still checked out, and the pool counts it as lent forever: after DB_POOL_MAX such
requests every request, /healthz included, waits for a connection that never comes back.
(channels' `database_sync_to_async` closes in its thread after each call and was never affected.)

The cure: the request's thread is ours (the executor of its ThreadSensitiveContext), and when the
request ends, however it ends, a last job in that same thread closes every connection it opened.
Queued behind whatever the thread still runs, it closes the connection only once the view is
done with it, and nothing awaits it, so no cancel can skip it. On the normal path Django has
already closed the connection (CONN_MAX_AGE 0) and the job finds nothing to do; not joining the
thread (Django's context joins it in a thread of its own) makes it no slower: a bare view through
the whole middleware answered ~600 requests/s in process against Django's ~430-530.
Tests: tests/integration/test_pool_release.py.
"""

from __future__ import annotations

import inspect
import logging
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

logger = logging.getLogger(__name__)

if "executor" not in inspect.signature(ThreadSensitiveContext).parameters:
    # Without it the request's thread is asgiref's, and nothing could run in it after a cancel.
    raise ImproperlyConfigured(
        "config.handlers needs asgiref >= 3.13 (ThreadSensitiveContext(executor=...))"
    )


def _close_connections() -> None:
    """Close this thread's database connections (back to the pool); never raise into nowhere."""
    try:
        connections.close_all()
    except Exception:  # nobody awaits this job: an error would vanish with its future
        logger.warning("could not close a request's database connection", exc_info=True)


class ConnectionReturningASGIHandler(ASGIHandler):
    """ASGIHandler whose requests give their database connections back however they end."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            # As Django's own handler: this one serves HTTP only.
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # One thread per request, as Django's own ThreadSensitiveContext() would make.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            # Runs after anything the request left in the thread (a view the client gave up on);
            # shutdown(wait=False) lets queued work finish, then the thread ends. An orphaned part
            # of a cancelled request that asks for the thread again later gets asgiref's
            # RuntimeError ("ThreadSensitiveContext has exited"): its client is long gone.
            executor.submit(_close_connections)
            executor.shutdown(wait=False)


def get_asgi_application() -> ConnectionReturningASGIHandler:
    """Return the HTTP application: django.core.asgi.get_asgi_application with our handler."""
    django.setup(set_prefix=False)
    return ConnectionReturningASGIHandler()
