"""The OAuth2 views of the Battle.net provider, with Battle.net's URLs read from settings at each
request (``BATTLENET_OAUTH_BASE``: ``/authorize``, ``/token``, ``/userinfo``) and the region from
``BLIZZARD_REGION``. When the feature is off (``BATTLENET_CONNECT``) or no Blizzard client is set,
the URLs answer a plain 404 instead of allauth's error."""

from __future__ import annotations

from collections.abc import Callable

from allauth.socialaccount.providers.battlenet.views import BattleNetOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _


class ConfigurableBattleNetAdapter(BattleNetOAuth2Adapter):
    @property
    def battlenet_region(self) -> str:
        return settings.BLIZZARD_REGION

    @property
    def battlenet_base_url(self) -> str:
        return settings.BATTLENET_OAUTH_BASE

    def get_callback_url(self, request: HttpRequest, app) -> str:
        return super(BattleNetOAuth2Adapter, self).get_callback_url(request, app)  # no ?region=: it is a setting


def is_configured() -> bool:
    return bool(settings.BATTLENET_CONNECT and settings.BLIZZARD_CLIENT_ID and settings.BLIZZARD_CLIENT_SECRET)


def _when_configured(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_configured():
            raise Http404(_("Connecting Battle.net is off on this server."))
        return view(request, *args, **kwargs)

    return guarded


oauth2_login = _when_configured(OAuth2LoginView.adapter_view(ConfigurableBattleNetAdapter))
oauth2_callback = _when_configured(OAuth2CallbackView.adapter_view(ConfigurableBattleNetAdapter))
