from decimal import Decimal

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    RiskLimit = apps.get_model("orders_app", "RiskLimit")
    if not RiskLimit.objects.exists():
        RiskLimit.objects.create(
            max_position_size=10,
            max_positions_per_symbol=3,
            max_open_positions=5,
            max_daily_loss=Decimal("1000"),
            max_exposure_percent=Decimal("20"),
            max_daily_trades=0,
            enabled=True,
            created_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("orders_app", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
