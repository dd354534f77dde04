"""`manage.py trace_signal <signal_id>`: one alert from request to realized P&L, as text (SPEC §13).

Names the stage where the signal stopped and why, then every row behind it. `--json` prints the
same data as GET /api/trace/<id>. Exit status 1 for an unknown or malformed id.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from optionsengine.pipeline.trace import get_signal_trace, render_text


class Command(BaseCommand):
    help = "Trace one signal from its webhook request to realized P&L and say where it stopped and why."

    def add_arguments(self, parser):
        parser.add_argument("signal_id", help="signals.signal_id (UUID)")
        parser.add_argument("--json", action="store_true", help="print the trace as JSON (as GET /api/trace/<id>)")

    def handle(self, *args, **options):
        trace = get_signal_trace(options["signal_id"])
        if trace is None:
            raise CommandError(f"no signal with id {options['signal_id']!r}")
        if options["json"]:
            from optionsengine.api.serializers import SignalTraceOutputSerializer

            self.stdout.write(json.dumps(SignalTraceOutputSerializer(trace).data, indent=2, default=str))
        else:
            self.stdout.write(render_text(trace), ending="")
