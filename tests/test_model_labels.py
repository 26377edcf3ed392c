"""Every model and field of the project's apps has a translated admin label (issue 12: "admin
labels of the project's models" in English, Mongolian and Chinese).

A field without `verbose_name` gets one Django derives from its name ("starts at"), and a model
without `Meta.verbose_name` one derived from its class name: English that no catalogue can
translate. How the test tells a written label from a derived one:

- A field's derived label is a plain `str` (`Field.set_attributes_from_name`), and so is a label
  written without `gettext_lazy`; a label written as `_("…")` is a lazy `Promise`. So a field
  passes when its `verbose_name` is a `Promise`. Comparing with `name.replace("_", " ")` would not
  do: it lets a plain-str label through, and fails a marked label worded like the name.
- A model's derived `verbose_name_plural` is itself lazy (`format_lazy("{}s", …)`), so a Promise
  proves nothing there. `Meta` attributes the code wrote are kept in `_meta.original_attrs`: a
  model passes when both names are there, and both are Promises.

The fields checked are the ones a person can see in the admin: concrete fields and many-to-many
fields, not the auto-created primary key (`id`) nor reverse relations (both `auto_created`).
Then, with the compiled catalogues (`make messages`), every label reads differently in Mongolian
and Chinese than in English: the catalogue has it translated, not only marked.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.functional import Promise

APPS = ("exams", "proctoring", "grading", "complaints", "signin", "languages")
MODELS = [model for label in APPS for model in apps.get_app_config(label).get_models()]
TRANSLATED = ("mn", "zh-hans")


def _shown_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields the admin can show: concrete and many-to-many, written in the model."""
    return [
        field
        for field in model._meta.get_fields()
        if not field.auto_created and (field.concrete or field.many_to_many)
    ]


def _labels(model: type[models.Model]) -> dict[str, object]:
    """Each label of the model: its two names and each shown field's, by where they are written."""
    found = {
        "Meta.verbose_name": model._meta.verbose_name,
        "Meta.verbose_name_plural": model._meta.verbose_name_plural,
    }
    found.update({field.name: field.verbose_name for field in _shown_fields(model)})
    return found


def _id(model: type[models.Model]) -> str:
    return model._meta.label


def test_every_app_has_models():
    """A renamed app or a moved models module would otherwise leave the test checking nothing."""
    for label in APPS:
        assert list(apps.get_app_config(label).get_models()), label
    assert len(MODELS) > 40


@pytest.mark.parametrize("model", MODELS, ids=_id)
def test_every_field_has_a_translated_label(model):
    unmarked = {
        field.name: field.verbose_name
        for field in _shown_fields(model)
        if not isinstance(field.verbose_name, Promise)
    }
    assert not unmarked, (
        f"{model._meta.label}: fields without a verbose_name marked for translation "
        f'(write `_("…")` as the first argument, or verbose_name=_("…") for a relation): {unmarked}'
    )


@pytest.mark.parametrize("model", MODELS, ids=_id)
def test_every_model_has_translated_names(model):
    written = model._meta.original_attrs
    missing = [
        name
        for name in ("verbose_name", "verbose_name_plural")
        if not isinstance(written.get(name), Promise)
    ]
    assert not missing, (
        f"{model._meta.label}: Meta without {' and '.join(missing)} marked for translation "
        f'(verbose_name = _("…"))'
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_label_is_translated(language):
    """Each label reads otherwise in the language than in English (run `make messages` first)."""
    english = {}
    with translation.override("en"):
        for model in MODELS:
            for where, label in _labels(model).items():
                english[(_id(model), where)] = str(label)
    same = []
    with translation.override(language):
        for model in MODELS:
            for where, label in _labels(model).items():
                if str(label) == english[(_id(model), where)]:
                    same.append(f"{_id(model)}.{where}: {label}")
    assert not same, f"{len(same)} labels not translated into {language}: {same[:10]}"
