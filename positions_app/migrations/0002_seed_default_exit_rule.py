from decimal import Decimal

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    ExitRule = apps.get_model("positions_app", "ExitRule")
    if not ExitRule.objects.exists():
        ExitRule.objects.create(
            rule_name="default",
            profit_target_percent=Decimal("50"),
            stop_loss_percent=Decimal("50"),
            max_hold_time_hours=120,
            min_dte_exit=1,
            trailing_stop_percent=Decimal("15"),
            trailing_stop_activation_percent=Decimal("20"),
            enabled=True,
            created_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("positions_app", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
