"""The OAuth2 views of the Discord provider, with Discord's URLs read from settings at each
request (``DISCORD_OAUTH_AUTHORIZE_URL``, ``DISCORD_OAUTH_API_BASE``).

When Discord sign-in is not configured (no ``DISCORD_CLIENT_ID``), allauth finds no app and
would raise ``SocialApp.DoesNotExist`` (a 500). A bookmarked or guessed
``/accounts/discord/login/`` answers a plain page instead: sign-in with Discord is off here, sign
in with a password, and (for whoever runs the server) which settings turn it on."""

from __future__ import annotations

from collections.abc import Callable

from allauth.socialaccount.providers.discord.views import DiscordOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


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


def is_configured() -> bool:
    """Whether Sign in with Discord can work: an OAuth application id and secret are set."""
    return bool(settings.DISCORD_CLIENT_ID and settings.DISCORD_CLIENT_SECRET)


def not_configured(request: HttpRequest) -> HttpResponse:
    from django.contrib import admin

    context = {**admin.site.each_context(request), "title": _("Sign in with Discord is off")}
    return TemplateResponse(request, "admin/discord_signin_off.html", context, status=404)


def _when_configured(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_configured():
            return not_configured(request)
        return view(request, *args, **kwargs)

    return guarded


oauth2_login = _when_configured(OAuth2LoginView.adapter_view(ConfigurableDiscordAdapter))
oauth2_callback = _when_configured(OAuth2CallbackView.adapter_view(ConfigurableDiscordAdapter))
