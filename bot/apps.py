from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BotConfig(AppConfig):
    name = "bot"
    verbose_name = _("Discord bot and outbox")

    def ready(self) -> None:
        from bot.scheduled_events import on_sent
        from bot.signals import outbox_sent

        outbox_sent.connect(on_sent, dispatch_uid="bot.scheduled_event_created")
