"""Form drawing (R-FORM-2): blueprint counts, no repeats, reproducible, options permuted."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from exams.drawing import BlueprintShortfall, BlueprintSlot, PoolItem, draw_form, shortfalls

KINDS = ["single", "multiple", "cause_effect", "fill_in", "free_text"]


@st.composite
def pools_and_blueprints(draw):
    topics = draw(st.integers(min_value=1, max_value=4))
    pool, blueprint, next_id = {}, [], 1
    for topic in range(1, topics + 1):
        items = []
        for _ in range(draw(st.integers(min_value=1, max_value=25))):
            kind = draw(st.sampled_from(KINDS))
            options = tuple("ABCDE") if kind in ("single", "multiple", "cause_effect") else ()
            items.append(PoolItem(next_id, kind, options, kind in ("single", "multiple")))
            next_id += 1
        pool[topic] = items
        by_kind = Counter(p.kind for p in items)
        used = 0
        for kind in draw(st.lists(st.sampled_from(sorted(by_kind)), unique=True, max_size=2)):
            count = draw(st.integers(min_value=1, max_value=by_kind[kind]))
            blueprint.append(BlueprintSlot(topic, kind, count))
            used += count
        if used < len(items) and draw(st.booleans()):
            blueprint.append(BlueprintSlot(topic, "", draw(st.integers(min_value=1, max_value=len(items) - used))))
    return pool, blueprint


@settings(max_examples=200, deadline=None)
@given(pools_and_blueprints(), st.integers(min_value=0, max_value=2**62))
def test_form_follows_blueprint_without_repeats_and_is_reproducible(case, seed):
    pool, blueprint = case
    form = draw_form(seed=seed, pool=pool, blueprint=blueprint)
    by_id = {p.version_id: (topic, p) for topic, items in pool.items() for p in items}

    assert len(form) == sum(slot.count for slot in blueprint)
    assert len({d.version_id for d in form}) == len(form), "an item was drawn twice"
    per_topic = Counter(by_id[d.version_id][0] for d in form)
    for topic in pool:
        assert per_topic[topic] == sum(s.count for s in blueprint if s.topic_id == topic)
    drawn_kinds = Counter((by_id[d.version_id][0], by_id[d.version_id][1].kind) for d in form)
    for slot in blueprint:
        if slot.kind:
            assert drawn_kinds[(slot.topic_id, slot.kind)] >= slot.count
    for d in form:
        item = by_id[d.version_id][1]
        assert sorted(d.option_order) == sorted(item.option_ids)
        if not item.shuffle_options:
            assert d.option_order == item.option_ids, "cause–effect options keep their fixed order"
    assert draw_form(seed=seed, pool=pool, blueprint=blueprint) == form, "same seed, same form"


def test_different_seeds_give_different_orders():
    pool = {1: [PoolItem(i, "single", tuple("ABCDE"), True) for i in range(1, 101)]}
    blueprint = [BlueprintSlot(1, "", 100)]
    forms = {tuple(d.version_id for d in draw_form(seed=s, pool=pool, blueprint=blueprint)) for s in range(5)}
    assert len(forms) == 5
    options = {draw_form(seed=s, pool=pool, blueprint=blueprint)[0].option_order for s in range(20)}
    assert len(options) > 1


def test_shortfall_is_reported_not_silently_filled():
    pool = {1: [PoolItem(i, "single", tuple("ABCDE"), True) for i in range(3)]}
    blueprint = [BlueprintSlot(1, "single", 4, label="anatomy")]
    assert shortfalls(pool, blueprint) == ["topic anatomy / single needs 4 items, the bank has 3 live"]
    try:
        draw_form(seed=1, pool=pool, blueprint=blueprint)
    except BlueprintShortfall:
        pass
    else:
        raise AssertionError("a blueprint the pool cannot fill must not draw")
