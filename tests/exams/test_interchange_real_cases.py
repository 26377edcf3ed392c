"""Cases found by running the importer over 78 real files from public repositories (TAO's and
qti-sdk's samples, Moodle's fixtures and real Moodle 3 bank exports, TestVision packages, the GIFT
grammar's examples). The files themselves stay out of this repository (their licences); each case
is here as the smallest text that shows it, written for this test.
"""

from __future__ import annotations

import pytest

from exams.interchange.html_text import text_of_html
from exams.interchange.ims_package import read_package
from exams.interchange.moodle_read import read_moodle_xml
from exams.interchange.qti_read import read_qti_item
from exams.interchange.records import LOST, Pictures, not_a_kind

from .test_interchange_qti import CORRECT_C0, five_choices, item_xml, manifest, png, zipped


@pytest.fixture
def pictures(tmp_path) -> Pictures:
    return Pictures(tmp_path / "pictures")


@pytest.mark.parametrize(
    "html, text",
    [
        # HTML pasted from Word: its own tags are read for their text, not refused.
        ("<p>Explain recursion.<o:p></o:p></p>", "Explain recursion."),
        # A table whose cells hold paragraphs keeps each row on a line.
        (
            "<table><tr><td><p>5000</p></td><td><p>10</p></td></tr>"
            "<tr><td><p>10000</p></td><td>22</td></tr></table>",
            "5000 10\n\n10000 22",
        ),
        # A numbered list keeps its numbers ("statements 1 and 3 are true").
        (
            "<p>Which?</p><ol><li>A is B</li><li>C is D</li></ol>",
            "Which?\n\n1. A is B\n\n2. C is D",
        ),
        # Preformatted text keeps its lines.
        ("<p>Output?</p><pre>int a = 1;\na += 4;</pre>", "Output?\n\nint a = 1;\na += 4;"),
        # Line breaks in the HTML source are spaces, as a browser shows them.
        ("<p>Which nerve\n   supplies the thumb?</p>", "Which nerve supplies the thumb?"),
    ],
)
def test_html_as_real_editors_write_it(html, text):
    assert text_of_html(html).text == text


def test_a_qti_object_showing_a_picture_is_the_items_picture():
    read = text_of_html(
        '<p>Write Sam.</p><object type="image/png" data="postcard.png">Sam</object>'
    )
    assert (read.text, read.pictures, read.lost) == ("Write Sam.", ["postcard.png"], [])


def moodle(question: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><quiz>{question}</quiz>'.encode()


def test_a_moodle_answer_with_an_escaped_asterisk_is_that_answer(pictures):
    # A real bank (postfix notation): "\*" is an asterisk in Moodle; only "*" is a wildcard.
    data = moodle(
        '<question type="shortanswer"><name><text>Postfix</text></name>'
        '<questiontext format="html"><text>Write 43/2 in postfix.</text></questiontext>'
        '<answer fraction="100" format="moodle_auto_format"><text>43 2 /\\*</text></answer>'
        "</question>"
    )
    [record] = read_moodle_xml(data, "bank.xml", pictures).records
    assert record.fields["key"] == ["43 2 /*"]
    assert str(LOST["wildcards"]) not in record.lost


def test_moodles_cloze_export_is_refused_by_its_name(pictures):
    data = moodle(
        '<question type="cloze"><name><text>C1</text></name>'
        '<questiontext format="html"><text>{1:SHORTANSWER:=x}</text></questiontext></question>'
    )
    [refusal] = read_moodle_xml(data, "bank.xml", pictures).refusals
    assert refusal.reason == not_a_kind("cloze")


def test_a_rubric_for_test_builders_is_not_the_marking_guide(pictures):
    # TestVision writes its metadata in a rubric for the test constructor; the expected answer
    # given as the correct response is the guide then.
    data = item_xml(
        '<p>When is index i valid?</p><extendedTextInteraction responseIdentifier="RESPONSE"/>'
        '<rubricBlock view="testConstructor"><p>Bloom level: 00</p></rubricBlock>',
        '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string">'
        "<correctResponse><value>i &gt;= 0 &amp;&amp; i &lt; N</value></correctResponse>"
        "</responseDeclaration>",
    )
    [record] = read_qti_item(data, "", lambda _path: None, pictures).records
    assert record.fields["guide"] == "i >= 0 && i < N"


def test_a_package_picture_written_from_the_package_root_is_found(pictures):
    item = item_xml('<p><img src="mediafiles/chip.png" alt=""/></p>' + five_choices(), CORRECT_C0)
    data = zipped(
        {
            "imsmanifest.xml": manifest(("i1", "imsqti_item_xmlv2p1", "Course/Week 1/i1.xml")),
            "Course/Week 1/i1.xml": item,
            "mediafiles/chip.png": png(),
        }
    )
    [record] = read_package(data, "export.zip", pictures).records
    assert (pictures.folder / record.fields["image"]).read_bytes() == png()
