from django.apps import AppConfig


class DiscordSigninConfig(AppConfig):
    """Holds the allauth provider (``provider.py``, found by allauth through INSTALLED_APPS)."""

    name = "core.discord_signin"
    label = "discord_signin"
    verbose_name = "Discord sign-in"

    def ready(self) -> None:
        from core.discord_signin import signals  # noqa: F401  (connects the sign-in receiver)
