"""The shared plumbing of the ark services: the audit log (who acted, ``acting_as``), the match row lock, the clock, the two reads everything needs (a match, its roster) and small checks every roster change needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.i18n import number

from ..models import (
    AuditLog,
    Match,
    Signup,
)
from .errors import ArkError, NotAllowedError, NotFoundError, SignupClosedError

Slot = Signup.Slot
SignupStatus = Signup.Status
MatchStatus = Match.Status
OPEN = (MatchStatus.SCHEDULED, MatchStatus.LOCKED)


# --- helpers ---------------------------------------------------------------------------------

_acting_as: ContextVar[str] = ContextVar("ark_acting_as", default="")


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Name the officer behind the following calls in the audit log, as every app names its
    admin actor (``core.discord_signin.officers.actor``): a Discord id (an officer who signed
    in with Discord) becomes the rows' ``actor_discord_id``, a username their ``details.by``.
    Discord callers pass ``actor_discord_id`` to the services instead."""
    token = _acting_as.set(actor or "")
    try:
        yield
    finally:
        _acting_as.reset(token)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _bounded_text(value: str | None, model: type, field: str, label: str) -> str:
    """Free text an officer typed, refused (not cut) when longer than the column allows:
    the limits are what the Discord messages showing the text can carry."""
    text = (value or "").strip()
    limit = model._meta.get_field(field).max_length
    if limit and len(text) > limit:
        raise ArkError(_("%(label)s: at most %(limit)s characters (this text has %(text)s).") % {"label": label, "limit": number(limit), "text": number(len(text))})
    return text


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ArkError(_("%(name)s must be a date and time (UTC).") % {"name": name})
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _lock_match(match_id: int) -> Match:
    try:
        return Match.objects.select_for_update(of=("self",)).select_related("alliance").get(pk=match_id)
    except (Match.DoesNotExist, ValueError, TypeError):
        raise NotFoundError(_("Ark match #%(match_id)s does not exist.") % {"match_id": match_id}) from None


def _audit(
    action: str,
    actor: int | None,
    *,
    match: Match | None = None,
    signup: Signup | None = None,
    override: bool = False,
    **details: Any,
) -> AuditLog:
    acting = _acting_as.get()
    if acting and not acting.isdigit():
        details["by"] = acting
    if actor is None and acting.isdigit():
        actor = int(acting)
    return AuditLog.objects.create(
        action=action,
        actor_discord_id=actor,
        match=match,
        signup=signup,
        is_override=override,
        details=_jsonable(details),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _parse_slot(slot_type: str | None) -> str | None:
    if slot_type in (None, ""):
        return None
    for choice in Slot.values:
        if str(slot_type).lower() == choice.lower():
            return choice
    raise ArkError(_("Unknown slot %(slot_type)s: choose Player or Sub.") % {"slot_type": repr(slot_type)})


def _counts(match: Match) -> tuple[int, int]:
    active = Signup.objects.filter(match=match, status=SignupStatus.ACTIVE)
    return active.filter(slot=Slot.PLAYER).count(), active.filter(slot=Slot.SUB).count()


def _signup_for(match: Match, governor_id: int | None, discord_user_id: int | None) -> Signup:
    """The caller's active signup in the match: by governor, or the user's only one."""
    rows = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("governor")
        .filter(match=match, status=SignupStatus.ACTIVE)
    )
    if governor_id is not None:
        signup = rows.filter(governor__governor_id=governor_id).first()
        if signup is None:
            raise NotFoundError(_("Governor %(governor_id)s is not signed up for this match.") % {"governor_id": governor_id})
        return signup
    mine = list(rows.filter(discord_user_id=discord_user_id))
    if not mine:
        raise NotFoundError(_("You are not signed up for this match."))
    if len(mine) > 1:
        names = ", ".join(f"{s.governor.name} ({s.governor.governor_id})" for s in mine)
        raise ArkError(_("You have several governors in this match (%(names)s): say which one.") % {"names": names})
    return mine[0]


def _check_owner(signup: Signup, actor: int | None, as_officer: bool) -> None:
    if not as_officer and actor != signup.discord_user_id:
        raise NotAllowedError(_("Only the governor's owner or an officer can change this signup."))


def _check_open_for_members(match: Match, now: dt.datetime, as_officer: bool) -> None:
    if match.status not in OPEN:
        raise SignupClosedError(_("This match is %(status)s: the roster can no longer change.") % {"status": match.get_status_display().lower()})
    if as_officer:
        return
    if match.status != MatchStatus.SCHEDULED or now >= match.signup_close_utc:
        raise SignupClosedError(_("Signups for this match are closed. Ask an officer if you need a change."))


def get_match(match_id: int) -> Match | None:
    """The match with its alliance, or None (callers word the "not found" for their audience)."""
    return Match.objects.select_related("alliance").filter(pk=match_id).first()


def get_roster(match_id: int) -> list[Signup]:
    """Active signups, players first, each slot in signup order."""
    return list(
        Signup.objects.filter(match_id=match_id, status=SignupStatus.ACTIVE)
        .select_related("governor")
        .order_by("slot", "created_at", "id")
    )


def insert_audit_log(
    *,
    action: str,
    actor_discord_id: int | None = None,
    match_id: int | None = None,
    signup_id: int | None = None,
    is_override: bool = False,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """An audit row on its own (e.g. an officer's note); the services write theirs themselves."""
    if not action or len(action) > 48:
        raise ArkError(_("An audit action is 1 to 48 characters."))
    with transaction.atomic():
        return AuditLog.objects.create(
            action=action,
            actor_discord_id=actor_discord_id,
            match_id=match_id,
            signup_id=signup_id,
            is_override=is_override,
            details=_jsonable(details or {}),
        )


def roster_counts(match: Match | int) -> tuple[int, int]:
    """(players, substitutes) signed up and active: what officers are told after a change."""
    return _counts(match)
