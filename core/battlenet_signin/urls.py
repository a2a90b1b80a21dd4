from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from core.battlenet_signin.provider import MemberBattleNetProvider

urlpatterns = default_urlpatterns(MemberBattleNetProvider)
