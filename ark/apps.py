from django.apps import AppConfig


class ArkConfig(AppConfig):
    name = "ark"
    verbose_name = "Ark of Osiris"
    # core.groups grants this group the app's permissions after every migrate.
    officer_group = "Ark officers"
    officer_permissions_exclude: tuple[str, ...] = ()
