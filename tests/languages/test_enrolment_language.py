"""The language a candidate reads, named by the board (issue 12, point 2): a column of the enrolment
CSV, or the exam's default; a choice the candidate makes themselves wins over both."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from exams.enrolling import EnrolmentRefused, enrolment_import
from languages.models import UserLanguage
from languages.services import language_choose, language_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HEADER = "ticket_number,given_name,family_name,email,room,seat,grade,language\n"
FILE = HEADER + (
    "T-001,Болд,Бат,bold@example.org,Room A,1,Surgeon,Монгол\n"
    "T-002,小明,王,wang@example.org,Room A,2,Nurse,zh-CN\n"
    "T-003,Anna,Smith,anna@example.org,Room A,3,Nurse,\n"
)


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _import(sitting, text, capture):
    with capture(execute=True):
        return enrolment_import(sitting=sitting, rows_source=text)


def _subject_in(language: str, exam: str) -> str:
    with translation.override(language):
        return translation.gettext("Your sign-in details for %(exam)s") % {"exam": exam}


def test_the_files_language_column_sets_each_candidates_language_and_their_mail(
    sitting, room_a, mailoutbox, django_capture_on_commit_callbacks
):
    _import(sitting, FILE, django_capture_on_commit_callbacks)

    languages = dict(UserLanguage.objects.values_list("user__username", "language"))
    assert languages == {"t-001": "mn", "t-002": "zh-hans"}  # a blank cell names none
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    title = sitting.exam.title
    assert subjects["bold@example.org"] == _subject_in("mn", title) != _subject_in("en", title)
    assert subjects["wang@example.org"] == _subject_in("zh-hans", title)
    assert subjects["anna@example.org"] == _subject_in("en", title)
    wang = next(m for m in mailoutbox if m.to[0] == "wang@example.org")
    assert "王小明" in wang.body  # a Chinese name, family name first and no space
    bold = next(m for m in mailoutbox if m.to[0] == "bold@example.org")
    assert "Бат Болд" in bold.body  # овог, then нэр


def test_an_unknown_language_refuses_the_file_naming_the_line_and_the_languages_offered(
    sitting, room_a
):
    text = HEADER + "T-001,Saraa,Bold,saraa@example.org,Room A,1,Nurse,Klingon\n"
    with pytest.raises(EnrolmentRefused) as refused:
        enrolment_import(sitting=sitting, rows_source=text)
    (problem,) = refused.value.problems
    assert problem.line == 2
    assert "Klingon" in problem.text and "zh-hans" in problem.text
    assert not UserLanguage.objects.exists()


def test_a_later_file_changes_the_files_language_but_never_the_candidates_own_choice(
    sitting, room_a, django_capture_on_commit_callbacks
):
    _import(sitting, FILE, django_capture_on_commit_callbacks)
    wang = UserLanguage.objects.get(user__username="t-002").user
    language_choose(wang, "en")  # the candidate switched to English themselves
    swapped = FILE.replace(",Монгол\n", ",zh\n").replace(",zh-CN\n", ",mn\n")
    _import(sitting, swapped, django_capture_on_commit_callbacks)
    assert language_of(wang) == "en"
    assert language_of(UserLanguage.objects.get(user__username="t-001").user) == "zh-hans"


def test_the_exams_language_is_what_a_candidate_who_never_chose_reads(
    sitting, room_a, mailoutbox, django_capture_on_commit_callbacks
):
    sitting.exam.language = "mn"
    sitting.exam.save(update_fields=["language"])
    _import(sitting, FILE, django_capture_on_commit_callbacks)
    anna = next(m for m in mailoutbox if m.to[0] == "anna@example.org")
    assert anna.subject == _subject_in("mn", sitting.exam.title)  # the exam's, not the site's
    wang = next(m for m in mailoutbox if m.to[0] == "wang@example.org")
    assert wang.subject == _subject_in(
        "zh-hans", sitting.exam.title
    )  # the file's wins over the exam's

    # Anna signs in on a browser that asks for English: her pages are in the exam's language.
    user = get_user_model().objects.get(username="t-003")
    user.set_password(PASSWORD)
    user.save()
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.post(reverse("login"), {"username": "t-003", "password": PASSWORD})
    assert re.search(r'<html lang="([^"]+)"', browser.get("/").content.decode()).group(1) == "mn"
    assert not UserLanguage.objects.filter(
        user=user
    ).exists()  # the exam's language is not her choice
