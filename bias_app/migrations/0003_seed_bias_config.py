from django.db import migrations
from django.utils import timezone

# Frozen copy of the SPEC §2 seed (bias_app/defaults.py holds the live code defaults): a migration
# must produce the same rows forever, even after the code defaults change.
SEED = {
    "gating": {
        "macroSuppressLongClasses": ["MACRO_BREAKDOWN_CONFIRMED", "MACRO_TREND_DOWN"],
        "macroSuppressShortClasses": ["MACRO_TREND_UP"],
        "breakoutLowSpacePenalty": 0.25,
        "reclaimBoost": 0.08,
        "chopSuppressionThreshold": 75,
        "regimeTransitionBoost": 0.05,
        "macroConflictRiskMultiplier": 0.6,
    },
    "staleness": {"behavior": "block", "riskMultiplier": 0.7, "rthThresholdMinutes": 10, "dailyThresholdMinutes": 60},
    "risk": {
        "macroBreakdownLongMultiplier": 0.5,
        "macroTrendUpLongMultiplier": 1.15,
        "macroTrendDownShortMultiplier": 0.5,
        "rangeBreakoutMultiplier": 0.7,
        "trendAlignmentMultiplier": 1.1,
        "stateStrengthUpMultiplier": 1.1,
        "stateStrengthDownMultiplier": 0.8,
        "macroDriftHighMultiplier": 0.85,
        "latePhaseNegativeMultiplier": 0.75,
    },
    "adaptive": {"macroDriftThreshold": 0.18, "enabled": True},
}


def seed(apps, schema_editor):
    BiasConfig = apps.get_model("bias_app", "BiasConfig")
    for key, value in SEED.items():
        BiasConfig.objects.get_or_create(config_key=key, defaults={"config_json": value, "updated_at": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [("bias_app", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
