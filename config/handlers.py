"""Django's ASGI handler, with every database connection a request took given back however it ends.

Issue 11, point 2: 25 HTTP saves whose clients gave up after 2 s while the view still waited left
a Daphne process with no pool connection, for good. Why: Django runs a request's sync code (the
middleware chain, a sync view, a `sync_to_async` call of an async view) in one worker thread of the
request's own, and its connections live in that thread's `connections` (thread-local). On a
client's disconnect, Django cancels the view's task but cannot stop the thread; it then sends
`request_finished` (whose `close_old_connections` would run in that thread, queued behind the
view), and Daphne, 10 s after the disconnect (its application close timeout), cancels the whole
request, that signal included. The thread finishes the view later and ends with the connection
still checked out: the pool counts it as lent forever. After DB_POOL_MAX such requests every
request, /healthz included, waits for a connection that never comes back.

The cure: the request's thread is ours (an executor we give the request's ThreadSensitiveContext),
and when the request ends, however it ends, a last job in that same thread closes every
connection it opened. Being queued behind whatever the thread still runs, it closes the
connection only once the view is done with it. Nothing is awaited for it: a cancelled request
cannot skip it. On the normal path Django has already closed the connection (CONN_MAX_AGE 0), so
the job finds nothing to do; its cost is one more hop to a thread that exists anyway.
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
    except Exception:  # a broken connection must not hide the others; nobody awaits this job
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
            # shutdown(wait=False) lets queued work finish, then the thread ends.
            executor.submit(_close_connections)
            executor.shutdown(wait=False)


def get_asgi_application() -> ConnectionReturningASGIHandler:
    """Return the HTTP application: django.core.asgi.get_asgi_application with our handler."""
    django.setup(set_prefix=False)
    return ConnectionReturningASGIHandler()
