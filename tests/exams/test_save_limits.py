"""The HTTP save fallback takes no more changes in one request than the exam page's socket does."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from exams.models import AnswerLog, AttemptItem, ItemKind
from exams.services import MAX_CHANGES_PER_MESSAGE

from .test_views import attempt, client_for  # noqa: F401  (the fixture)

# The HTTP fallback reaches the ORM through database_sync_to_async, which closes the connection
# around each call; a test transaction cannot span that.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_http_save_fallback_refuses_more_changes_than_the_socket_takes(attempt, alice):  # noqa: F811
    """Issue 10, point 19a: 40,000 changes in one request stalled everyone's saves; the socket's cap holds here too."""
    position = (
        AttemptItem.objects.filter(attempt=attempt, item_version__item__kind=ItemKind.SINGLE)
        .first()
        .position
    )
    url = reverse("exams:attempt_save", args=[attempt.pk])
    client = client_for(alice)
    flood = [{"pos": position, "seq": seq, "value": [1]} for seq in range(1, 40_001)]
    refused = client.post(url, data=json.dumps({"changes": flood}), content_type="application/json")
    assert refused.status_code == 413
    assert f"at most {MAX_CHANGES_PER_MESSAGE}" in refused.json()["error"]
    assert not AnswerLog.objects.filter(attempt=attempt).exists()  # nothing of it was written
    # The page's own batches (at most the cap) are saved as before.
    batch = [
        {"pos": position, "seq": seq, "value": [1]} for seq in range(1, MAX_CHANGES_PER_MESSAGE + 1)
    ]
    saved = client.post(url, data=json.dumps({"changes": batch}), content_type="application/json")
    assert saved.status_code == 200 and len(saved.json()["results"]) == MAX_CHANGES_PER_MESSAGE
