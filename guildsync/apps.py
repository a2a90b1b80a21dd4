from django.utils.translation import gettext_lazy as _

from core import groups


class GuildsyncConfig(groups.OfficerAppConfig):
    name = "guildsync"
    verbose_name = _("Guild sync (WoW ↔ Discord)")
    officer_group = "Guild officers"

    def ready(self) -> None:
        from bot.signals import connect_outcomes
        from guildsync.services import role_plans

        connect_outcomes("guildsync.rank_role", lambda topic: topic == role_plans.TOPIC,
                         lambda message, sent: role_plans.record_delivery(message, sent=sent))
