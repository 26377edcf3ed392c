"""Items in the formats other systems exchange them in (R-BANK-3): QTI 2.1/2.2 and IMS content
packages (TAO and item-banking tools), Moodle XML and GIFT (Moodle).

Each reader turns a foreign file into the records of the bank's own item format
(docs/item-format.md), so that exams.importing checks, plans and writes them as it does a JSON
file; each writer turns the bank's records into a foreign file that its reader reads back the
same. An item the bank cannot hold is refused on its own, with the reason in the board's terms;
what an item had that the bank drops (feedback, partial-credit weights) is named beside it.

This package is below exams.importing and exams.exporting: it knows the item format's fields and
nothing of the database.
"""
