from django.apps import AppConfig


class SignalsAppConfig(AppConfig):
    name = "signals_app"
    verbose_name = "Signals"
    default_auto_field = "django.db.models.BigAutoField"
