"""At each sign-in with Discord: the officer groups follow the member's roles."""

from __future__ import annotations

import logging

from allauth.account.signals import user_logged_in
from django.conf import settings
from django.dispatch import receiver

from core.discord_signin import services
from core.errors import DomainError

log = logging.getLogger(__name__)


@receiver(user_logged_in, dispatch_uid="discord_signin.apply_role_groups")
def apply_roles_at_sign_in(sender, request, user, sociallogin=None, **kwargs) -> None:
    if sociallogin is None or sociallogin.account.provider != "discord":
        return
    if settings.DISCORD_LINKED_ROLES and sociallogin.token and sociallogin.token.token:
        from guildsync.services import linked_roles

        try:
            linked_roles.store_token(int(sociallogin.account.uid), sociallogin.token.token,
                                     getattr(sociallogin.token, "expires_in", None) or _expires_in(sociallogin))
        except DomainError as exc:  # e.g. no FIELD_ENCRYPTION_KEY: sign-in still works, Linked Roles wait
            log.warning("Linked Roles: could not keep the token of %s: %s", sociallogin.account.uid, exc)
    if not settings.DISCORD_OFFICER_ROLE_GROUPS:
        return
    role_ids = getattr(sociallogin, "discord_role_ids", set())
    added, removed = services.apply_role_groups(user, role_ids)
    if added or removed:
        log.info("Discord sign-in of %s: groups added %s, removed %s", user.get_username(), added, removed)


def _expires_in(sociallogin) -> int | None:
    expires = getattr(sociallogin.token, "expires_at", None)
    if expires is None:
        return None
    from django.utils import timezone

    return max(0, int((expires - timezone.now()).total_seconds()))
