"""Choosing the language (issue 12, point 2): a switch on every page, the sign-in page included;
`<html lang>` says the language the page is in; the browser's language is the default."""

from __future__ import annotations

import re

import pytest
from django.test import Client


def _html_lang(body: str) -> str:
    return re.search(r'<html lang="([^"]+)"', body).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "lang", "sign_in"),
    [("en", "en", "Sign in"), ("mn", "mn", "Нэвтрэх"), ("zh-hans", "zh-hans", "登录")],
)
def test_the_sign_in_page_speaks_the_browsers_language_and_says_so(accept, lang, sign_in):
    body = Client(HTTP_ACCEPT_LANGUAGE=accept).get("/login/").content.decode()
    assert _html_lang(body) == lang
    assert f"<h1>{sign_in}</h1>" in body
    # The switch names every language in itself, whatever the page's language.
    for code, name in [("en", "English"), ("mn", "Монгол"), ("zh-hans", "简体中文")]:
        assert f'value="{code}" lang="{code}"' in body and f">{name}</button>" in body


@pytest.mark.django_db
def test_the_switch_changes_the_language_and_it_stays(alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)
    answer = client.post("/language/", {"language": "mn", "next": "/"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    home = client.get("/").content.decode()
    assert _html_lang(home) == "mn"
    assert 'aria-current="true"' in home.split('value="mn"')[1].split(">")[0]
    client.post("/language/", {"language": "zh-hans", "next": "/"})
    assert _html_lang(client.get("/").content.decode()) == "zh-hans"


@pytest.mark.django_db
def test_an_unknown_language_or_a_foreign_next_changes_nothing_harmful(alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    answer = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert answer.status_code == 302 and not answer["Location"].startswith("https://evil")
    assert _html_lang(client.get("/login/").content.decode()) == "en"
