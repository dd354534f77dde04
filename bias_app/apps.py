from django.apps import AppConfig


class BiasAppConfig(AppConfig):
    name = "bias_app"
    verbose_name = "Bias state"
