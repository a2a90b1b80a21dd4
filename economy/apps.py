from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "economy"
    verbose_name = "Economy and moderation"
    # core.groups grants this group the app's permissions after every migrate.
    officer_group = "Economy moderators"
    officer_permissions_exclude: tuple[str, ...] = ()
