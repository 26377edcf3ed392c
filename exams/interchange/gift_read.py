"""Moodle's GIFT text format read into the records of the bank's item format.

GIFT is what a committee writes by hand or what Moodle exports as "GIFT format": one question per
paragraph, its answers in braces. This reader follows what Moodle's own importer
(question/format/gift/format.php) does with a file, so that a file Moodle takes is read the same
way here; where Moodle would import something the bank cannot hold, the question is refused on its
own with the reason, and the rest of the file is still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from django.utils.translation import gettext as _

from .html_text import Text, text_of_html
from .records import (
    LOST,
    Pictures,
    Reading,
    Record,
    Refusal,
    UnreadableFile,
    item_code,
    not_a_kind,
)

BOM = b"\xef\xbb\xbf"
# An escaped control character is hidden behind a private-use character while the question is
# taken apart, as Moodle does with its "&&058;" placeholders, and put back in each piece of text.
ESCAPED = {"\\": "\ue05c", "~": "\ue07e", "=": "\ue03d", "#": "\ue023", "{": "\ue07b", "}": "\ue07d",
           ":": "\ue03a", "n": "\ue00a"}  # fmt: skip
RESTORED = str.maketrans(
    {hidden: ("\n" if char == "n" else char) for char, hidden in ESCAPED.items()}
)
ESCAPE = re.compile(r"\\([\\~=#{}:n])")
FORMAT = re.compile(r"\[(html|moodle|plain|markdown)\]")
WEIGHT = re.compile(r"%(-?\d+(?:\.\d*)?)%")
HTML_MARKUP = re.compile(
    r"<(/?[a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);"
)
MARKDOWN_PICTURE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
CATEGORY = "$CATEGORY:"
TRUE_FALSE = {"T", "TRUE", "F", "FALSE"}
BLANK = "_____"  # what Moodle puts where the answers stood in a "missing word" question


class _Refused(Exception):
    """A question the bank cannot take, with the reason in the board's terms."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Block:
    """A paragraph of the file: its lines without comments, with their numbers, and its comments."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


@dataclass
class _Texts:
    """Turns each piece of a question into plain text, gathering its pictures and losses."""

    pictures: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def text(self, raw: str, default_format: str) -> str:
        text_format, raw = _format_of(raw, default_format)
        raw = raw.translate(RESTORED)
        if text_format == "html":
            # Line breaks in HTML source are spaces (html_text lays it out as a browser does,
            # <pre> included); the paragraphs and <br> make the lines.
            converted = _html(raw)
        elif text_format == "moodle" and HTML_MARKUP.search(raw):
            # Moodle's own format is HTML in which a line break is kept as one. Without a tag or
            # an entity it is plain text written by hand, where "K<3.5" is no tag.
            converted = _html(raw.replace("\n", "<br>"))
        else:
            if text_format == "markdown":
                self.pictures += MARKDOWN_PICTURE.findall(raw)
            return _plain(raw)
        self.pictures += converted.pictures
        self.lost += converted.lost
        return converted.text


def read_gift(data: bytes, name: str, pictures: Pictures) -> Reading:
    """Return the questions of a GIFT file as records, and the questions the bank cannot hold.

    Untitled questions get the file's name and their place in it as code ("cardiology-3").
    `pictures` is not used: a GIFT file carries no pictures, so a question showing one is refused.
    """
    text = _decoded(data)
    prefix = _file_stem(name)
    reading = Reading()
    topic_name = ""
    number = 0
    recognised = False
    first_line = None
    for block in _blocks(text):
        lines = block.lines
        if lines[0][1].startswith(CATEGORY):
            topic_name = _category_name(lines[0][1][len(CATEGORY) :])
            recognised = True
            lines = lines[1:]
        if not lines:
            continue
        number += 1
        first_line = first_line or lines[0][0]
        body = _hide_escapes("\n".join(line for _, line in lines))
        recognised = recognised or body.startswith("::") or "{" in body or "}" in body
        result = _question(lines[0][0], body, f"{prefix}-{number}", topic_name, block.comments)
        if isinstance(result, Record):
            reading.records.append(result)
        else:
            reading.refusals.append(result)
    if number and not recognised:
        # Prose with no title, category or braces anywhere is not a GIFT file that lost its way.
        raise UnreadableFile(
            first_line,
            _(
                "this is not a GIFT file: no question has its answers in braces, as in {=right ~wrong}"
            ),
        )
    return reading


def _decoded(data: bytes) -> str:
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnreadableFile(line, _("the file is not UTF-8 text; save it as UTF-8")) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _file_stem(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"(\.(gift|txt))+$", "", base, flags=re.IGNORECASE) or "gift"


def _hide_escapes(text: str) -> str:
    return ESCAPE.sub(lambda match: ESCAPED[match.group(1)], text)


def _blocks(text: str):
    """Yield the file's paragraphs: Moodle reads a question up to the next blank line."""
    block = _Block()
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            if block.lines:
                yield block
            block = _Block()
        elif line.startswith("//"):
            block.comments.append(line)
        else:
            block.lines.append((number, line))
    if block.lines:
        yield block


def _category_name(path: str) -> str:
    """Return the last category of a path such as "$course$/top/Surgery/Trauma" ("Trauma")."""
    path = _hide_escapes(path.strip()).translate(RESTORED)
    # Moodle writes a "/" inside a category's name as "//".
    names = [part.replace("//", "/").strip() for part in re.split(r"(?<!/)/(?!/)", path)]
    names = [name for name in names if name]
    while names and re.fullmatch(r"\$\w+\$", names[0]):
        names.pop(0)
    if names and names[0] == "top":
        names.pop(0)
    return names[-1] if names else ""


def _question(
    line: int, body: str, fallback: str, topic_name: str, comments: list[str]
) -> Record | Refusal:
    try:
        title, body = _split_title(body)
    except _Refused as refused:
        return Refusal(line, item_code("", fallback), refused.reason)
    code = item_code(title, fallback)
    texts = _Texts()
    try:
        fields, lost = _fields(body, texts)
    except _Refused as refused:
        return Refusal(line, code, refused.reason)
    if texts.pictures:
        return Refusal(line, code, _missing_picture(texts.pictures[0]))
    if any("[tag:" in comment for comment in comments):
        lost.append(str(LOST["tags"]))
    fields = {"code": code, "topic": "", "topic_name": topic_name, **fields}
    return Record(line=line, fields=fields, lost=list(dict.fromkeys(texts.lost + lost)))


def _split_title(body: str) -> tuple[str, str]:
    if not body.startswith("::"):
        return "", body
    end = body.find("::", 2)
    if end < 0:
        raise _Refused(_("its title has no closing ::; write it as ::title:: before the question"))
    return body[2:end].translate(RESTORED).strip(), body[end + 2 :].strip()


def _fields(body: str, texts: _Texts) -> tuple[dict, list[str]]:
    """Return the question's fields (but code and topic) and what the bank drops of it."""
    before, answers, after = _answer_block(body)
    # As in Moodle, answers in the middle of the text leave a blank where they stood.
    stem_raw = f"{before}{BLANK}{after}" if after.strip() else before
    answers, general = _general_feedback(answers)
    text_format, stem_raw = _format_of(stem_raw, "moodle")
    kind = _kind(answers)
    stem = texts.text(stem_raw, text_format)
    lost: list[str] = []
    options: list[dict[str, str]] = []
    key: list[str] = []
    if kind in {"single", "multiple"}:
        kind, options, key = _choice(answers, text_format, texts, lost)
    elif kind == "fill_in":
        key = _accepted_answers(answers, lost)
    fields = {
        "kind": kind,
        "stem": stem,
        "options": options,
        "key": key,
        "guide": texts.text(general, text_format) if general.strip() else "",
    }
    return fields, lost


def _answer_block(body: str) -> tuple[str, str, str]:
    """Return the text before the braces, the answers inside them, and the text after them."""
    opens = [m.start() for m in re.finditer(r"\{", body)]
    closes = [m.start() for m in re.finditer(r"\}", body)]
    if not opens and not closes:
        raise _Refused(not_a_kind("description"))
    if not closes:
        raise _Refused(
            _("its answers have no closing }: a } is missing, or a blank line is inside the braces")
        )
    if not opens or closes[0] < opens[0]:
        raise _Refused(_("a } closes no answers; write \\} for a brace in the text"))
    start, end = opens[0], closes[0]
    if len(opens) > 1 and opens[1] < end:
        raise _Refused(_("a { is inside its answers; write \\{ for a brace in the text"))
    if len(opens) > 1 or len(closes) > 1:
        raise _Refused(
            _("it has more than one set of answers in braces; put a blank line between questions")
        )
    return body[:start], body[start + 1 : end].strip(), body[end + 1 :]


def _general_feedback(answers: str) -> tuple[str, str]:
    """Split off the general feedback (after ####): the bank keeps it as the marking guide."""
    at = answers.rfind("####")
    if at < 0:
        return answers, ""
    return answers[:at].strip(), answers[at + 4 :]


def _kind(answers: str) -> str:
    """Return the kind, in the order Moodle decides it, or refuse the kinds the bank lacks."""
    if not answers:
        return "free_text"
    if answers.startswith("#"):
        raise _Refused(not_a_kind("numerical"))
    if "~" in answers:
        return "multiple" if "=" not in answers else "single"
    if "=" in answers and "->" in answers:
        raise _Refused(not_a_kind("matching"))
    if answers.split("#", 1)[0].strip().upper() in TRUE_FALSE:
        raise _Refused(not_a_kind("truefalse"))
    return "fill_in"


@dataclass
class _Answer:
    weight: float
    text: str
    feedback: str


def _answers(answers: str, weights: dict[str, float]) -> list[_Answer]:
    """Split answers at each mark (~ or =), whose weight is given, unless %weight% says otherwise.

    A text before the first mark is an answer too, weighted as weights[""], as Moodle takes it.
    """
    marks = "".join(weights)
    result = []
    for part in re.split(f"(?=[{re.escape(marks)}])", answers):
        part = part.strip()
        if not part:
            continue
        mark = part[0] if part[0] in marks else ""
        weight, part = weights[mark], part[len(mark) :].lstrip()
        match = WEIGHT.match(part)
        if match:
            weight, part = float(match.group(1)), part[match.end() :]
        text, _hash, feedback = part.partition("#")
        result.append(_Answer(weight, text.strip(), feedback))
    return result


def _choice(
    answers: str, text_format: str, texts: _Texts, lost: list[str]
) -> tuple[str, list[dict[str, str]], list[str]]:
    """Return the kind, options and key of a choice question.

    An answer marked = makes it single-answer, as in Moodle; without one, every answer with a
    positive weight is right and it is multiple-answer.
    """
    single = "=" in answers
    parsed = _answers(answers, {"~": 0.0, "=": 100.0, "": 0.0})
    options, key = [], []
    for index, answer in enumerate(parsed):
        option_id = _option_id(index)
        options.append({"id": option_id, "text": texts.text(answer.text, text_format)})
        if answer.weight >= 100 or (not single and answer.weight > 0):
            key.append(option_id)
    _note_losses(parsed, lost)
    return ("single" if single else "multiple"), options, key


def _accepted_answers(answers: str, lost: list[str]) -> list[str]:
    """Return the answers worth the most: the bank marks a fill-in answer right or wrong."""
    parsed = [a for a in _answers(answers, {"=": 100.0, "": 100.0}) if a.text]
    for answer in parsed:
        answer.text = _format_of(answer.text, "plain")[1].translate(RESTORED).strip()
    top = max((a.weight for a in parsed if a.weight > 0), default=None)
    key = list(dict.fromkeys(a.text for a in parsed if top is not None and a.weight == top))
    _note_losses(parsed, lost)
    if any("*" in answer for answer in key):
        lost.append(str(LOST["wildcards"]))
    return key


def _note_losses(parsed: list[_Answer], lost: list[str]) -> None:
    if any(0 < answer.weight < 100 for answer in parsed):
        lost.append(str(LOST["weights"]))
    if any(answer.weight < 0 for answer in parsed):
        lost.append(str(LOST["penalty"]))
    if any(_format_of(answer.feedback, "moodle")[1].strip() for answer in parsed):
        lost.append(str(LOST["feedback"]))


def _option_id(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def _format_of(raw: str, default_format: str) -> tuple[str, str]:
    """Return a text's format (a leading [html], [moodle], [plain] or [markdown]) and the text."""
    raw = raw.strip()
    match = FORMAT.match(raw)
    if match:
        return match.group(1), raw[match.end() :]
    return default_format, raw


def _html(html: str) -> Text:
    try:
        return text_of_html(html)
    except ValueError as exc:  # lxml makes a tag of "<y?" and then cannot name it
        raise _Refused(_("its HTML cannot be read; write < in a text as &lt;")) from exc


def _plain(text: str) -> str:
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _missing_picture(source: str) -> str:
    # Moodle's export names its own files @@PLUGINFILE@@/name; the name is what a board recognises.
    prefix = "@@PLUGINFILE@@/"
    name = unquote(source[len(prefix) :]) if source.startswith(prefix) else source
    return _(
        "its picture %(name)s is not in the file (GIFT carries no pictures; use Moodle XML)"
    ) % {"name": name}
