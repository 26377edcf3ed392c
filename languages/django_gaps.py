"""Messages of Django and django-celery-beat that their own catalogues lack in Mongolian or Chinese.

The admin shows them; our catalogues (LOCALE_PATHS, read before the packages' own) supply them.
Listed here, marked with gettext_noop, only so that `make catalogues` keeps them: nothing imports
this module. tests/e2e/test_every_page.py finds what is still missing: an English word on an admin
page in Mongolian or Chinese.
"""

from django.utils.translation import gettext_noop

DJANGO_CELERY_BEAT = [
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("clocked"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
]
DJANGO_ADMIN = [
    gettext_noop("By %(filter_title)s"),
    gettext_noop("Required"),
    # The titles of the icons beside a related field (admin/widgets/related_widget_wrapper.html).
    gettext_noop("Change selected %(model)s"),
    gettext_noop("Add another %(model)s"),
    gettext_noop("Delete selected %(model)s"),
    gettext_noop("View selected %(model)s"),
]
