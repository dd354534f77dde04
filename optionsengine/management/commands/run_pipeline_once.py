"""`manage.py run_pipeline_once`: every built stage once, a summary line per stage (SPEC §13).

Exit status 1 when any stage reported an error, so cron jobs and scripts can tell. Honours
OPTIONSENGINE_NOW: re-running with a later time walks a session forward.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from optionsengine.pipeline.run_once import STAGES, run_once


class Command(BaseCommand):
    help = "Run every pipeline stage once (orchestrator → … ) and print a per-stage summary."

    def add_arguments(self, parser):
        parser.add_argument("--stage", action="append", choices=[name for name, _ in STAGES],
                            help="run only this stage (repeatable)")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **options):
        results = run_once(only=set(options["stage"] or []) or None)
        if options["json"]:
            import json

            self.stdout.write(json.dumps([r.as_dict() for r in results], indent=2))
        else:
            for result in results:
                self.stdout.write(result.summary_line())
                for error in result.errors:
                    self.stderr.write(f"  error: {error}")
        failed = [r.stage for r in results if not r.ok]
        if failed:
            raise CommandError(f"stage(s) with errors: {', '.join(failed)}")
