from django.apps import AppConfig


class RaidsConfig(AppConfig):
    name = "raids"
    verbose_name = "Raids"
    # core.groups grants this group the app's permissions after every migrate.
    officer_group = "Raid officers"
    officer_permissions_exclude: tuple[str, ...] = ()
    officer_view_models = ("guildsync.player",)  # the attendance form's player picker
