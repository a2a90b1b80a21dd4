from django.apps import AppConfig


class RatmasConfig(AppConfig):
    name = "ratmas"
    verbose_name = "Ratmas (Secret Santa)"
    # core.groups grants this group the app's permissions after every migrate.
    officer_group = "Ratmas organisers"
    officer_permissions_exclude: tuple[str, ...] = ()
