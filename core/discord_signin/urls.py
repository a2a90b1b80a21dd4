from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from core.discord_signin.provider import OfficerDiscordProvider

urlpatterns = default_urlpatterns(OfficerDiscordProvider)
