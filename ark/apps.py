import logging

from django.utils.translation import gettext_lazy as _

from core import groups


class ArkConfig(groups.OfficerAppConfig):
    name = "ark"
    verbose_name = _("Ark of Osiris")
    officer_group = "Ark officers"
    officer_view_models = ("guildsync.discorduser",)  # the ban form's member picker

    def ready(self) -> None:
        # The outbox tells us the id Discord gave each registration/confirmation message.
        from bot.signals import outbox_failed, outbox_sent

        from .services import record_message_delivery

        def on_outcome(sender, message, **kwargs) -> None:
            try:
                record_message_delivery(message)
            except Exception:  # never let our bookkeeping undo the record of a delivery
                logging.getLogger(__name__).exception("ark: could not record outbox row %s", message.pk)

        self._on_outcome = on_outcome  # keep a strong reference for the weak signal
        outbox_sent.connect(on_outcome, dispatch_uid="ark.message_sent")
        outbox_failed.connect(on_outcome, dispatch_uid="ark.message_failed")
