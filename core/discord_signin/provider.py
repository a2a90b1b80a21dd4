"""allauth's Discord provider, with the OAuth adapter below (configurable base URLs).
Registered under allauth's own id "discord" in place of
``allauth.socialaccount.providers.discord`` (which is not installed)."""

from __future__ import annotations

from allauth.socialaccount.providers.discord.provider import DiscordProvider
from django.conf import settings

from core.discord_signin.views import ConfigurableDiscordAdapter


class OfficerDiscordProvider(DiscordProvider):
    oauth2_adapter_class = ConfigurableDiscordAdapter

    def get_default_scope(self) -> list[str]:
        # identify: who signed in; guilds.members.read: their roles in our server (officer groups)
        scope = ["identify", "guilds.members.read"]
        if settings.DISCORD_LINKED_ROLES:
            scope.append("role_connections.write")  # Linked Roles: their values, pushed with their token
        return scope


provider_classes = [OfficerDiscordProvider]
