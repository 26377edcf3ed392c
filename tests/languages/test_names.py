"""Names in the order each language writes them, and lists sorted as its readers sort (issue 12, point 3)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from languages.collation import sorted_by_name
from languages.names import person_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "family", "language", "shown"),
    [
        ("Saraa", "Bold", "en", "Saraa Bold"),
        ("Saraa", "Bold", "mn", "Bold Saraa"),
        ("Болд", "Бат", "mn", "Бат Болд"),
        ("Болд", "Бат", "en", "Болд Бат"),
        ("小明", "王", "zh-hans", "王小明"),
        (
            "小明",
            "王",
            "en",
            "王小明",
        ),  # a name in Chinese characters is family first in any language
        ("Wei", "Zhang", "zh-hans", "Zhang Wei"),
        ("Wei", "Zhang", "en", "Wei Zhang"),
        ("", "Bold", "en", "Bold"),
    ],
)
def test_a_name_is_written_in_its_languages_order(given, family, language, shown):
    person = UserFactory.build(first_name=given, last_name=family)
    assert person_name(person, language) == shown


def test_a_person_without_a_name_is_shown_by_username():
    assert person_name(UserFactory.build(username="t-007", first_name="", last_name="")) == "t-007"


def test_every_template_has_the_person_name_filter_in_the_pages_language():
    person = UserFactory.build(first_name="Saraa", last_name="Bold")
    template = Template("{{ person|person_name }}")
    with translation.override("mn"):
        assert template.render(Context({"person": person})) == "Bold Saraa"


def _people(names: list[tuple[str, str]]):
    return [
        UserFactory.build(username=f"u{n}", first_name=given, last_name=family)
        for n, (family, given) in enumerate(names)
    ]


def test_mongolian_names_sort_with_o_barred_after_o_and_u_straight_after_u():
    people = _people(
        [
            ("Үүрийн", "Ану"),
            ("Өлзий", "Бат"),
            ("Уянга", "Сүх"),
            ("Оюун", "Дорж"),
            ("Ялалт", "Гэрэл"),
            ("Бат", "Нараа"),
        ]
    )
    # By code point Ө and Ү come after Я; a Mongolian reader looks for them after О and У.
    assert [p.last_name for p in sorted_by_name(people, language="mn")] == [
        "Бат",
        "Оюун",
        "Өлзий",
        "Уянга",
        "Үүрийн",
        "Ялалт",
    ]


def test_chinese_names_sort_by_pinyin():
    people = _people(
        [("赵", "磊"), ("王", "小明"), ("陈", "静"), ("李", "娜"), ("张", "伟"), ("阿", "明")]
    )
    # a, chen, li, wang, zhang, zhao: not the order of the characters' code points.
    assert [p.last_name for p in sorted_by_name(people, language="zh-hans")] == [
        "阿",
        "陈",
        "李",
        "王",
        "张",
        "赵",
    ]


def test_the_family_name_sorts_first_then_the_given_name():
    people = _people([("Bold", "Tuya"), ("Adiya", "Zaya"), ("Bold", "Anu")])
    assert [person_name(p, "en") for p in sorted_by_name(people, language="en")] == [
        "Zaya Adiya",
        "Anu Bold",
        "Tuya Bold",
    ]
