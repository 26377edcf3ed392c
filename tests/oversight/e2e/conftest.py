"""The browser tests' fixtures (tests/e2e/conftest.py): real Chromium against a real Daphne server."""

import pytest

from tests.e2e.conftest import (  # noqa: F401  (fixtures, registered by being imported here)
    _media_root,
    _orm_beside_playwright,
    browser,
    celery_worker,
    live_server_proc,
    login,
    new_context,
    screenshot,
)


@pytest.fixture(autouse=True)
def _fast_passwords():
    """Not here: the server process checks passwords with its own (default) hashers."""
