from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BattlenetSigninConfig(AppConfig):
    """Holds the allauth provider (``provider.py``, found by allauth through INSTALLED_APPS)."""

    name = "core.battlenet_signin"
    label = "battlenet_signin"
    verbose_name = _("Battle.net connection")

    def ready(self) -> None:
        from core.battlenet_signin import signals  # noqa: F401  (connects the connection receiver)
