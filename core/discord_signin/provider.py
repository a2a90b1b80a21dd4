"""allauth's Discord provider, with the OAuth adapter below (configurable base URLs).
Registered under allauth's own id "discord" in place of
``allauth.socialaccount.providers.discord`` (which is not installed)."""

from __future__ import annotations

from allauth.socialaccount.providers.discord.provider import DiscordProvider

from core.discord_signin.views import ConfigurableDiscordAdapter


class OfficerDiscordProvider(DiscordProvider):
    oauth2_adapter_class = ConfigurableDiscordAdapter

    def get_default_scope(self) -> list[str]:
        # identify: who signed in; guilds.members.read: their roles in our server (officer groups)
        return ["identify", "guilds.members.read"]


provider_classes = [OfficerDiscordProvider]
