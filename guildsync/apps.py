from django.apps import AppConfig


class GuildsyncConfig(AppConfig):
    name = "guildsync"
    verbose_name = "Guild sync (WoW ↔ Discord)"
    # core.groups grants this group the app's permissions after every migrate.
    officer_group = "Guild officers"
    officer_permissions_exclude: tuple[str, ...] = ()
