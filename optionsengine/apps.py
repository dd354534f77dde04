from django.apps import AppConfig


class OptionsEngineConfig(AppConfig):
    name = "optionsengine"
    verbose_name = "optionsengine"
