from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from exams.demo import LOGINS, DemoRefused, load_demo
from exams.models import Item


class Command(BaseCommand):
    help = "Load the demo bank, exam, sittings and one login per role (idempotent), and print the logins."

    def handle(self, *args, **options):
        try:
            created = load_demo()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            "Demo data "
            + ("created" if created else "already present")
            + f": {Item.objects.count()} items."
        )
        self.stdout.write("Demo logins (role: username / password):")
        for login in LOGINS:
            self.stdout.write(f"  {login.role:<22} {login.username:<12} / {login.password}")
