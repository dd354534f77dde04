"""manage.py run_adaptive_tuner [--dry-run] [--force] — one adaptive tuner run (SPEC §11)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from optionsengine.lib import clock
from optionsengine.pipeline.tune import run_adaptive_tuner


class Command(BaseCommand):
    help = (
        "Tune bias risk multipliers and the exit monitor's macro-drift threshold from recent live trade "
        "performance. Applied runs happen once per New York trading day unless --force; every proposed "
        "change is recorded in bias_adaptive_config_history."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="record what would change, change nothing")
        parser.add_argument("--force", action="store_true", help="run even if an applied run already happened today")

    def handle(self, *args, dry_run: bool = False, force: bool = False, **options):
        run = run_adaptive_tuner(now=clock.now(), dry_run=dry_run, force=force)
        metrics = run.metrics
        self.stdout.write(
            f"adaptive tuner {run.run_date}: {run.status}{' (dry run)' if run.dry_run else ''}; "
            f"{metrics.get('tradeCount', 0)} trade(s), win rate {metrics.get('winRate')}, "
            f"avg P&L {metrics.get('avgPnlPercent')}%"
        )
        for change in run.changes:
            self.stdout.write(
                f"  {change.config_key}.{change.parameter}: {change.previous} → {change.new} ({change.reason})"
            )
