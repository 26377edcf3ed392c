"""The reports' life (R-AUD-2): drafted when the sitting ends, due 2 hours later, edited, signed,
filed once; every step in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from exams.audit import verify_chain
from exams.models import AuditEntry, Council, OversightReport, ReportSignature
from exams.models.oversight import Timeliness, text_sha256
from exams.oversight import services
from exams.oversight.services import OversightError

from ..factories import UserFactory, make_sitting
from ..servers import require_service


@pytest.fixture
def sitting(exam):
    """Proctored, started 2 h 30 min ago, entry closed an hour later; nobody enrolled: it ended when entry closed."""
    return make_sitting(exam, proctored=True, starts_in=timedelta(hours=-2, minutes=-30), late_entry_minutes=60)


@pytest.fixture
def second_external(sitting, administrator):
    user = UserFactory(username="external2")
    services.council_member_add(sitting_id=sitting.pk, council=Council.EXTERNAL, user=user, by=administrator)
    return user


@pytest.fixture
def reports(sitting, room_a, software_member, external_member) -> dict[str, OversightReport]:
    services.reports_draft(sitting_id=sitting.pk)
    return {r.council: r for r in OversightReport.objects.filter(sitting=sitting)}


def refreshed(report: OversightReport) -> OversightReport:
    return OversightReport.objects.get(pk=report.pk)


def sign(report: OversightReport, user, **kwargs) -> ReportSignature:
    return services.report_sign(report_id=report.pk, by=user, sha256=refreshed(report).sha256, **kwargs)


def edit(report: OversightReport, user, text: str, **kwargs) -> OversightReport:
    return services.report_edit(report_id=report.pk, by=user, text=text, revision=refreshed(report).revision, **kwargs)


def test_both_reports_are_drafted_once_the_sitting_ended_and_are_due_two_hours_after_its_end(reports, sitting):
    assert set(reports) == {Council.SOFTWARE, Council.EXTERNAL}
    for report in reports.values():
        assert report.sitting_ended_at == sitting.entry_closes_at
        assert report.due_at == sitting.entry_closes_at + timedelta(hours=2)
        assert report.text.startswith(str(Council(report.council).label).upper())
        assert report.signatures.count() == 0 and not report.is_filed


def test_nothing_is_drafted_while_the_sitting_is_under_way(exam, room_a):
    running = make_sitting(exam, proctored=True, starts_in=timedelta(minutes=-5), late_entry_minutes=60)
    assert services.reports_draft(sitting_id=running.pk) == []
    assert not OversightReport.objects.filter(sitting=running).exists()


@pytest.mark.parametrize(("filed_after_due", "expected"), [(timedelta(minutes=-1), Timeliness.FILED_ON_TIME),
                                                          (timedelta(0), Timeliness.FILED_ON_TIME),
                                                          (timedelta(seconds=1), Timeliness.FILED_LATE)])
def test_filed_on_time_or_late_by_the_due_time(reports, external_member, filed_after_due, expected):
    report = reports[Council.EXTERNAL]
    when = report.due_at + filed_after_due
    sign(report, external_member, now=when - timedelta(seconds=1))
    filed = services.report_file(report_id=report.pk, by=external_member, now=when)
    assert filed.timeliness(when + timedelta(days=3)) == expected


def test_an_unfiled_report_is_due_until_its_due_time_then_overdue(reports):
    report = reports[Council.SOFTWARE]
    assert report.timeliness(report.due_at) == Timeliness.DUE
    assert report.timeliness(report.due_at + timedelta(seconds=1)) == Timeliness.OVERDUE


def test_a_signature_records_who_when_and_the_hash_of_the_text(reports, software_member):
    report = reports[Council.SOFTWARE]
    signature = sign(report, software_member)
    assert signature.signer == software_member and signature.signed_at is not None
    assert signature.text_sha256 == text_sha256(report.text) and signature.revision == 1
    assert sign(report, software_member).pk == signature.pk  # signing twice: the same signature


def test_editing_after_a_signature_voids_every_signature(reports, external_member, second_external):
    report = reports[Council.EXTERNAL]
    first = sign(report, external_member)
    second = sign(report, second_external)
    edited = edit(report, second_external, report.text + "\nThe exam ran calmly.")
    assert edited.revision == 2 and edited.edited_by == second_external
    assert ReportSignature.objects.get(pk=first.pk).voided_at is not None
    assert ReportSignature.objects.get(pk=second.pk).voided_at is not None
    assert services.standing_signatures(edited) == []
    entry = AuditEntry.objects.filter(kind="oversight.edited").get()
    assert sorted(entry.data["voided"]) == ["external", "external2"] and entry.data["sha256"] == edited.sha256
    # Signing again covers the new text.
    assert sign(edited, external_member).text_sha256 == text_sha256(edited.text)


def test_saving_the_same_text_changes_nothing_and_voids_nothing(reports, external_member):
    report = reports[Council.EXTERNAL]
    signature = sign(report, external_member)
    assert edit(report, external_member, report.text.replace("\n", "\r\n")).revision == 1  # a browser's CRLF is the same text
    assert ReportSignature.objects.get(pk=signature.pk).is_standing


def test_signing_a_text_that_changed_since_it_was_read_is_refused(reports, external_member, second_external):
    report = reports[Council.EXTERNAL]
    read = report.sha256
    edit(report, second_external, "New text")
    with pytest.raises(OversightError, match="changed since you opened it"):
        services.report_sign(report_id=report.pk, by=external_member, sha256=read)


def test_an_edit_from_an_older_revision_does_not_overwrite_a_newer_one(reports, external_member, second_external):
    report = reports[Council.EXTERNAL]
    edit(report, second_external, "Theirs")
    with pytest.raises(OversightError, match="changed the report while you were editing"):
        services.report_edit(report_id=report.pk, by=external_member, text="Mine", revision=1)
    assert refreshed(report).text == "Theirs"


def test_filing_needs_more_than_half_of_the_council_and_the_filers_signature(reports, external_member, second_external):
    report = reports[Council.EXTERNAL]  # two members: both must sign
    with pytest.raises(OversightError, match="Sign the report before"):
        services.report_file(report_id=report.pk, by=external_member)
    sign(report, external_member)
    with pytest.raises(OversightError, match="needs the signatures of 2 members"):
        services.report_file(report_id=report.pk, by=external_member)
    sign(report, second_external)
    assert services.report_file(report_id=report.pk, by=external_member).is_filed


def test_a_filed_report_is_frozen(reports, software_member):
    report = reports[Council.SOFTWARE]
    sign(report, software_member)
    filed = services.report_file(report_id=report.pk, by=software_member)
    assert filed.filed_sha256 == text_sha256(filed.text)
    for attempt in (lambda: edit(filed, software_member, "rewritten"), lambda: sign(filed, software_member),
                    lambda: services.report_file(report_id=filed.pk, by=software_member)):
        with pytest.raises(OversightError, match="was filed"):
            attempt()
    assert refreshed(filed).text == report.text and refreshed(filed).filed_at == filed.filed_at


def test_on_postgresql_the_database_refuses_to_change_a_filed_report(reports, software_member):
    require_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL), where a trigger freezes filed reports")
    report = reports[Council.SOFTWARE]
    sign(report, software_member)
    services.report_file(report_id=report.pk, by=software_member)
    with pytest.raises(DatabaseError, match="is filed"), transaction.atomic():
        OversightReport.objects.filter(pk=report.pk).update(text="rewritten behind the council's back")
    with pytest.raises(DatabaseError, match="is filed"), transaction.atomic():
        OversightReport.objects.filter(pk=report.pk).delete()


def test_only_members_of_the_reports_council_edit_sign_or_file(reports, software_member, external_member, proctor_a):
    report = reports[Council.SOFTWARE]
    for outsider in (external_member, proctor_a):
        with pytest.raises(OversightError) as refused:
            sign(report, outsider)
        assert refused.value.code == "not_found"
        with pytest.raises(OversightError):
            edit(report, outsider, "mine now")


def test_an_empty_text_is_refused(reports, software_member):
    with pytest.raises(OversightError, match="cannot be empty"):
        edit(reports[Council.SOFTWARE], software_member, "  \n ")


def test_every_draft_signature_edit_and_filing_is_in_the_audit_log(reports, sitting, software_member):
    report = reports[Council.SOFTWARE]
    edit(report, software_member, report.text + "\nServer ran without faults.")
    sign(report, software_member)
    services.report_file(report_id=report.pk, by=software_member)
    entries = list(AuditEntry.objects.filter(kind__startswith="oversight.", subject=f"sitting:{sitting.pk}"))
    kinds = [e.kind for e in entries]
    assert kinds.count("oversight.drafted") == 2
    assert kinds[-3:] == ["oversight.edited", "oversight.signed", "oversight.filed"]
    filed = entries[-1]
    assert filed.actor_name == "software" and filed.data["sha256"] == refreshed(report).sha256
    assert filed.data["signers"] == ["software"] and filed.data["on_time"] is True
    assert verify_chain()[1] is None


def test_a_removed_members_signature_no_longer_counts(reports, sitting, external_member, second_external, administrator):
    report = reports[Council.EXTERNAL]
    sign(report, external_member)
    sign(report, second_external)
    services.council_member_remove(sitting_id=sitting.pk, council=Council.EXTERNAL, user=second_external, by=administrator)
    assert [s.signer for s in services.standing_signatures(refreshed(report))] == [external_member]
    assert services.signatures_needed(refreshed(report)) == 1
    assert services.report_file(report_id=report.pk, by=external_member, now=timezone.now()).is_filed
