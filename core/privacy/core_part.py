"""Core's part of the privacy registry: the member's Discord sign-in (allauth) and the actor
names officers' settings record."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import PrivacyRequest, SecretSetting

from . import ANONYMISED, ERASED, AppPart, ForgetContext, Holds, PrivacyError


def _accounts(member: int):
    return SocialAccount.objects.filter(provider="discord", uid=str(member)).select_related("user")


def names(member: int) -> set[str]:
    found: set[str] = set()
    for account in _accounts(member):
        extra = account.extra_data or {}
        found |= {str(extra.get(key) or "") for key in ("username", "global_name")}
    return found


def export(member: int) -> dict[str, Any]:
    users = [account.user_id for account in _accounts(member)]
    return {"other_sign_ins": [
        {"provider": account.provider, "connected_at": account.date_joined.isoformat(),
         "account": {k: v for k, v in (account.extra_data or {}).items() if k in ("id", "battletag")}}
        for account in SocialAccount.objects.filter(user_id__in=users).exclude(provider="discord")],
        "discord_sign_in": [
        {"login": account.user.get_username(), "connected_at": account.date_joined.isoformat(),
         "last_sign_in": account.last_login.isoformat() if account.last_login else None,
         "discord_profile": {k: v for k, v in (account.extra_data or {}).items()
                             if k in ("id", "username", "global_name", "locale")}}
        for account in _accounts(member)]}


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    accounts = list(_accounts(member).select_for_update(of=("self",)))
    if any(account.user.is_superuser for account in accounts):
        raise PrivacyError(_("This Discord account signs in to a superuser's login: a superuser's own account is "
                             "not erased this way. Disconnect Discord from that login (or remove its superuser "
                             "status) first, then process the request again."))
    erased = len(accounts)
    users = [account.user for account in accounts]
    for account in accounts:
        account.delete()  # its tokens go with it
    # the member's other sign-ins on the same login (Battle.net), and a plain member's login itself
    # (made by their first Discord sign-in: no staff, no password); an officer's login stays
    others, _rows = SocialAccount.objects.filter(user__in=users).exclude(provider="discord").delete()
    logins = 0
    for user in users:
        if not user.is_staff and not user.is_superuser and not user.has_usable_password():
            user.delete()
            logins += 1
    anonymised = SecretSetting.objects.filter(set_by=str(member)).update(set_by=ctx.needles.text(str(member)))
    processed = PrivacyRequest.objects.filter(processed_by=str(member)).update(processed_by=ctx.needles.text(str(member)))
    return {ERASED: {"discord_sign_in": erased, "other_sign_ins": others, "member_login": logins},
            ANONYMISED: {"secret_setting_actor": anonymised, "privacy_requests_they_processed": processed}, "kept": {}}


PART = AppPart(
    app="core",
    order=0,
    holds=(
        Holds("socialaccount.SocialAccount", ("uid", "extra_data"), ERASED,
              gettext_lazy("Their Discord sign-in is removed, with the other sign-ins of the same login "
                           "(Battle.net); a plain member's login (made by their first sign-in to their page) is "
                           "deleted, an officer's login stays with the officer who owns it. A superuser's own "
                           "sign-in is refused: remove it by hand first.")),
        Holds("core.SecretSetting", ("set_by",), ANONYMISED,
              gettext_lazy("An officer's id as the one who set an API key becomes 'a forgotten member'.")),
        Holds("core.PrivacyRequest", ("processed_by",), ANONYMISED,
              gettext_lazy("Privacy requests keep only a keyed hash of the member's id, dates and counts; an "
                           "officer's id as the one who processed requests becomes 'a forgotten member'.")),
    ),
    export=export,
    forget=forget,
    names=names,
)
