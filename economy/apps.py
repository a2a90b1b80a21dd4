from django.utils.translation import gettext_lazy as _

from core import groups


class EconomyConfig(groups.OfficerAppConfig):
    name = "economy"
    verbose_name = _("Economy and moderation")
    officer_group = "Economy moderators"
