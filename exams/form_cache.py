"""In-process caches for the two hot reads of exam delivery: the drawing pool and item wording.

- An item version that any attempt uses is never edited again (`item_revise` makes a new one),
  so the wording of the versions on a form can be kept in memory without invalidation.
- The pool a form is drawn from changes whenever an item or version is saved; every such save
  sets a new bank generation in the shared cache (Redis in production) once it has committed, and
  the pool is cached per exam and generation. A 500-candidate start storm then reads the bank once, not 500 times.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .drawing import PoolItem
from .models import AttemptItem, BlueprintEntry, Exam, Item, ItemVersion

BANK_GENERATION_KEY = "exams:bank-generation"
MAX_CACHED_VERSIONS = 20_000


@dataclass(frozen=True)
class VersionContent:
    kind: str
    stem: str
    reason: str
    options: dict[str, str]
    has_image: bool


class _LRU:
    def __init__(self, size: int) -> None:
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get_many(self, keys):
        with self.lock:
            found = {k: self.data[k] for k in keys if k in self.data}
            for k in found:
                self.data.move_to_end(k)
            return found

    def put_many(self, items) -> None:
        with self.lock:
            self.data.update(items)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


@dataclass(frozen=True)
class SlotRule:
    """What checking an answer to one slot needs: its row, its kind, its options as shown."""

    attempt_item_id: int
    kind: str
    option_order: tuple[str, ...]


MAX_CACHED_FORMS = 2_000

_versions = _LRU(MAX_CACHED_VERSIONS)
_forms = _LRU(MAX_CACHED_FORMS)
_pools: dict[int, tuple[str, dict[int, list[PoolItem]]]] = {}  # exam id -> (generation, pool)


def version_contents(version_ids: list[int]) -> dict[int, VersionContent]:
    """Return the wording of these (used, hence immutable) item versions."""
    found = _versions.get_many(version_ids)
    missing = [v for v in version_ids if v not in found]
    if missing:
        loaded = {
            pk: VersionContent(kind=kind, stem=stem, reason=reason, options={o["id"]: o["text"] for o in options or ()},
                               has_image=bool(image))
            for pk, kind, stem, reason, options, image in ItemVersion.objects.filter(pk__in=missing).values_list(
                "pk", "item__kind", "stem", "reason", "options", "image"
            )
        }
        _versions.put_many(loaded)
        found.update(loaded)
    return found


def form_rules(attempt_ids: list[int]) -> dict[int, dict[int, SlotRule]]:
    """Return, per attempt, its slots by position. A form is frozen at start, so never stale."""
    found = _forms.get_many(attempt_ids)
    missing = [a for a in attempt_ids if a not in found]
    if missing:
        loaded: dict[int, dict[int, SlotRule]] = {a: {} for a in missing}
        rows = AttemptItem.objects.filter(attempt_id__in=missing).values_list(
            "attempt_id", "position", "pk", "item_version__item__kind", "option_order"
        )
        for attempt_id, position, pk, kind, option_order in rows:
            loaded[attempt_id][position] = SlotRule(attempt_item_id=pk, kind=kind, option_order=tuple(option_order or ()))
        # An attempt whose items are not written yet must not be cached empty.
        _forms.put_many({a: slots for a, slots in loaded.items() if slots})
        found.update(loaded)
    return found


def bank_generation() -> str:
    """Return the bank's current generation: a token that changes after every committed change."""
    return cache.get_or_set(BANK_GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def pool_for(exam: Exam, load) -> dict[int, list[PoolItem]]:
    """Return the exam's drawing pool, loading it with `load(exam)` once per bank generation."""
    generation = bank_generation()
    cached = _pools.get(exam.pk)
    if cached is None or cached[0] != generation:
        cached = (generation, load(exam))
        _pools[exam.pk] = cached
    return cached[1]


def _new_generation() -> None:
    # A random token, not a counter: a counter restarting (Redis emptied) could meet a number
    # some process still holds a pool for.
    cache.set(BANK_GENERATION_KEY, uuid.uuid4().hex, timeout=None)


@receiver([post_save, post_delete], sender=Item)
@receiver([post_save, post_delete], sender=ItemVersion)
@receiver([post_save, post_delete], sender=BlueprintEntry)
def _bank_changed(sender, **kwargs) -> None:
    # After commit: bumped earlier, a start in another process could load the old bank under the
    # new generation and keep drawing from it.
    transaction.on_commit(_new_generation)


def clear() -> None:
    """Forget everything cached. Tests need it: their rolled-back rows hand the same ids out again,
    which never happens in production (attempts and versions are never deleted)."""
    _versions.clear()
    _forms.clear()
    _pools.clear()
