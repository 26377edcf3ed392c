"""Drawing a candidate's form from the bank by the blueprint (R-FORM-2).

A pure function of (seed, pool, blueprint): the same inputs always give the same form, which is
how a form can be reproduced later; the attempt also freezes the result in its AttemptItem rows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _


class BlueprintShortfall(Exception):
    """The bank holds fewer live items than a blueprint entry asks for."""


@dataclass(frozen=True)
class BlueprintSlot:
    topic_id: int
    kind: str  # "" means any kind
    count: int
    label: str = ""  # how the slot is named in messages, e.g. the topic's code


@dataclass(frozen=True)
class PoolItem:
    version_id: int
    kind: str
    option_ids: tuple[str, ...]
    shuffle_options: bool


@dataclass(frozen=True)
class DrawnItem:
    version_id: int
    option_order: tuple[str, ...]


def shortfalls(pool: Mapping[int, Sequence[PoolItem]], blueprint: Sequence[BlueprintSlot]) -> list[str]:
    """Return a message per blueprint slot the pool cannot fill (kind-specific slots first)."""
    problems: list[str] = []
    used: dict[int, int] = {}
    for slot in sorted(blueprint, key=lambda s: (s.topic_id, s.kind == "", s.kind)):
        candidates = [p for p in pool.get(slot.topic_id, ()) if not slot.kind or p.kind == slot.kind]
        available = len(candidates) if slot.kind else len(candidates) - used.get(slot.topic_id, 0)
        if available < slot.count:
            problems.append(
                _("topic %(topic)s%(kind)s needs %(need)d items, the bank has %(have)d live")
                % {"topic": slot.label or slot.topic_id, "kind": f" / {slot.kind}" if slot.kind else "", "need": slot.count, "have": max(available, 0)}
            )
        used[slot.topic_id] = used.get(slot.topic_id, 0) + slot.count
    return problems


def draw_form(*, seed: int, pool: Mapping[int, Sequence[PoolItem]], blueprint: Sequence[BlueprintSlot]) -> list[DrawnItem]:
    """Return the form: items drawn per blueprint slot, in a shuffled order, options shuffled.

    `pool` maps a topic id to its live items. Kind-specific slots are drawn before "any kind"
    slots of the same topic, and no item is drawn twice.
    """
    rng = random.Random(seed)
    chosen: list[PoolItem] = []
    taken: set[int] = set()
    for slot in sorted(blueprint, key=lambda s: (s.topic_id, s.kind == "", s.kind)):
        candidates = sorted(
            (p for p in pool.get(slot.topic_id, ()) if p.version_id not in taken and (not slot.kind or p.kind == slot.kind)),
            key=lambda p: p.version_id,
        )
        if len(candidates) < slot.count:
            raise BlueprintShortfall(
                _("The bank has %(have)d items for a blueprint slot that needs %(need)d.")
                % {"have": len(candidates), "need": slot.count}
            )
        picked = rng.sample(candidates, slot.count)
        chosen.extend(picked)
        taken.update(p.version_id for p in picked)
    rng.shuffle(chosen)
    return [
        DrawnItem(
            version_id=p.version_id,
            option_order=tuple(rng.sample(p.option_ids, len(p.option_ids))) if p.shuffle_options else p.option_ids,
        )
        for p in chosen
    ]
