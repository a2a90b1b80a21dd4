from core import groups


class EconomyConfig(groups.OfficerAppConfig):
    name = "economy"
    verbose_name = "Economy and moderation"
    officer_group = "Economy moderators"
