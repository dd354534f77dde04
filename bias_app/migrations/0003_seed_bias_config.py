from django.db import migrations
from django.utils import timezone

from bias_app.defaults import BIAS_CONFIG_DEFAULTS


def seed(apps, schema_editor):
    BiasConfig = apps.get_model("bias_app", "BiasConfig")
    for key, value in BIAS_CONFIG_DEFAULTS.items():
        BiasConfig.objects.get_or_create(config_key=key, defaults={"config_json": value, "updated_at": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [("bias_app", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
