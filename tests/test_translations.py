"""Every message of the project in Mongolian and Chinese (issue 12, point 1).

Fails when a message of the code or the templates is missing from a catalogue (run
`make catalogues`), when a catalogue holds a message without a translation or a fuzzy one, or
when a translation drops or changes a placeholder of its message.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("mn", "zh_Hans")
# What makemessages reads: the project's own code and templates, as `make catalogues` runs it.
IGNORED = (".venv", "node_modules", "bench", "tests", "staticfiles", "test-artifacts")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sdif]|\{[a-z_]*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False


def _unquote(line: str) -> str:
    return ast.literal_eval(line.strip())


def parse_po(path: Path) -> list[Entry]:
    """Return the catalogue's live entries (not the header, not the obsolete ones)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid") for line in lines):
            continue
        entry, target = Entry(), None
        for line in lines:
            if line.startswith("#,"):
                entry.fuzzy = "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural "):
                entry.msgid_plural, target = _unquote(line[13:]), "msgid_plural"
            elif line.startswith("msgid "):
                entry.msgid, target = _unquote(line[6:]), "msgid"
            elif line.startswith("msgstr"):
                entry.msgstrs.append(_unquote(line.split(" ", 1)[1]))
                target = "msgstr"
            elif line.startswith('"'):
                if target == "msgstr":
                    entry.msgstrs[-1] += _unquote(line)
                else:
                    setattr(entry, target, getattr(entry, target) + _unquote(line))
        if entry.msgid:
            entries.append(entry)
    return entries


def _catalogue(language: str, root: Path = ROOT) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    entries = parse_po(_catalogue(language))
    assert len(entries) > 500  # the whole project's catalogue, not a stub
    untranslated = [
        e.msgid for e in entries if not e.msgstrs or not all(s.strip() for s in e.msgstrs)
    ]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert not untranslated, (
        f"{len(untranslated)} messages without a {language} translation: {untranslated[:10]}"
    )
    assert not fuzzy, f"{len(fuzzy)} fuzzy {language} translations: {fuzzy[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_keeps_the_placeholders_of_its_message(language):
    wrong = []
    for entry in parse_po(_catalogue(language)):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in entry.msgstrs:
            found = sorted(PLACEHOLDER.findall(text))
            # A plural's singular may say "one" instead of %(n)d; it must not add any other.
            if found != wanted and not (entry.msgid_plural and set(found) < set(wanted)):
                wrong.append((entry.msgid, text))
    assert not wrong, f"{len(wrong)} {language} translations whose placeholders differ: {wrong[:5]}"


def test_the_catalogues_hold_every_message_of_the_code(tmp_path):
    """makemessages on a copy of the project finds no message the catalogues lack."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in tracked + untracked:
        source = ROOT / name
        if name.split("/")[0] in IGNORED or name.startswith("locale/") or not source.is_file():
            continue
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, tmp_path / name)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "mn", "-v0", "--add-location", "file"]
        + [f"--ignore={name}" for name in IGNORED],
        cwd=tmp_path,
        check=True,
    )
    in_code = {(e.msgid, e.msgid_plural) for e in parse_po(_catalogue("mn", tmp_path))}
    for language in LANGUAGES:
        in_catalogue = {(e.msgid, e.msgid_plural) for e in parse_po(_catalogue(language))}
        missing = in_code - in_catalogue
        assert not missing, (
            f"{len(missing)} messages of the code are not in the {language} catalogue "
            f"(run `make catalogues`, then translate them): {sorted(missing)[:10]}"
        )
