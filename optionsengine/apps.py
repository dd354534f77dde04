import logging

from django.apps import AppConfig

logger = logging.getLogger("optionsengine.security")


class OptionsEngineConfig(AppConfig):
    name = "optionsengine"
    verbose_name = "optionsengine"

    def ready(self) -> None:
        from django.conf import settings

        if settings.WEBHOOK_SECRET:
            return
        reason = "WEBHOOK_AUTH=off" if getattr(settings, "WEBHOOK_AUTH_EXPLICITLY_OFF", False) else "no WEBHOOK_SECRET (embedded mode)"
        logger.warning(
            "WEBHOOK AUTHENTICATION IS OFF (%s): anyone who can reach POST /webhook can create signals. "
            "Set WEBHOOK_SECRET to turn it on.", reason,
        )
