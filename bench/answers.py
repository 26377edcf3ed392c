"""One candidate's next answer change, as a page sends it: shared by the delivery bench's savers
(client.py) and the fault drills' pages (pages.py)."""

from __future__ import annotations

import random

TEXTS = ["500 mg", "1 g", "2 mg", "ultrasound first, then contrast CT",
         "Resuscitate (airway, breathing, circulation), two large-bore cannulas, bloods and cross-match, "
         "analgesia, urgent imaging; consent and theatre if unstable."]


def random_change(items: list[dict], seq: int) -> dict:
    """A change to a random item: options chosen (1-3 for a multiple-response item), or a text."""
    item = random.choice(items)
    options = item.get("options")
    if options:
        if item["kind"] == "multiple":
            value = sorted(random.sample(range(len(options)), random.randint(1, min(3, len(options)))))
        else:
            value = [random.randrange(len(options))]
    else:
        value = random.choice(TEXTS)
    return {"seq": seq, "pos": item["pos"], "value": value, "flagged": random.random() < 0.05}
