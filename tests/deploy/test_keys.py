"""Issue 13, points 1 and 2: one key per job, and no demo login with its published password."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.contrib.auth import get_user_model

from config.preflight import refuse_demo_logins
from config.secrets import key_for
from exams.audit.chain import _canonical, audit_append, verify_chain
from exams.demo import LOGINS
from exams.models import AuditEntry
from grading.anonymity import anonymous_code
from tests.exams.test_audit import tamper


def test_the_marking_codes_follow_their_own_key_not_the_session_secret(settings):
    code = anonymous_code(41)
    settings.SECRET_KEY = "another-session-secret-" * 3
    assert anonymous_code(41) == code
    settings.MARKING_CODE_KEY = "another-marking-key-" * 3
    assert anonymous_code(41) != code


@pytest.mark.django_db
def test_an_entry_resealed_with_the_session_secret_does_not_verify(settings):
    """Whoever holds SECRET_KEY (it signs every cookie) cannot make an edited decision look intact."""
    audit_append("complaint.decided", subject="complaint:7", data={"decision": "rejected"})
    entry = AuditEntry.objects.get()
    entry.data = {"decision": "upheld"}
    canonical = _canonical(
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        kind=entry.kind,
        subject=entry.subject,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )
    for guess in (settings.SECRET_KEY, f"audit:{settings.SECRET_KEY}"):
        forged = hmac.new(guess.encode(), canonical, hashlib.sha256).hexdigest()
        tamper(
            "UPDATE exams_auditentry SET data = %s, entry_hash = %s WHERE seq = %s",
            ['{"decision": "upheld"}', forged, entry.seq],
        )
        _checked, fault = verify_chain()
        assert fault is not None and "edited" in fault.reason


def test_outside_production_a_missing_key_is_made_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDIT_HMAC_KEY", raising=False)
    monkeypatch.delenv("AUDIT_HMAC_KEY_FILE", raising=False)
    first = key_for("AUDIT_HMAC_KEY", production=False, keys_dir=tmp_path)
    assert (
        len(first) >= 50 and key_for("AUDIT_HMAC_KEY", production=False, keys_dir=tmp_path) == first
    )
    assert (tmp_path / "audit_hmac_key").stat().st_mode & 0o077 == 0  # the owner's alone
    assert key_for("MARKING_CODE_KEY", production=False, keys_dir=tmp_path) != first


@pytest.mark.django_db
def test_production_does_not_serve_while_a_demo_login_opens_with_its_published_password(settings):
    settings.PRODUCTION = True
    refuse_demo_logins()  # no demo logins: serves
    admin = next(login for login in LOGINS if login.username == "admin")
    user = get_user_model().objects.create_superuser(
        admin.username, "admin@board.example", admin.password
    )
    with pytest.raises(
        SystemExit, match="admin still open with the password printed in the README"
    ):
        refuse_demo_logins()
    user.set_password("a password of the board's own, 2026")
    user.save()
    refuse_demo_logins()
    settings.PRODUCTION = False
    user.set_password(admin.password)
    user.save()
    refuse_demo_logins()  # the embedded default loads the demo on purpose
