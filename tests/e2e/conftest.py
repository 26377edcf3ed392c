"""Real Chromium against a real Daphne server (and, in Redis mode, a real Celery worker).

The test writes its data with the ORM inside `transactional_db`, so it is committed and the
server process sees it; the server writes through the same database, and the test reads back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.factories import PASSWORD
from tests.servers import BASE_DIR, CeleryWorker, Stack, artifact_dir, running_stack, running_worker

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-proxy-server",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 860}
DOCS_SCREENSHOTS = BASE_DIR / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps its event loop marked as running on this thread between calls,
    # so Django would refuse every ORM call of the test as "async-unsafe". The test's own ORM
    # use is plain synchronous code; the servers never get this variable (tests/servers.py).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Item pictures a test creates go to a temporary folder, which the server is told about.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="module")
def celery_worker(request, django_db_setup) -> Iterator[CeleryWorker | None]:
    """A real Celery worker on the test database in Redis mode (None in the embedded mode).

    Shared by a module's tests: it starts in a few seconds, and keeps nothing between tasks.
    """
    with running_worker(f"{request.module.__name__}-worker") as worker:
        yield worker


@pytest.fixture
def live_server_proc(request, transactional_db, celery_worker) -> Iterator[Stack]:
    """A Daphne server on a free port on the test database (plus the Celery worker in Redis mode).

    Function-scoped because the data is: pytest-django empties the database after each test,
    and does so after this fixture has stopped the server holding connections to it.
    """
    with running_stack(request, worker=celery_worker) as stack:
        yield stack


@pytest.fixture
def live_stack_with_media(request, transactional_db, celery_worker) -> Iterator[Stack]:
    """Like live_server_proc, plus the media server (its own process in Redis mode)."""
    with running_stack(request, worker=celery_worker, media=True) as stack:
        yield stack


# A fake camera and microphone (and the permission prompt answered yes): the waiting room, the system
# check, the exam page of a proctored sitting and the proctor's room ask for media.
MEDIA_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@contextmanager
def _chromium(args: list[str]) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}: apt-get install chromium (make chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Browser]:
    """Headless Chromium with fake media devices, shared by a module's tests (see `browser`)."""
    with _chromium(MEDIA_ARGS) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, shared by a module's tests; each test gets fresh contexts.

    Not session-scoped: while Playwright's sync API is active its event loop counts as running
    on the main thread, which would break later tests that run an event loop themselves.
    """
    with _chromium(CHROMIUM_ARGS) as chromium:
        yield chromium


@pytest.fixture
def new_context(request, browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Return a maker of browser contexts: each is a separate device (own cookies and storage).

    When the test fails, every open page is photographed into test-artifacts/<test>/.
    """
    contexts: list[BrowserContext] = []
    failed_before = request.session.testsfailed

    def make(**options) -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    if request.session.testsfailed > failed_before:
        folder = artifact_dir(request.node.name)
        for c, context in enumerate(contexts):
            for p, page in enumerate(context.pages):
                try:
                    page.screenshot(
                        path=str(folder / f"failure-context{c}-page{p}.png"), full_page=True
                    )
                except Exception as exc:  # a crashed page: the logs will have to do
                    print(f"no screenshot of context {c} page {p}: {exc}")
    for context in contexts:
        context.close()


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form of the server at `base`."""
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.fixture
def login(live_server_proc: Stack) -> Callable[..., None]:
    """Return login(page, username, password=PASSWORD): sign in through the login form."""
    return lambda page, username, password=PASSWORD: sign_in(
        page, live_server_proc.url, username, password
    )


@pytest.fixture
def screenshot(request) -> Callable[[Page, str], None]:
    """Return shot(page, name): a picture for the docs.

    Always saved under test-artifacts/screenshots/; copied to docs/screenshots/ only when
    UPDATE_SCREENSHOTS=1, so an ordinary run does not rewrite files under version control.
    """
    folder = artifact_dir("screenshots")

    def shot(page: Page, name: str, *, full_page: bool = False) -> None:
        path = folder / f"{name}.png"
        page.evaluate(
            "window.scrollTo(0, 0)"
        )  # clicks scroll the page; the docs show it from the top
        page.screenshot(path=str(path), full_page=full_page)
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)

    return shot
