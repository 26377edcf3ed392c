"""One answer-log row per change (issue 11, point 4): (attempt, seq) unique from now on.

A database written before this may already hold resends (up to 59 % of the rows in one drill).
They are not deleted: each batch's sealed digest in the audit chain covers its rows, so deleting
one would make verify_audit report tampering. Instead every row after the first of its
(attempt, seq) is marked `resent`, and the unique constraint holds for the unmarked rows only.
The digest does not cover the new column (exams.audit.answers.ROW_FIELDS), so the seals still match.

The constraint's index is built while the table is locked against writes: run it between sittings.
"""

from django.db import migrations, models

# Window functions: PostgreSQL, and SQLite 3.25 on (the embedded mode).
MARK_RESENDS = """
UPDATE exams_answerlog SET resent = TRUE WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY attempt_id, seq ORDER BY id) AS nth FROM exams_answerlog
    ) AS numbered WHERE nth > 1
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0007_outages_connection_gaps"),
    ]

    operations = [
        migrations.AddField(
            model_name="answerlog",
            name="resent",
            field=models.BooleanField(db_default=False),
        ),
        migrations.RunSQL(MARK_RESENDS, reverse_sql=migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="answerlog",
            constraint=models.UniqueConstraint(
                condition=models.Q(("resent", False)),
                fields=("attempt", "seq"),
                name="answer_log_one_row_per_change",
            ),
        ),
    ]
