"""Issue 13, point 3 and "how it is shown": an exam sat over https:// and wss:// through nginx.

The real parts: nginx from Debian's packages with the shipped site (deploy/nginx/exams.conf), a
certificate from a throwaway authority, two Daphne processes in production mode (DJANGO_PRODUCTION:
HSTS, secure cookies, the proxy's headers believed from its address only), PostgreSQL, Redis and
a Celery worker. Chromium sits the exam through nginx; the test reads back what was stored.
"""
# ruff: noqa: F811 - fixtures imported from test_candidate_journey are these tests' parameters

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from exams.models import Attempt, AttemptStatus, AuditEntry, ItemKind
from exams.services import attempt_start
from tests.deploy.certificates import make_server_certificate
from tests.e2e.conftest import sign_in
from tests.e2e.test_candidate_journey import (  # noqa: F401 - fixtures
    ExamPage,
    device_context,
    exam,
    room,
    slots_of,
    stored_answers,
)
from tests.factories import enrol
from tests.proxy import NGINX, NginxProxy, collected_static
from tests.servers import (
    DaphneServer,
    _fresh_log_dir,
    process_environment,
    require_service,
)

pytestmark = [pytest.mark.e2e]

PROXY_ADDRESS = "127.0.0.3"  # where nginx's requests to Daphne come from (proxy_bind)


def production_environment(site_url: str, mail_dir) -> dict[str, str]:
    """The test database and Redis, in production mode, with the test process's own keys (the audit
    log the servers seal is checked here)."""
    env = process_environment()
    env.update(
        DJANGO_PRODUCTION="1",
        SITE_URL=site_url,
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        TRUSTED_PROXIES=PROXY_ADDRESS,
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        AUDIT_HMAC_KEY=settings.AUDIT_HMAC_KEY,
        MARKING_CODE_KEY=settings.MARKING_CODE_KEY,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    return env


@pytest.fixture
def behind_nginx(request, transactional_db, celery_worker, tmp_path) -> Iterator[NginxProxy]:
    require_service(
        bool(settings.REDIS_URL) and settings.USING_POSTGRES,
        "PostgreSQL and Redis (two Daphne processes share them)",
    )
    require_service(Path(NGINX).exists(), "nginx (make test installs it)")
    log_dir = _fresh_log_dir(request.node.name)
    static_root = collected_static(tmp_path / "static")
    certificate = make_server_certificate(tmp_path / "tls")
    daphnes = [DaphneServer(env={}, log_dir=log_dir) for _ in range(2)]
    proxy = NginxProxy(
        upstreams=[f"127.0.0.1:{d.port}" for d in daphnes],
        certificate=certificate,
        static_root=static_root,
        workdir=tmp_path / "nginx",
        proxy_address=PROXY_ADDRESS,
    )
    for daphne in daphnes:
        daphne.env = production_environment(proxy.url, tmp_path / "mail")
        daphne.start()
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
        for daphne in daphnes:
            daphne.stop()
        if request.session.testsfailed:
            print("\n".join(p.log_tail() for p in (*daphnes, proxy)))


def test_an_exam_sat_over_https_and_wss_through_nginx(behind_nginx, new_context, alice, room):
    proxy = behind_nginx
    context, device = device_context(lambda: new_context(ignore_https_errors=True), proxy.url)
    attempt = attempt_start(
        candidate=alice, enrolment_id=enrol(room.sitting, room, alice).pk, device_id=device
    )
    page = context.new_page()
    sign_in(page, proxy.url, "alice")

    # Over TLS the cookies are Secure, and the pages say so (HSTS) and carry their policy (CSP).
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["sessionid"]["secure"] and cookies["csrftoken"]["secure"]
    answer = page.goto(f"{proxy.url}/attempts/{attempt.pk}/")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    # The request's id is nginx's: the same in its log and in the application's answer.
    assert answer.headers["x-request-id"] in proxy.log_fields("request_id")
    # The monitor's figures are not for the public.
    assert page.request.get(f"{proxy.url}/metrics").status == 404
    # The socket came up through nginx (wss://): the page is online and saves.
    exam_page, slots = ExamPage(page).wait_ready(), slots_of(attempt)
    single, multiple = slots[ItemKind.SINGLE][0], slots[ItemKind.MULTIPLE][0]
    exam_page.answer(single, single.right())
    exam_page.answer(multiple, multiple.right())
    exam_page.answer(slots[ItemKind.FREE_TEXT][0], "Airway, breathing, circulation.")
    exam_page.wait_all_saved()
    assert page.evaluate("() => location.protocol") == "https:"

    page.get_by_role("button", name="Finish the exam…").click()
    page.locator("#finish-dialog").get_by_role("button", name="Finish and submit").click()
    page.wait_for_url(f"**/attempts/{attempt.pk}/result/")
    expect(page.get_by_test_id("auto-percent")).to_be_visible(timeout=20_000)

    stored = stored_answers(attempt)
    assert stored[single.position][0] == single.stored(single.right())
    assert stored[multiple.position][0] == multiple.stored(multiple.right())
    assert Attempt.objects.get(pk=attempt.pk).status in (
        AttemptStatus.SUBMITTED,
        AttemptStatus.SCORED,
    )
    # The audit log names the candidate's address, not the proxy's.
    sign_ins = AuditEntry.objects.filter(kind="login")
    assert sign_ins and all(entry.data["address"] == "127.0.0.1" for entry in sign_ins)
    # Both Daphne processes served (least_conn spreads the page's requests).
    assert len(proxy.upstreams_used()) == 2, proxy.upstreams_used()
