"""Who may sign in: no self-service sign-up with a password (officers are created by an
admin). With Discord:

- an account already connected to a login signs in to it;
- a member holding one of ``DISCORD_OFFICER_ROLE_GROUPS``' roles in ``DISCORD_GUILD_ID`` gets an
  officer login (created on first sign-in; groups follow their roles at each sign-in);
- any other member of ``DISCORD_GUILD_ID`` gets a plain member login for their own page (``/me/``):
  never staff, no group, no password, so the admin stays closed to them;
- a stranger (not in the server, or no server configured) is refused before anything is created.

Battle.net (``core.battlenet_signin``) is only ever *connected* to a signed-in member's login
from their page; it never creates a login of its own.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from core.discord_signin import clients, services

MEMBER_PAGE = "/me/"


class NoSignupAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        """Officers land in the admin, members on their own page."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_staff:
            return MEMBER_PAGE
        return super().get_login_redirect_url(request)


class OfficerSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        if sociallogin.account.provider != "discord":
            return False  # Battle.net is connected to an existing login, never signs one up
        return bool(getattr(sociallogin, "officer_role_ids", None)) or getattr(sociallogin, "in_guild", False)

    def populate_user(self, request, sociallogin, data):
        """A login made at first sign-in starts without staff or superuser status; officer
        groups (and with them staff status) come from the member's roles right after."""
        user = super().populate_user(request, sociallogin, data)
        user.is_staff = user.is_superuser = False
        return user

    def pre_social_login(self, request, sociallogin) -> None:
        """Look the member's roles up with their fresh token (kept on ``sociallogin`` for the
        sign-in receiver); refuse a stranger before any login is created."""
        if sociallogin.account.provider != "discord":
            return
        role_ids: set[int] = set()
        in_guild = False
        if settings.DISCORD_GUILD_ID:
            try:
                found = clients.member_roles(sociallogin.token.token, settings.DISCORD_GUILD_ID)
            except clients.DiscordSigninError as exc:
                self._refuse(request, sociallogin, _("Sign-in with Discord failed: %(error)s Try again, or use your password.")
                             % {"error": exc})
            in_guild = found is not None
            role_ids = found or set()
        sociallogin.discord_role_ids = role_ids
        sociallogin.in_guild = in_guild
        sociallogin.officer_role_ids = role_ids & services.role_group_map().keys()
        if not sociallogin.is_existing and not sociallogin.officer_role_ids and not in_guild:
            self._refuse(request, sociallogin, _("This Discord account is not a member of the guild's Discord server, and it "
                                                "is not connected to a login here. Join the server first, or ask an officer."))

    @staticmethod
    def _refuse(request, sociallogin, text: str) -> None:
        messages.error(request, text)
        target = (getattr(sociallogin, "state", None) or {}).get("next") or ""
        raise ImmediateHttpResponse(redirect(MEMBER_PAGE if str(target).startswith(MEMBER_PAGE) else "admin:login"))
