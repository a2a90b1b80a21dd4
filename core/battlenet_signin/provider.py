"""allauth's Battle.net provider with the adapter above (configurable URLs), under allauth's own
id "battlenet" (``allauth.socialaccount.providers.battlenet`` itself is not installed)."""

from __future__ import annotations

from allauth.socialaccount.providers.battlenet.provider import BattleNetProvider

from core.battlenet_signin.views import ConfigurableBattleNetAdapter


class MemberBattleNetProvider(BattleNetProvider):
    oauth2_adapter_class = ConfigurableBattleNetAdapter

    def get_default_scope(self) -> list[str]:
        return ["wow.profile"]  # the account's WoW characters (GET /profile/user/wow)


provider_classes = [MemberBattleNetProvider]
