"""Who may sign in: no self-service sign-up with a password (officers are created by an
admin); with Discord, a member is let in when their account is already connected to a
login, or — if ``DISCORD_OFFICER_ROLE_GROUPS`` is set — when they hold one of its roles in
``DISCORD_GUILD_ID`` (their login is then created)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from core.discord_signin import clients, services


class NoSignupAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False


class OfficerSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return bool(getattr(sociallogin, "officer_role_ids", None))

    def pre_social_login(self, request, sociallogin) -> None:
        """Look the member's roles up with their fresh token (kept on ``sociallogin`` for the
        sign-in receiver); refuse a stranger before any login is created."""
        role_ids: set[int] = set()
        if settings.DISCORD_OFFICER_ROLE_GROUPS and settings.DISCORD_GUILD_ID:
            try:
                role_ids = clients.member_role_ids(sociallogin.token.token, settings.DISCORD_GUILD_ID)
            except clients.DiscordSigninError as exc:
                self._refuse(request, f"Sign-in with Discord failed: {exc} Try again, or use your password.")
        sociallogin.discord_role_ids = role_ids
        sociallogin.officer_role_ids = role_ids & services.role_group_map().keys()
        if not sociallogin.is_existing and not sociallogin.officer_role_ids:
            self._refuse(request, "This Discord account is not connected to an officer login, and it has no "
                                  "officer role in the server. Sign in with your password and connect Discord, "
                                  "or ask an admin.")

    @staticmethod
    def _refuse(request, text: str) -> None:
        messages.error(request, text)
        raise ImmediateHttpResponse(redirect("admin:login"))
