"""The language a person chose is remembered and follows them (issue 12, point 2): to their other
devices, and into everything sent to them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from exams.enrolling.mail import credentials_message
from languages.models import UserLanguage
from languages.services import language_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _html_lang(client: Client, path: str = "/") -> str:
    return re.search(r'<html lang="([^"]+)"', client.get(path).content.decode()).group(1)


def _signed_in(user, accept: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=accept)
    client.force_login(user)
    return client


def test_a_choice_made_signed_in_follows_the_person_to_another_device(alice):
    phone = _signed_in(alice)
    phone.post(reverse("set_language"), {"language": "mn", "next": "/"})
    assert UserLanguage.objects.get(user=alice).language == "mn"
    # Another browser whose own language is English: after sign-in the pages are in Mongolian.
    laptop = Client(HTTP_ACCEPT_LANGUAGE="en")
    laptop.post(reverse("login"), {"username": alice.username, "password": PASSWORD})
    assert _html_lang(laptop) == "mn"


def test_a_choice_made_on_the_sign_in_page_becomes_the_persons_choice(alice):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.post(reverse("set_language"), {"language": "zh-hans", "next": "/login/"})
    assert _html_lang(browser, "/login/") == "zh-hans"
    browser.post(reverse("login"), {"username": alice.username, "password": PASSWORD})
    assert language_of(alice) == "zh-hans"
    assert _html_lang(browser) == "zh-hans"


def test_without_a_choice_the_browser_decides_and_nothing_is_stored(alice):
    assert _html_lang(_signed_in(alice, accept="mn")) == "mn"
    assert not UserLanguage.objects.exists()
    assert language_of(alice) == "en"  # the site's language for what is sent


def test_a_bad_choice_is_refused_with_a_reason_and_changes_nothing(alice):
    client = _signed_in(alice)
    answer = client.post(
        reverse("set_language"), {"language": "xx", "next": "https://evil.example/"}, follow=True
    )
    assert answer.redirect_chain == [("/", 302)]
    assert "Choose one of the languages offered." in answer.content.decode()
    assert not UserLanguage.objects.exists()


def test_the_credentials_mail_is_in_the_candidates_language_not_the_senders(alice, alice_enrolment):
    UserLanguage.objects.create(user=alice, language="mn")
    with translation.override("zh-hans"):  # the administrator importing the list reads Chinese
        message = credentials_message(
            enrolment=alice_enrolment,
            sitting=alice_enrolment.sitting,
            user=alice,
            password="s3cret",
        )
    with translation.override("mn"):
        expected = translation.gettext("Your sign-in details for %(exam)s") % {
            "exam": alice_enrolment.sitting.exam.title
        }
    assert message.subject == expected
    assert not re.search(r"[\u4e00-\u9fff]", message.subject + message.body)  # no Chinese
    assert re.search(r"[А-Яа-яӨөҮү]{4}", message.body)  # Mongolian words
    assert "s3cret" in message.body
