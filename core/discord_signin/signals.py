"""At each sign-in with Discord: the officer groups follow the member's roles."""

from __future__ import annotations

import logging

from allauth.account.signals import user_logged_in
from django.conf import settings
from django.dispatch import receiver

from core.discord_signin import services

log = logging.getLogger(__name__)


@receiver(user_logged_in, dispatch_uid="discord_signin.apply_role_groups")
def apply_roles_at_sign_in(sender, request, user, sociallogin=None, **kwargs) -> None:
    if sociallogin is None or not settings.DISCORD_OFFICER_ROLE_GROUPS:
        return
    role_ids = getattr(sociallogin, "discord_role_ids", set())
    added, removed = services.apply_role_groups(user, role_ids)
    if added or removed:
        log.info("Discord sign-in of %s: groups added %s, removed %s", user.get_username(), added, removed)
