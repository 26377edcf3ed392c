"""Checking the file's items against each other and against the topics in the database."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import Topic
from ..services.bank import TOPIC_CODE_MAX_LENGTH, TOPIC_CODE_PATTERN, TOPIC_NAME_MAX_LENGTH
from .parse_item import ParsedItem
from .problems import Problem


def cross_check(items: list[ParsedItem]) -> list[Problem]:
    """Return the problems between items of the file and with the topics in the database."""
    problems = []
    first_line: dict[str, int] = {}
    for parsed in items:
        if parsed.code in first_line:
            problems.append(
                Problem(
                    parsed.line,
                    _("the code %(code)s is already used by the item on line %(first)d")
                    % {"code": parsed.code, "first": first_line[parsed.code]},
                    parsed.code,
                    parsed.source,
                )
            )
        else:
            first_line[parsed.code] = parsed.line

    existing = set(
        Topic.objects.filter(code__in={p.topic for p in items}).values_list("code", flat=True)
    )
    # A new topic may be named on any of its items, not only the first: collect the names first.
    named: dict[str, tuple[str, int]] = {}
    for parsed in items:
        if parsed.topic in existing or not parsed.topic_name:
            continue
        if parsed.topic in named:
            name, line = named[parsed.topic]
            if name != parsed.topic_name:
                problems.append(
                    Problem(
                        parsed.line,
                        _(
                            "the new topic %(topic)s is named %(name)r here but %(other)r on line %(line)d"
                        )
                        % {
                            "topic": parsed.topic,
                            "name": parsed.topic_name,
                            "other": name,
                            "line": line,
                        },
                        parsed.code,
                        parsed.source,
                    )
                )
            continue
        if not TOPIC_CODE_PATTERN.match(parsed.topic) or len(parsed.topic) > TOPIC_CODE_MAX_LENGTH:
            problems.append(
                Problem(
                    parsed.line,
                    _("a new topic code may hold only letters, digits, - and _, at most %(n)d")
                    % {"n": TOPIC_CODE_MAX_LENGTH},
                    parsed.code,
                    parsed.source,
                )
            )
        elif len(parsed.topic_name) > TOPIC_NAME_MAX_LENGTH:
            problems.append(
                Problem(
                    parsed.line,
                    _("the topic name is longer than %(n)d characters")
                    % {"n": TOPIC_NAME_MAX_LENGTH},
                    parsed.code,
                    parsed.source,
                )
            )
        named[parsed.topic] = (parsed.topic_name, parsed.line)
    for parsed in items:
        if parsed.topic not in existing and parsed.topic not in named:
            problems.append(
                Problem(
                    parsed.line,
                    _("there is no topic %(topic)s; give its name in topic_name to create it")
                    % {"topic": parsed.topic},
                    parsed.code,
                    parsed.source,
                )
            )
    return problems
