"""Issue 13, point 6: a backup restores into a new database, and verify_audit finds it intact.

deploy/backup.sh and deploy/restore.sh as the docs give them, against the real PostgreSQL: the
test database holds an exam sat (audit entries, sealed answer batches), is dumped, restored into a
database of its own, and checked there; with another audit key the same restore does not verify.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from exams.models import AuditEntry
from exams.services import attempt_start, attempt_submit
from tests.factories import (
    UserFactory,
    answer_every_item,
    enrol,
    make_bank,
    make_exam,
    make_sitting,
    right_answer,
)
from tests.servers import (
    BASE_DIR,
    database_conninfo_for_tests,
    process_environment,
    require_service,
)


@pytest.fixture
def restored_name():
    name = f"restore_test_{os.getpid()}"
    yield name
    admin = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    subprocess.run(
        ["dropdb", "--if-exists", f"--maintenance-db={admin}", name],
        check=False,
        capture_output=True,
    )


def test_a_backup_restored_into_a_new_database_verifies_intact(
    transactional_db, tmp_path, restored_name
):
    require_service(settings.USING_POSTGRES, "PostgreSQL (DATABASE_URL)")
    exam = make_exam(make_bank(topics=1, per_kind=2), per_topic=6)
    sitting = make_sitting(exam)
    room = sitting.rooms.create(name="Room A", seats=10)
    for username in ("alice", "bob"):
        candidate = UserFactory(username=username)
        attempt = attempt_start(
            candidate=candidate, enrolment_id=enrol(sitting, room, candidate).pk, device_id="d" * 32
        )
        answer_every_item(attempt, right_answer)
        attempt_submit(attempt_id=attempt.pk, by="candidate")
    entries = AuditEntry.objects.count()
    assert entries > 4

    env = {
        **process_environment(),
        "DATABASE_URL": database_conninfo_for_tests(),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    backup = subprocess.run(
        [str(BASE_DIR / "deploy" / "backup.sh"), str(tmp_path / "backups")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    dump = backup.stdout.strip().splitlines()[-1]
    new = urlunsplit(urlsplit(database_conninfo_for_tests())._replace(path=f"/{restored_name}"))
    restore = subprocess.run(
        [str(BASE_DIR / "deploy" / "restore.sh"), dump, new],
        env=env,
        capture_output=True,
        text=True,
    )
    assert restore.returncode == 0, restore.stderr
    assert f"audit log intact: {entries} entries" in restore.stdout
    assert "answer log matches" in restore.stdout

    # The seal needs the key the log was written with: the backup alone does not verify.
    other_key = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=BASE_DIR,
        env={**env, "DATABASE_URL": new, "AUDIT_HMAC_KEY": "another-key-" * 6},
        capture_output=True,
        text=True,
    )
    assert other_key.returncode != 0 and "broken at entry #1" in other_key.stderr
