"""At each Battle.net connection: read the account's characters with the fresh token (it lasts
24 hours and is not kept) and link those in the guild (``guildsync.services.battlenet``). The
member's page then says what happened."""

from __future__ import annotations

import logging

from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.contrib import messages
from django.dispatch import receiver
from django.utils.translation import gettext as _

from core.discord_signin.officers import discord_id
from core.errors import DomainError
from guildsync import clients
from guildsync.services import battlenet

log = logging.getLogger(__name__)


@receiver(social_account_added, dispatch_uid="battlenet_signin.added")
@receiver(social_account_updated, dispatch_uid="battlenet_signin.updated")
def read_characters(sender, request, sociallogin, **kwargs) -> None:
    if sociallogin.account.provider != "battlenet":
        return
    member = discord_id(sociallogin.user)
    if member is None:
        messages.error(request, _("Battle.net is connected, but this login has no Discord account to link "
                                  "characters to."))
        return
    try:
        characters = clients.account_characters(sociallogin.token.token)
        report = battlenet.link_proven_characters(member, int(sociallogin.account.extra_data["id"]), characters)
    except (clients.BlizzardError, DomainError) as exc:
        messages.error(request, _("Battle.net is connected, but your characters could not be read: %(error)s")
                       % {"error": exc})
        return
    log.info("Battle.net proof of %s: %s", member, report.summary())
    (messages.warning if report.conflicts else messages.success)(request, report.summary())
