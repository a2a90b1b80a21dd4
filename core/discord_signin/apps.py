from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscordSigninConfig(AppConfig):
    """Holds the allauth provider (``provider.py``, found by allauth through INSTALLED_APPS)."""

    name = "core.discord_signin"
    label = "discord_signin"
    verbose_name = _("Discord sign-in")

    def ready(self) -> None:
        from core.discord_signin import signals  # noqa: F401  (connects the sign-in receiver)
