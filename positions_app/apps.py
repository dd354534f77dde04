from django.apps import AppConfig


class PositionsAppConfig(AppConfig):
    name = "positions_app"
    verbose_name = "Positions"
