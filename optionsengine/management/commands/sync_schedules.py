"""`manage.py sync_schedules`: make django-q2's schedules equal optionsengine/schedules.py.

Idempotent (match by name; create, update, delete undeclared); prints every change. `bin/run`
runs it at start. Exit status 1 when the database cannot be written.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from optionsengine.schedules import declared_schedules, sync_schedules


class Command(BaseCommand):
    help = "Create/update/delete django-q2 schedules so they match the ones declared in code."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")

    def handle(self, *args, **options):
        try:
            # django-q2 fires schedules on the wall clock, so their first runs are set from it, not
            # from the service clock: with OPTIONSENGINE_NOW frozen months back, django-q2's
            # no-catch-up step walked each schedule forward one interval at a time through those
            # months — seconds per schedule, inside one transaction holding SQLite's write lock.
            changes = sync_schedules(now=timezone.now(), dry_run=options["dry_run"])
        except DatabaseError as exc:
            raise CommandError(f"could not sync schedules: {exc} (did you run migrate?)") from exc
        prefix = "would be " if options["dry_run"] else ""
        for change in changes:
            self.stdout.write(f"  {prefix}{change}")
        total = len(declared_schedules())
        if changes:
            self.stdout.write(f"schedules: {len(changes)} change(s); {total} declared")
        else:
            self.stdout.write(f"schedules: up to date ({total} declared)")
