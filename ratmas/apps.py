from django.utils.translation import gettext_lazy as _

from core import groups

# Pairings (and the relayed messages, which name both ends of a pairing) are the secret of
# Secret Santa: an organiser running the event must not see who draws whom by default. The
# organisers group therefore gets every Ratmas permission except these; a superuser grants
# ``view_pairings_secret`` by hand to the one person who may look (e.g. to settle a dispute).
SECRET_PERMISSIONS = (
    "view_pairings_secret",
    "add_pairing",
    "change_pairing",
    "delete_pairing",
    "view_pairing",
    "add_relaymessage",
    "change_relaymessage",
    "delete_relaymessage",
    "view_relaymessage",
)


class RatmasConfig(groups.OfficerAppConfig):
    name = "ratmas"
    verbose_name = _("Ratmas (Secret Santa)")
    officer_group = "Ratmas organisers"
    officer_permissions_exclude = SECRET_PERMISSIONS

    def ready(self) -> None:
        from bot.signals import connect_outcomes
        from ratmas import services

        connect_outcomes("ratmas", lambda topic: topic.startswith(services.TOPIC_PREFIX),
                         lambda message, accepted: services.record_delivery(message, accepted=accepted))
