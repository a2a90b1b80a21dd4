"""The OAuth2 views of the Discord provider, with Discord's URLs read from settings at each
request (``DISCORD_OAUTH_AUTHORIZE_URL``, ``DISCORD_OAUTH_API_BASE``)."""

from __future__ import annotations

from allauth.socialaccount.providers.discord.views import DiscordOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings


class ConfigurableDiscordAdapter(DiscordOAuth2Adapter):
    @property
    def authorize_url(self) -> str:
        return settings.DISCORD_OAUTH_AUTHORIZE_URL

    @property
    def access_token_url(self) -> str:
        return f"{settings.DISCORD_OAUTH_API_BASE}/oauth2/token"

    @property
    def profile_url(self) -> str:
        return f"{settings.DISCORD_OAUTH_API_BASE}/users/@me"


oauth2_login = OAuth2LoginView.adapter_view(ConfigurableDiscordAdapter)
oauth2_callback = OAuth2CallbackView.adapter_view(ConfigurableDiscordAdapter)
