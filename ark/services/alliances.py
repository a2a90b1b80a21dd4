"""Alliances and the governor registry (a Discord user's in-game accounts)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.services import save_row

from ..models import (
    MAX_CITY_HALL,
    MAX_PLAYERS,
    MAX_SUBS,
    Alliance,
    Governor,
    Signup,
)
from .common import SignupStatus, _audit, get_match
from .errors import ArkError, NotAllowedError, NotFoundError

# --- alliances and governors -----------------------------------------------------------------


def list_alliances(active_only: bool = True) -> list[Alliance]:
    """Alliances by name; inactive ones only when asked (an alliance is deactivated, never deleted)."""
    qs = Alliance.objects.all()
    return list(qs.filter(is_active=True) if active_only else qs)


def get_alliance(alliance: str | int | Alliance) -> Alliance | None:
    """By name (case-insensitive) or id."""
    if isinstance(alliance, Alliance):
        return alliance
    if isinstance(alliance, int) or (isinstance(alliance, str) and alliance.isdigit()):
        found = Alliance.objects.filter(pk=int(alliance)).first()
        if found:
            return found
    return Alliance.objects.filter(name__iexact=str(alliance).strip()).first()


def save_alliance(
    *,
    name: str,
    registration_channel_id: int | None = None,
    confirmation_channel_id: int | None = None,
    officer_channel_id: int | None = None,
    is_active: bool = True,
    player_cap: int = 30,
    sub_cap: int = 15,
    min_city_hall: int | None = None,
    no_show_threshold: int | None = None,
    no_show_window: int | None = None,
    alliance_id: int | None = None,
    actor_discord_id: int | None = None,
) -> Alliance:
    """Create or update an alliance's Ark settings. Lower caps do not evict anyone already in;
    a new minimum city hall applies to signups from now on."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ArkError(_("An alliance name is 1 to 64 characters."))
    if not 1 <= player_cap <= MAX_PLAYERS or not 0 <= sub_cap <= MAX_SUBS:
        raise ArkError(_("An alliance has 1 to %(MAX_PLAYERS)s player slots and 0 to %(MAX_SUBS)s sub slots.") % {"MAX_PLAYERS": MAX_PLAYERS, "MAX_SUBS": MAX_SUBS})
    if min_city_hall is not None and not 1 <= min_city_hall <= MAX_CITY_HALL:
        raise ArkError(_("A minimum city hall is 1 to %(MAX_CITY_HALL)s (empty: any).") % {"MAX_CITY_HALL": MAX_CITY_HALL})
    threshold, window = no_show_threshold or 2, no_show_window or 5
    if not 1 <= threshold <= window:
        raise ArkError(_("The no-show rule is N no-shows within the last M matches, with 1 ≤ N ≤ M."))
    fields = {
        "name": name,
        "min_city_hall": min_city_hall,
        "no_show_threshold": threshold,
        "no_show_window": window,
        "registration_channel_id": registration_channel_id,
        "confirmation_channel_id": confirmation_channel_id,
        "officer_channel_id": officer_channel_id,
        "is_active": is_active,
        "player_cap": player_cap,
        "sub_cap": sub_cap,
    }

    def check(ally: Alliance) -> None:
        if Alliance.objects.filter(name__iexact=name).exclude(pk=ally.pk).exists():
            raise ArkError(_("An alliance called %(name)s already exists.") % {"name": name})

    with transaction.atomic():
        ally = save_row(Alliance, alliance_id, fields, error=ArkError, missing=NotFoundError, check=check)
        _audit("alliance_saved", actor_discord_id, alliance=ally.name, **fields)
        return ally


def register_governor(
    *,
    governor_id: int,
    name: str,
    discord_user_id: int,
    actor_discord_id: int | None = None,
    as_officer: bool = False,
) -> Governor:
    """Add a governor to a user's registry (or rename it). Only an officer may move a governor
    that another user registered."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ArkError(_("A governor name is 1 to 64 characters."))
    if not isinstance(governor_id, int) or governor_id <= 0:
        raise ArkError(_("The governor id is the positive number shown in the governor's profile."))
    with transaction.atomic():
        gov = Governor.objects.select_for_update().filter(governor_id=governor_id).first()
        if gov and gov.discord_user_id != discord_user_id and not as_officer:
            raise NotAllowedError(_("Governor %(governor_id)s is registered to another Discord user; ask an officer.") % {"governor_id": governor_id})
        if gov is None:
            try:
                with transaction.atomic():
                    gov = Governor.objects.create(
                        governor_id=governor_id, name=name, discord_user_id=discord_user_id
                    )
            except IntegrityError:
                raise ArkError(_("Governor %(governor_id)s was just registered by someone else.") % {"governor_id": governor_id}) from None
            _audit(
                "governor_registered",
                actor_discord_id,
                governor_id=governor_id,
                name=name,
                owner=discord_user_id,
            )
        elif (gov.name, gov.discord_user_id) != (name, discord_user_id):
            before = {"name": gov.name, "owner": gov.discord_user_id}
            gov.name, gov.discord_user_id = name, discord_user_id
            gov.save(update_fields=["name", "discord_user_id", "updated_at"])
            _audit(
                "governor_updated",
                actor_discord_id,
                override=as_officer,
                governor_id=governor_id,
                before=before,
                name=name,
                owner=discord_user_id,
            )
        return gov


def governor_for(*, discord_user_id: int, match_id: int, signed_up: bool) -> Governor:
    """Which of the user's governors a button means: the one signed up in the match
    (``signed_up``) or the only one free that weekend. Ambiguity is an error telling the user
    which command to use instead."""
    match = get_match(match_id)
    if match is None:
        raise NotFoundError(_("Ark match #%(match_id)s does not exist.") % {"match_id": match_id})
    mine = list(Governor.objects.filter(discord_user_id=discord_user_id).order_by("name"))
    if not mine:
        raise NotFoundError(_("You have no governor registered: use `/ark governor register` first."))
    active = set(
        Signup.objects.filter(
            governor__in=mine, ark_weekend_date=match.ark_weekend_date, status=SignupStatus.ACTIVE
        ).values_list("governor_id", "match_id")
    )
    in_match = [g for g in mine if (g.pk, match.pk) in active]
    if signed_up:
        candidates = in_match
        missing = _("You are not signed up for this match.")
    else:
        busy = {gov_pk for gov_pk, _ in active}
        candidates = [g for g in mine if g.pk not in busy]
        missing = _("All your governors are already signed up that weekend.")
    if not candidates:
        raise ArkError(missing)
    if len(candidates) > 1:
        names = ", ".join(f"{g.name} ({g.governor_id})" for g in candidates)
        raise ArkError(_("You have several governors (%(names)s): use the `/ark` command with `governor_id`.") % {"names": names})
    return candidates[0]


def list_governors(discord_user_id: int | None = None) -> list[Governor]:
    """A user's registry (or everyone's): what `/ark governor list` and the buttons choose from."""
    qs = Governor.objects.all()
    return list(qs.filter(discord_user_id=discord_user_id) if discord_user_id is not None else qs)
