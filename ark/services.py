"""Ark of Osiris operations: the only code that writes the ark tables.

Each public function is one ``transaction.atomic()`` block that validates, writes, records
one ``AuditLog`` row and queues any Discord output through ``bot.outbox`` in the same
transaction. Rule violations raise ``ArkError`` with a message shown to the member or officer
as is. Functions that depend on the clock take ``now`` (default: the current time) so the
scheduler and the tests can say which moment they act at.

Concurrency: every roster change locks the match row (``SELECT … FOR UPDATE``), so caps are
checked and applied one signup at a time; the database's conditional unique constraints are
the backstop (one active signup per governor and weekend, one live match per alliance and
weekend, one reminder per match/target/type/time).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from bot import outbox
from bot.models import OutboxMessage
from core.errors import DomainError

from . import conf
from .messages import confirmation_buttons, reminder_text, render
from .models import (
    MAX_PLAYERS,
    MAX_SUBS,
    Alliance,
    AuditLog,
    Ban,
    Governor,
    Match,
    MessageRef,
    ReminderPrefs,
    SentReminder,
    Signup,
)

log = logging.getLogger(__name__)

Slot = Signup.Slot
SignupStatus = Signup.Status
MatchStatus = Match.Status
OPEN = (MatchStatus.SCHEDULED, MatchStatus.LOCKED)


class ArkError(DomainError):
    """An Ark rule was broken; the message is shown to the member or officer as is."""


class NotFound(ArkError):
    pass


class SignupClosed(ArkError):
    pass


class RosterFull(ArkError):
    pass


class Banned(ArkError):
    pass


class NotAllowed(ArkError):
    pass


# --- helpers ---------------------------------------------------------------------------------

_acting_as: ContextVar[str] = ContextVar("ark_acting_as", default="")


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Name the person behind the following calls in the audit log (the admin's officers
    have no Discord id); Discord callers pass ``actor_discord_id`` instead."""
    token = _acting_as.set(name)
    try:
        yield
    finally:
        _acting_as.reset(token)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ArkError(f"{name} must be a date and time (UTC).")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _lock_match(match_id: int) -> Match:
    try:
        return Match.objects.select_for_update(of=("self",)).select_related("alliance").get(pk=match_id)
    except (Match.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Ark match #{match_id} does not exist.") from None


def _audit(
    action: str,
    actor: int | None,
    *,
    match: Match | None = None,
    signup: Signup | None = None,
    override: bool = False,
    **details: Any,
) -> AuditLog:
    if _acting_as.get():
        details["by"] = _acting_as.get()
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
    raise ArkError(f"Unknown slot {slot_type!r}: choose Player or Sub.")


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
            raise NotFound(f"Governor {governor_id} is not signed up for this match.")
        return signup
    mine = list(rows.filter(discord_user_id=discord_user_id))
    if not mine:
        raise NotFound("You are not signed up for this match.")
    if len(mine) > 1:
        names = ", ".join(f"{s.governor.name} ({s.governor.governor_id})" for s in mine)
        raise ArkError(f"You have several governors in this match ({names}): say which one.")
    return mine[0]


def _check_owner(signup: Signup, actor: int | None, as_officer: bool) -> None:
    if not as_officer and actor != signup.discord_user_id:
        raise NotAllowed("Only the governor's owner or an officer can change this signup.")


def _check_open_for_members(match: Match, now: dt.datetime, as_officer: bool) -> None:
    if match.status not in OPEN:
        raise SignupClosed(f"This match is {match.status.lower()}: the roster can no longer change.")
    if as_officer:
        return
    if match.status != MatchStatus.SCHEDULED or now >= match.signup_close_utc:
        raise SignupClosed("Signups for this match are closed. Ask an officer if you need a change.")


def _bump(match: Match) -> None:
    """A change visible in the Discord messages: bump the version and refresh them."""
    Match.objects.filter(pk=match.pk).update(roster_version=F("roster_version") + 1)
    match.refresh_from_db(fields=["roster_version", "status", "updated_at"])
    for kind in MessageRef.Kind.values:
        _sync_message(match, kind)


# --- Discord messages (registration / confirmation) ------------------------------------------


def _channel_for(match: Match, kind: str) -> int | None:
    if kind == MessageRef.Kind.REGISTRATION:
        return match.alliance.registration_channel_id
    return match.alliance.confirmation_channel_id


def _update_pending(row_id: int | None, body: dict[str, Any]) -> bool:
    """Coalescing: rewrite a queued, not yet claimed outbox row instead of queuing another."""
    return outbox.rewrite_pending(row_id, content=body.get("content"), embeds=body.get("embeds"),
                                  components=body.get("components"))


_DEAD = (OutboxMessage.Status.FAILED, OutboxMessage.Status.CANCELLED)  # posts that will never land


def _latest_post(match: Match, kind: str) -> tuple[int, OutboxMessage | None]:
    """The last post of this message queued in the outbox (its number in the dedupe key)."""
    prefix = f"ark:{kind}:{match.pk}:"
    rows = OutboxMessage.objects.filter(dedupe_key__startswith=prefix, topic=f"ark.{kind}")
    numbered = [(int(r.dedupe_key[len(prefix) :]), r) for r in rows if r.dedupe_key[len(prefix) :].isdigit()]
    return max(numbered, key=lambda pair: pair[0], default=(0, None))


def _adopt_post(match: Match, kind: str) -> MessageRef | None:
    posts, row = _latest_post(match, kind)
    if row is None or row.status in _DEAD:
        return None
    return MessageRef.objects.create(
        match=match,
        kind=kind,
        channel_id=row.sent_channel_id or row.channel_id,
        message_id=row.sent_message_id if row.status == OutboxMessage.Status.SENT else None,
        post_outbox=row,
        rendered_version=0,
        posts=posts,
    )


def _sync_message(match: Match, kind: str, *, repost: bool = False) -> MessageRef | None:
    """Bring one Discord message of the match up to date, with at most one queued edit at a time.

    No message yet (or ``repost``, or the last post failed) → post (again) and remember it;
    posted but not delivered → rewrite the queued post; delivered → rewrite the queued edit,
    or queue one unless an edit is being delivered (edits never overtake each other; the
    delivery receiver queues the next). The confirmation message exists only once the match locked.
    """
    ref = (
        MessageRef.objects.select_for_update(of=("self",))
        .select_related("post_outbox")
        .filter(match=match, kind=kind)
        .first()
    )
    if kind == MessageRef.Kind.CONFIRMATION and ref is None and not repost and match.status != MatchStatus.LOCKED:
        return None  # posted when the match locks; a locked match's lost one is adopted or reposted below
    channel = _channel_for(match, kind)
    if not channel:
        return ref
    version = match.roster_version
    if ref is not None and ref.rendered_version == version and not repost:
        return ref
    body = render(match, get_roster(match.pk), kind)
    post_failed = (
        ref is not None
        and ref.message_id is None
        and (ref.post_outbox is None or ref.post_outbox.status in _DEAD)
    )
    if ref is None and not repost:
        ref = _adopt_post(match, kind)  # the reference was lost but the outbox still knows the post
        if ref is not None:
            return _sync_message(match, kind)
    if ref is None or repost or post_failed:
        posts = max(ref.posts if ref else 0, _latest_post(match, kind)[0]) + 1
        if ref is not None and ref.message_id:
            outbox.delete_message(
                ref.channel_id,
                ref.message_id,
                reason="Ark message reposted",
                dedupe_key=f"ark:{kind}:delete:{match.pk}:{ref.posts}",
                topic=f"ark.{kind}_delete",
            )
        row = outbox.post_message(
            channel,
            content=body["content"],
            embeds=body["embeds"],
            components=body["components"],
            dedupe_key=f"ark:{kind}:{match.pk}:{posts}",
            topic=f"ark.{kind}",
        )
        ref, _ = MessageRef.objects.update_or_create(
            match=match,
            kind=kind,
            defaults={
                "channel_id": channel,
                "message_id": None,
                "post_outbox": row,
                "pending_edit": None,
                "rendered_version": version,
                "posts": posts,
            },
        )
        return ref
    if ref.message_id is None:
        if _update_pending(ref.post_outbox_id, body):
            ref.rendered_version = version
            ref.save(update_fields=["rendered_version", "updated_at"])
        # else the post is on its way: record_message_delivery() catches up once it landed
        return ref
    if not _update_pending(ref.pending_edit_id, body):
        in_flight = (
            ref.pending_edit_id
            and OutboxMessage.objects.filter(
                pk=ref.pending_edit_id, status=OutboxMessage.Status.SENDING
            ).exists()
        )
        if in_flight:
            return ref  # one edit on its way at a time, so they land in order; the receiver catches up
        ref.pending_edit = outbox.edit_message(
            ref.channel_id,
            ref.message_id,
            content=body["content"],
            embeds=body["embeds"],
            components=body["components"],
            dedupe_key=f"ark:{kind}:edit:{match.pk}:{ref.posts}:{version}",
            topic=f"ark.{kind}_edit",
        )
    ref.rendered_version = version
    ref.save(update_fields=["pending_edit", "rendered_version", "updated_at"])
    return ref


def record_message_delivery(message: OutboxMessage) -> None:
    """Receiver of the outbox signals (connected in ArkConfig.ready): store the message id
    Discord gave a registration/confirmation post, catch up with roster changes made while it
    was in flight, and forget a message Discord no longer knows (the next sync reposts it)."""
    if not message.topic.startswith(("ark.registration", "ark.confirmation")):
        return
    with transaction.atomic():  # a savepoint inside the delivery's transaction
        found = (
            MessageRef.objects.filter(Q(post_outbox=message) | Q(pending_edit=message))
            .values_list("pk", "match_id")
            .first()
        )
        if found is None:
            return
        match = _lock_match(found[1])  # the match first, then the ref: the services' lock order
        ref = MessageRef.objects.select_for_update().filter(pk=found[0]).first()
        if ref is None:
            return
        if message.status == OutboxMessage.Status.SENT and ref.post_outbox_id == message.pk:
            ref.message_id = message.sent_message_id
            ref.channel_id = message.sent_channel_id or ref.channel_id
            ref.save(update_fields=["message_id", "channel_id", "updated_at"])
            _audit("message_posted", None, match=match, kind=ref.kind, message_id=ref.message_id)
        elif (
            message.status == OutboxMessage.Status.FAILED
            and message.last_error_code in (10003, 10008)
            and ref.pending_edit_id == message.pk
        ):  # the message is gone (a failed *post* stays recorded: no repost storm into a bad channel)
            ref.message_id = None
            ref.post_outbox = None
            ref.rendered_version = 0
            ref.save(update_fields=["message_id", "post_outbox", "rendered_version", "updated_at"])
            _audit("message_lost", None, match=match, kind=ref.kind, error=message.last_error)
            return
        if ref.message_id and ref.rendered_version < match.roster_version:
            _sync_message(match, ref.kind)


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
    alliance_id: int | None = None,
    actor_discord_id: int | None = None,
) -> Alliance:
    """Create or update an alliance's Ark settings. Lower caps do not evict anyone already in."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ArkError("An alliance name is 1 to 64 characters.")
    if not 1 <= player_cap <= MAX_PLAYERS or not 0 <= sub_cap <= MAX_SUBS:
        raise ArkError(f"An alliance has 1 to {MAX_PLAYERS} player slots and 0 to {MAX_SUBS} sub slots.")
    fields = {
        "name": name,
        "registration_channel_id": registration_channel_id,
        "confirmation_channel_id": confirmation_channel_id,
        "officer_channel_id": officer_channel_id,
        "is_active": is_active,
        "player_cap": player_cap,
        "sub_cap": sub_cap,
    }
    with transaction.atomic():
        if Alliance.objects.filter(name__iexact=name).exclude(pk=alliance_id).exists():
            raise ArkError(f"An alliance called {name} already exists.")
        if alliance_id is None:
            ally = Alliance.objects.create(**fields)
        else:
            ally = Alliance.objects.select_for_update().filter(pk=alliance_id).first()
            if ally is None:
                raise NotFound(f"Alliance #{alliance_id} does not exist.")
            for key, value in fields.items():
                setattr(ally, key, value)
            ally.save()
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
        raise ArkError("A governor name is 1 to 64 characters.")
    if not isinstance(governor_id, int) or governor_id <= 0:
        raise ArkError("The governor id is the positive number shown in the governor's profile.")
    with transaction.atomic():
        gov = Governor.objects.select_for_update().filter(governor_id=governor_id).first()
        if gov and gov.discord_user_id != discord_user_id and not as_officer:
            raise NotAllowed(f"Governor {governor_id} is registered to another Discord user; ask an officer.")
        if gov is None:
            try:
                with transaction.atomic():
                    gov = Governor.objects.create(
                        governor_id=governor_id, name=name, discord_user_id=discord_user_id
                    )
            except IntegrityError:
                raise ArkError(f"Governor {governor_id} was just registered by someone else.") from None
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
        raise NotFound(f"Ark match #{match_id} does not exist.")
    mine = list(Governor.objects.filter(discord_user_id=discord_user_id).order_by("name"))
    if not mine:
        raise NotFound("You have no governor registered: use `/ark governor register` first.")
    active = set(
        Signup.objects.filter(
            governor__in=mine, ark_weekend_date=match.ark_weekend_date, status=SignupStatus.ACTIVE
        ).values_list("governor_id", "match_id")
    )
    in_match = [g for g in mine if (g.pk, match.pk) in active]
    if signed_up:
        candidates = in_match
        missing = "You are not signed up for this match."
    else:
        busy = {gov_pk for gov_pk, _ in active}
        candidates = [g for g in mine if g.pk not in busy]
        missing = "All your governors are already signed up that weekend."
    if not candidates:
        raise ArkError(missing)
    if len(candidates) > 1:
        names = ", ".join(f"{g.name} ({g.governor_id})" for g in candidates)
        raise ArkError(f"You have several governors ({names}): use the `/ark` command with `governor_id`.")
    return candidates[0]


def list_governors(discord_user_id: int | None = None) -> list[Governor]:
    """A user's registry (or everyone's): what `/ark governor list` and the buttons choose from."""
    qs = Governor.objects.all()
    return list(qs.filter(discord_user_id=discord_user_id) if discord_user_id is not None else qs)


# --- matches ---------------------------------------------------------------------------------


def _validate_schedule(weekend: dt.date, match_day: str, start: dt.datetime, close: dt.datetime) -> None:
    if weekend.weekday() != 5:
        raise ArkError(f"The Ark weekend date must be a Saturday; {weekend} is a {weekend:%A}.")
    if match_day not in Match.Day.values:
        raise ArkError("The match day is Sat or Sun.")
    expected = weekend + dt.timedelta(days=0 if match_day == Match.Day.SATURDAY else 1)
    if start.date() != expected:
        raise ArkError(
            f"A {match_day} match of the weekend of {weekend} starts on {expected} (UTC), not {start.date()}."
        )
    if close > start:
        raise ArkError("Signups must close before the match starts.")


def _resolve_alliance(alliance: str | int | Alliance) -> Alliance:
    found = get_alliance(alliance)
    if found is None:
        raise NotFound(f"Unknown alliance {alliance!r}.")
    return found


def create_match(
    *,
    alliance: str | int | Alliance,
    ark_weekend_date: dt.date,
    match_day: str,
    match_time_utc: dt.datetime,
    signup_close_utc: dt.datetime,
    notes: str = "",
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Match:
    """Schedule a match and queue its registration message."""
    now = _now(now)
    start, close = _aware(match_time_utc, "match_time_utc"), _aware(signup_close_utc, "signup_close_utc")
    with transaction.atomic():
        ally = _resolve_alliance(alliance)
        if not ally.is_active:
            raise ArkError(f"Alliance {ally.name} is inactive.")
        for missing in ally.missing_channels:
            raise ArkError(
                f"Alliance {ally.name} has no {missing} set: an officer sets it in the admin under "
                f"Ark of Osiris › Alliances › {ally.name} ({missing.replace(' ', '_')}_id)."
            )
        _validate_schedule(ark_weekend_date, match_day, start, close)
        if close <= now:
            raise ArkError("The signup close time is already past.")
        if (
            Match.objects.filter(alliance=ally, ark_weekend_date=ark_weekend_date)
            .exclude(status=MatchStatus.CANCELLED)
            .exists()
        ):
            raise ArkError(f"{ally.name} already has a match on the weekend of {ark_weekend_date}.")
        try:
            with transaction.atomic():
                match = Match.objects.create(
                    alliance=ally,
                    ark_weekend_date=ark_weekend_date,
                    match_day=match_day,
                    match_time_utc=start,
                    signup_close_utc=close,
                    notes=notes or "",
                    created_by_discord_id=actor_discord_id,
                    roster_version=1,
                )
        except IntegrityError:
            raise ArkError(f"{ally.name} already has a match on the weekend of {ark_weekend_date}.") from None
        _audit(
            "match_created",
            actor_discord_id,
            match=match,
            alliance=ally.name,
            weekend=ark_weekend_date,
            day=match_day,
            start=start,
            close=close,
        )
        _sync_message(match, MessageRef.Kind.REGISTRATION)
        return match


def amend_match(
    *,
    match_id: int,
    match_day: str | None = None,
    match_time_utc: dt.datetime | None = None,
    signup_close_utc: dt.datetime | None = None,
    notes: str | None = None,
    alliance: str | int | Alliance | None = None,
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Match:
    """Change day/time/notes (the alliance only while nobody signed up). A new time re-plans
    the reminders: they are keyed by their planned time, so the ones already sent for the old
    time stay sent and the new ones go out once; reminders queued for the old time are dropped.
    The signed-up members are told the new start by DM. A locked match keeps its (past) signup
    close: re-opening signups behind the confirmation message would confuse everyone."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(f"A {match.status.lower()} match cannot be amended.")
        before = {
            "day": match.match_day,
            "start": match.match_time_utc,
            "close": match.signup_close_utc,
            "notes": match.notes,
            "alliance": match.alliance.name,
        }
        if alliance is not None:
            ally = _resolve_alliance(alliance)
            if ally.pk != match.alliance_id:
                if Signup.objects.filter(match=match).exists():
                    raise ArkError("The alliance can only change while nobody has signed up.")
                if ally.missing_channels:
                    raise ArkError(f"Alliance {ally.name} has no {ally.missing_channels[0]} set.")
                match.alliance = ally
        day = match_day or match.match_day
        start = _aware(match_time_utc, "match_time_utc") if match_time_utc else match.match_time_utc
        close = _aware(signup_close_utc, "signup_close_utc") if signup_close_utc else match.signup_close_utc
        if match_time_utc and not signup_close_utc and close > start:
            close = start
        _validate_schedule(match.ark_weekend_date, day, start, close)
        if start != match.match_time_utc and start <= now:
            raise ArkError("The new start time is already past.")
        if match.status == MatchStatus.LOCKED and signup_close_utc and close != match.signup_close_utc:
            raise ArkError("Signups of this match are closed (it is locked): only the start can still move.")
        moved = start != match.match_time_utc or close != match.signup_close_utc
        start_moved = start != match.match_time_utc
        match.match_day, match.match_time_utc, match.signup_close_utc = day, start, close
        if notes is not None:
            match.notes = notes
        try:
            with transaction.atomic():
                match.save()
        except IntegrityError:
            raise ArkError(f"{match.alliance.name} already has a match that weekend.") from None
        dropped = _drop_pending_reminders(match) if moved else 0
        told = _tell_new_start(match) if start_moved else 0
        _audit(
            "match_amended",
            actor_discord_id,
            match=match,
            before=before,
            after={
                "day": day,
                "start": start,
                "close": close,
                "notes": match.notes,
                "alliance": match.alliance.name,
            },
            reminders_dropped=dropped,
            notified=told,
        )
        if before["alliance"] != match.alliance.name:
            Match.objects.filter(pk=match.pk).update(roster_version=F("roster_version") + 1)
            match.refresh_from_db(fields=["roster_version"])
            _sync_message(match, MessageRef.Kind.REGISTRATION, repost=True)  # into the new alliance's channel
        else:
            _bump(match)
        return match


def _active_users(match: Match) -> list[int]:
    return sorted(
        set(
            Signup.objects.filter(match=match, status=SignupStatus.ACTIVE).values_list(
                "discord_user_id", flat=True
            )
        )
    )


def _tell_new_start(match: Match) -> int:
    """DM the signed-up members the new start (once per user and new time)."""
    users = _active_users(match)
    when = outbox.discord_timestamp(match.match_time_utc, "F")
    for user in users:
        outbox.send_dm(
            user,
            content=(
                f"**Ark of Osiris — {match.alliance.name}**: the match moved to **{when}** "
                f"({outbox.discord_timestamp(match.match_time_utc, 'R')}). You are still signed up."
            ),
            dedupe_key=f"ark:moved:{match.pk}:{user}:{int(match.match_time_utc.timestamp())}",
            topic="ark.rescheduled",
        )
    return len(users)


def _drop_pending_reminders(match: Match) -> int:
    """Withdraw the reminders queued for this match that no worker has claimed yet."""
    queued = SentReminder.objects.filter(match=match, status=SentReminder.Status.QUEUED, outbox__isnull=False)
    pending = outbox.withdraw_pending(list(queued.values_list("outbox_id", flat=True)),
                                      reason=f"ark match {match.pk} changed")
    if not pending:
        return 0
    SentReminder.objects.filter(outbox_id__in=pending).update(status=SentReminder.Status.DROPPED)
    return len(pending)


def cancel_match(*, match_id: int, actor_discord_id: int | None = None, reason: str = "") -> Match:
    """Cancel: DM every signed-up user, drop pending reminders, mark the messages cancelled."""
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(f"This match is already {match.status.lower()}.")
        match.status = MatchStatus.CANCELLED
        match.save(update_fields=["status", "updated_at"])
        users = _active_users(match)
        text = (
            f"**Ark of Osiris — {match.alliance.name}**: the match of {match.get_match_day_display()} "
            f"{outbox.discord_timestamp(match.match_time_utc, 'F')} was **cancelled**."
            + (f"\nReason: {reason[:500]}" if reason else "")
        )
        for user in users:
            outbox.send_dm(
                user, content=text, dedupe_key=f"ark:cancelled:{match.pk}:{user}", topic="ark.cancelled"
            )
        dropped = _drop_pending_reminders(match)
        _audit(
            "match_cancelled",
            actor_discord_id,
            match=match,
            reason=reason,
            notified=len(users),
            reminders_dropped=dropped,
        )
        _bump(match)
        return match


def get_match(match_id: int) -> Match | None:
    """The match with its alliance, or None (callers word the "not found" for their audience)."""
    return Match.objects.select_related("alliance").filter(pk=match_id).first()


def list_open_matches(alliance: str | int | Alliance | None = None) -> list[Match]:
    """Scheduled or Locked matches, soonest first: the ones members can still act on."""
    qs = Match.objects.select_related("alliance").filter(status__in=OPEN).order_by("match_time_utc", "id")
    if alliance is not None:
        ally = get_alliance(alliance)
        if ally is None:
            return []
        qs = qs.filter(alliance=ally)
    return list(qs)


def lock_match(
    *, match_id: int, actor_discord_id: int | None = None, now: dt.datetime | None = None
) -> Match:
    """Close signups now and post the confirmation message (also what the scheduler does at close)."""
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status != MatchStatus.SCHEDULED:
            raise ArkError(f"Only a scheduled match can be locked; this one is {match.status.lower()}.")
        _lock(match, actor_discord_id, _now(now))
        return match


def _lock(match: Match, actor: int | None, now: dt.datetime) -> None:
    match.status = MatchStatus.LOCKED
    match.locked_at = now
    match.save(update_fields=["status", "locked_at", "updated_at"])
    players, subs = _counts(match)
    _audit("match_locked", actor, match=match, players=players, subs=subs)
    Match.objects.filter(pk=match.pk).update(roster_version=F("roster_version") + 1)
    match.refresh_from_db(fields=["roster_version"])
    _sync_message(match, MessageRef.Kind.REGISTRATION)
    _sync_message(
        match,
        MessageRef.Kind.CONFIRMATION,
        repost=not MessageRef.objects.filter(match=match, kind=MessageRef.Kind.CONFIRMATION).exists(),
    )


def repost_match_messages(*, match_id: int, actor_discord_id: int | None = None) -> Match:
    """Post the match's messages again (the old ones are deleted): for a message deleted by
    hand in Discord or a channel that changed."""
    with transaction.atomic():
        match = _lock_match(match_id)
        kinds = [MessageRef.Kind.REGISTRATION]
        if match.status != MatchStatus.SCHEDULED:
            kinds.append(MessageRef.Kind.CONFIRMATION)
        for kind in kinds:
            if not _channel_for(match, kind):
                raise ArkError(f"Alliance {match.alliance.name} has no {kind} channel set.")
            _sync_message(match, kind, repost=True)
        _audit("messages_reposted", actor_discord_id, match=match, kinds=kinds)
        return match


def set_match_result(
    *,
    match_id: int,
    result: str,
    result_notes: str = "",
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Match:
    """Record Win/Loss/No-show; the match becomes Completed (a result may be corrected)."""
    now = _now(now)
    chosen = next((r for r in ("Win", "Loss", "No-show") if str(result).lower() == r.lower()), None)
    if chosen is None:
        raise ArkError("The result is Win, Loss or No-show.")
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status == MatchStatus.CANCELLED:
            raise ArkError("A cancelled match has no result.")
        if match.match_time_utc > now:
            raise ArkError("The match has not started yet: record the result afterwards.")
        before = match.result
        match.result, match.result_notes, match.status = chosen, result_notes or "", MatchStatus.COMPLETED
        match.save(update_fields=["result", "result_notes", "status", "updated_at"])
        _audit("result_set", actor_discord_id, match=match, result=chosen, notes=result_notes, before=before)
        _bump(match)
        return match


# --- signups ---------------------------------------------------------------------------------


def get_roster(match_id: int) -> list[Signup]:
    """Active signups, players first, each slot in signup order."""
    return list(
        Signup.objects.filter(match_id=match_id, status=SignupStatus.ACTIVE)
        .select_related("governor")
        .order_by("slot", "created_at", "id")
    )


def find_active_signup_for_weekend(
    governor_id: int, ark_weekend_date: dt.date, exclude_match_id: int | None = None
) -> Signup | None:
    """The governor's active signup that Ark weekend in any alliance: one team per weekend in game."""
    qs = Signup.objects.select_related("match__alliance", "governor").filter(
        governor__governor_id=governor_id, ark_weekend_date=ark_weekend_date, status=SignupStatus.ACTIVE
    )
    if exclude_match_id is not None:
        qs = qs.exclude(match_id=exclude_match_id)
    return qs.first()


def _check_weekend_free(governor: Governor, match: Match) -> None:
    other = find_active_signup_for_weekend(governor.governor_id, match.ark_weekend_date)
    if other is not None:
        where = "this match" if other.match_id == match.pk else f"{other.match.alliance.name}'s match"
        raise ArkError(f"{governor.name} is already signed up for {where} that weekend.")


def _check_ban(
    match: Match, discord_user_id: int, governor_id: int, as_officer: bool, override_ban: bool
) -> Ban | None:
    ban = get_active_ban_for(
        discord_user_id=discord_user_id, governor_id=governor_id, ark_weekend_date=match.ark_weekend_date
    )
    if ban is None:
        return None
    if not (as_officer and override_ban):
        until = f" until {ban.ends_on}" if ban.ends_on else ""
        raise Banned(
            f"You are banned from Ark{until}: {ban.reason}"
            if not as_officer
            else f"This member is banned from Ark{until} ({ban.reason}). Use the ban override to add them anyway."
        )
    return ban


def add_signup(
    *,
    match_id: int,
    governor_id: int,
    discord_user_id: int,
    governor_name: str | None = None,
    slot_type: str | None = None,
    source: str = Signup.Source.SELF,
    actor_discord_id: int | None = None,
    as_officer: bool = False,
    override_ban: bool = False,
    now: dt.datetime | None = None,
) -> Signup:
    """Sign a governor up. Without ``slot_type`` the first free slot is taken (Player, then Sub).
    A Sub is only allowed once the players are full, unless an officer says otherwise; banned
    users/governors need an officer's explicit ban override, which is audited as such."""
    now = _now(now)
    slot = _parse_slot(slot_type)
    if source not in Signup.Source.values:
        raise ArkError("The signup source is self or admin.")
    with transaction.atomic():
        match = _lock_match(match_id)  # serialises every roster change of this match
        _check_open_for_members(match, now, as_officer)
        gov = Governor.objects.select_for_update().filter(governor_id=governor_id).first()
        if gov is None:
            if not governor_name:
                raise NotFound(f"Governor {governor_id} is not registered: use /ark governor register first.")
            gov = register_governor(
                governor_id=governor_id,
                name=governor_name,
                discord_user_id=discord_user_id,
                actor_discord_id=actor_discord_id,
            )
        elif gov.discord_user_id != discord_user_id:
            raise NotAllowed(f"Governor {gov.name} belongs to another Discord user.")
        ban = _check_ban(match, discord_user_id, gov.governor_id, as_officer, override_ban)
        _check_weekend_free(gov, match)
        players, subs = _counts(match)
        ally = match.alliance
        override = ban is not None
        if slot is None:
            slot = Slot.PLAYER if players < ally.player_cap else Slot.SUB
        if slot == Slot.PLAYER and players >= ally.player_cap:
            raise RosterFull(
                f"All {ally.player_cap} player slots are taken"
                + (": join as Sub." if subs < ally.sub_cap else " and the subs are full too.")
            )
        if slot == Slot.SUB:
            if subs >= ally.sub_cap:
                raise RosterFull(f"The roster is full ({ally.player_cap} players, {ally.sub_cap} subs).")
            if players < ally.player_cap:
                if not as_officer:
                    raise ArkError(
                        f"Player slots are still open ({players}/{ally.player_cap}): join as Player."
                    )
                override = True
        try:
            with transaction.atomic():
                signup = Signup.objects.create(
                    match=match,
                    governor=gov,
                    discord_user_id=discord_user_id,
                    ark_weekend_date=match.ark_weekend_date,
                    slot=slot,
                    source=Signup.Source.ADMIN if as_officer else source,
                )
        except IntegrityError:
            raise ArkError(f"{gov.name} is already signed up for that Ark weekend.") from None
        _audit(
            "signup_added",
            actor_discord_id,
            match=match,
            signup=signup,
            override=override,
            governor_id=gov.governor_id,
            slot=slot,
            ban_overridden=ban.pk if ban else None,
        )
        _bump(match)
        return signup


def _promote_first_sub(match: Match, actor: int | None, leaver: Signup) -> Signup | None:
    sub = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("governor")
        .filter(match=match, status=SignupStatus.ACTIVE, slot=Slot.SUB)
        .order_by("created_at", "id")
        .first()
    )
    if sub is None:
        return None
    sub.slot = Slot.PLAYER
    sub.save(update_fields=["slot", "updated_at"])
    outbox.send_dm(
        sub.discord_user_id,
        content=(
            f"**Ark of Osiris — {match.alliance.name}**: {sub.governor.name} moved up from Sub to "
            f"**Player** for the match {outbox.discord_timestamp(match.match_time_utc, 'F')} "
            f"({outbox.discord_timestamp(match.match_time_utc, 'R')}). See you there!"
        ),
        dedupe_key=f"ark:promoted:{sub.pk}:{leaver.pk}",
        topic="ark.promoted",
    )
    return sub


def remove_signup(
    *,
    match_id: int,
    governor_id: int,
    status: str = SignupStatus.WITHDRAWN,
    actor_discord_id: int | None = None,
    as_officer: bool = False,
    now: dt.datetime | None = None,
) -> Signup:
    """Withdraw (the member) or remove (an officer) a signup. A leaving Player's slot goes to
    the earliest Sub, who gets a DM."""
    now = _now(now)
    if status not in (SignupStatus.WITHDRAWN, SignupStatus.REMOVED):
        raise ArkError("A signup ends as Withdrawn or Removed.")
    if status == SignupStatus.REMOVED and not as_officer:
        raise NotAllowed("Only officers can remove a signup.")
    with transaction.atomic():
        match = _lock_match(match_id)
        _check_open_for_members(match, now, as_officer)
        signup = _signup_for(match, governor_id, None)
        _check_owner(signup, actor_discord_id, as_officer)
        return _end_signup(match, signup, status, actor_discord_id, now, "signup_" + status.lower())


def _end_signup(
    match: Match, signup: Signup, status: str, actor: int | None, now: dt.datetime, action: str
) -> Signup:
    was_player = signup.slot == Slot.PLAYER
    signup.status, signup.ended_at = status, now
    signup.save(update_fields=["status", "ended_at", "updated_at"])
    promoted = _promote_first_sub(match, actor, signup) if was_player else None
    _audit(
        action,
        actor,
        match=match,
        signup=signup,
        governor_id=signup.governor.governor_id,
        slot=signup.slot,
        promoted_signup=promoted.pk if promoted else None,
        promoted_governor=promoted.governor.governor_id if promoted else None,
    )
    _bump(match)
    return signup


def switch_signup_governor(
    *,
    match_id: int,
    old_governor_id: int,
    new_governor_id: int,
    actor_discord_id: int | None = None,
    as_officer: bool = False,
    now: dt.datetime | None = None,
) -> Signup:
    """Put another governor of the same Discord user in the signup; slot and position stay."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        _check_open_for_members(match, now, as_officer)
        signup = _signup_for(match, old_governor_id, None)
        _check_owner(signup, actor_discord_id, as_officer)
        new = Governor.objects.filter(governor_id=new_governor_id).first()
        if new is None:
            raise NotFound(f"Governor {new_governor_id} is not registered: use /ark governor register first.")
        if new.discord_user_id != signup.discord_user_id:
            raise NotAllowed("You can only switch to another governor of the same Discord user.")
        if new.pk == signup.governor_id:
            raise ArkError(f"{new.name} is already the signed-up governor.")
        _check_ban(match, signup.discord_user_id, new.governor_id, as_officer, False)
        _check_weekend_free(new, match)
        old = signup.governor
        signup.governor = new
        try:
            with transaction.atomic():
                signup.save(update_fields=["governor", "updated_at"])
        except IntegrityError:
            raise ArkError(f"{new.name} is already signed up for that Ark weekend.") from None
        _audit(
            "signup_switched",
            actor_discord_id,
            match=match,
            signup=signup,
            old_governor_id=old.governor_id,
            new_governor_id=new.governor_id,
        )
        _bump(match)
        return signup


def move_signup_slot(
    *, match_id: int, governor_id: int, slot_type: str, actor_discord_id: int | None = None
) -> Signup:
    """Officer: promote a Sub to Player or demote a Player to Sub, within the caps."""
    slot = _parse_slot(slot_type)
    if slot is None:
        raise ArkError("Choose Player or Sub.")
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(f"This match is {match.status.lower()}: the roster can no longer change.")
        signup = _signup_for(match, governor_id, None)
        if signup.slot == slot:
            raise ArkError(f"{signup.governor.name} is already a {slot}.")
        players, subs = _counts(match)
        if slot == Slot.PLAYER and players >= match.alliance.player_cap:
            raise RosterFull(f"All {match.alliance.player_cap} player slots are taken.")
        if slot == Slot.SUB and subs >= match.alliance.sub_cap:
            raise RosterFull(f"All {match.alliance.sub_cap} sub slots are taken.")
        before = signup.slot
        signup.slot = slot
        signup.save(update_fields=["slot", "updated_at"])
        _audit(
            "signup_moved",
            actor_discord_id,
            match=match,
            signup=signup,
            override=True,
            governor_id=signup.governor.governor_id,
            before=before,
            after=slot,
        )
        _bump(match)
        return signup


def mark_checked_in(
    *,
    match_id: int,
    discord_user_id: int,
    governor_id: int | None = None,
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Signup]:
    """Check in the user's active signups (or one governor), from 12 hours before the start until it."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(f"This match is {match.status.lower()}.")
        opens = match.match_time_utc - conf.CHECKIN_WINDOW
        if now < opens:
            raise ArkError(
                f"Check-in opens {outbox.discord_timestamp(opens, 'R')} (12 hours before the start)."
            )
        if now > match.match_time_utc:
            raise ArkError("The match has started: check-in is closed.")
        rows = (
            Signup.objects.select_for_update(of=("self",))
            .select_related("governor")
            .filter(match=match, status=SignupStatus.ACTIVE, discord_user_id=discord_user_id)
        )
        if governor_id is not None:
            rows = rows.filter(governor__governor_id=governor_id)
        signups = list(rows)
        if not signups:
            raise NotFound("You have no active signup in this match.")
        fresh = [s for s in signups if s.checked_in_at is None]
        if not fresh:
            raise ArkError("You are already checked in.")
        for s in fresh:
            s.checked_in_at = now
            s.save(update_fields=["checked_in_at", "updated_at"])
        _audit(
            "checked_in",
            actor_discord_id or discord_user_id,
            match=match,
            signup=fresh[0],
            governors=[s.governor.governor_id for s in fresh],
        )
        _bump(match)
        return signups


def mark_emergency_withdraw(
    *,
    match_id: int,
    discord_user_id: int,
    governor_id: int | None = None,
    actor_discord_id: int | None = None,
    as_officer: bool = False,
    now: dt.datetime | None = None,
) -> Signup:
    """Leave a locked (or still open) match before it starts; a Player is replaced by the
    earliest Sub, who is told by DM."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(f"This match is {match.status.lower()}.")
        if now >= match.match_time_utc and not as_officer:
            raise ArkError("The match has started: ask an officer.")
        signup = _signup_for(match, governor_id, discord_user_id)
        if signup.discord_user_id != discord_user_id:
            raise NotAllowed("That governor belongs to another Discord user.")
        return _end_signup(
            match,
            signup,
            SignupStatus.WITHDRAWN,
            actor_discord_id or discord_user_id,
            now,
            "emergency_withdraw",
        )


# --- bans ------------------------------------------------------------------------------------


def ark_weekend_of(day: dt.date) -> dt.date:
    """The Saturday of the Ark weekend a day belongs to: a Sunday belongs to the day before;
    Monday–Friday to the coming weekend."""
    if day.weekday() == 6:
        return day - dt.timedelta(days=1)
    return day + dt.timedelta(days=(5 - day.weekday()) % 7)


def add_ban(
    *,
    reason: str,
    discord_user_id: int | None = None,
    governor_id: int | None = None,
    weekends: int | None = None,
    until_date: dt.date | None = None,
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ban:
    """Ban a user and/or a governor for the next ``weekends`` Ark weekends (the current one
    counts when it is Saturday or Sunday) or until ``until_date``."""
    if discord_user_id is None and governor_id is None:
        raise ArkError("A ban needs a Discord user, a governor id or both.")
    if (weekends is None) == (until_date is None):
        raise ArkError("Give either a number of weekends or an end date.")
    if not (reason or "").strip():
        raise ArkError("A ban needs a reason.")
    start = ark_weekend_of(_now(now).date())
    if weekends is not None:
        if weekends < 1 or weekends > 104:
            raise ArkError("A ban lasts 1 to 104 weekends.")
        ends = start + dt.timedelta(days=7 * (weekends - 1) + 1)
    else:
        if until_date < start:
            raise ArkError(f"The end date {until_date} is before the next Ark weekend ({start}).")
        ends = until_date
    with transaction.atomic():
        ban = Ban.objects.create(
            discord_user_id=discord_user_id,
            governor_id=governor_id,
            reason=reason.strip(),
            starts_weekend=start,
            ends_on=ends,
            created_by_discord_id=actor_discord_id,
        )
        _audit(
            "ban_added",
            actor_discord_id,
            ban_id=ban.pk,
            discord_user_id=discord_user_id,
            governor_id=governor_id,
            starts=start,
            ends=ends,
            reason=ban.reason,
        )
        return ban


def revoke_ban(*, ban_id: int, actor_discord_id: int | None = None, now: dt.datetime | None = None) -> Ban:
    """Lift a ban; the row stays (revoked) so the audit trail keeps who was banned and why."""
    with transaction.atomic():
        ban = Ban.objects.select_for_update().filter(pk=ban_id).first()
        if ban is None:
            raise NotFound(f"Ban #{ban_id} does not exist.")
        if ban.revoked_at:
            raise ArkError(f"Ban #{ban_id} was already revoked.")
        ban.revoked_at, ban.revoked_by_discord_id = _now(now), actor_discord_id
        ban.save(update_fields=["revoked_at", "revoked_by_discord_id"])
        _audit("ban_revoked", actor_discord_id, ban_id=ban.pk)
        return ban


def _active_bans(on_weekend: dt.date):
    return Ban.objects.filter(
        revoked_at__isnull=True, starts_weekend__lte=on_weekend, ends_on__gte=on_weekend
    )


def signups_covered_by(ban: Ban) -> list[Signup]:
    """Active signups in open matches that a (new) ban covers: a ban refuses new signups but
    does not silently pull anyone out of a roster, so the officer is shown these to decide."""
    who = Q(pk__in=[])
    if ban.discord_user_id is not None:
        who |= Q(discord_user_id=ban.discord_user_id)
    if ban.governor_id is not None:
        who |= Q(governor__governor_id=ban.governor_id)
    return list(
        Signup.objects.filter(who, status=SignupStatus.ACTIVE, match__status__in=OPEN)
        .filter(ark_weekend_date__gte=ban.starts_weekend, ark_weekend_date__lte=ban.ends_on)
        .select_related("governor", "match__alliance")
        .order_by("ark_weekend_date", "id")
    )


def list_bans(active_only: bool = True, now: dt.datetime | None = None) -> list[Ban]:
    """Active = not revoked and covering the current or a later Ark weekend."""
    qs = Ban.objects.all()
    if active_only:
        qs = qs.filter(revoked_at__isnull=True, ends_on__gte=ark_weekend_of(_now(now).date()))
    return list(qs.order_by("-created_at", "-id"))


def get_active_ban_for(
    *, ark_weekend_date: dt.date, discord_user_id: int | None = None, governor_id: int | None = None
) -> Ban | None:
    """The ban covering that weekend for the user or the governor (a user ban follows all their
    governors; a governor ban follows the account to a new owner). The longest-running one."""
    who = Q(pk__in=[])
    if discord_user_id is not None:
        who |= Q(discord_user_id=discord_user_id)
    if governor_id is not None:
        who |= Q(governor_id=governor_id)
    return _active_bans(ark_weekend_date).filter(who).order_by("-ends_on").first()


# --- reminder preferences --------------------------------------------------------------------


def get_reminder_prefs(discord_user_id: int) -> ReminderPrefs | None:
    """None means the defaults: every reminder type by DM."""
    return ReminderPrefs.objects.filter(discord_user_id=discord_user_id).first()


def upsert_reminder_prefs(
    *,
    discord_user_id: int,
    dm_enabled: bool | None = None,
    disabled_types: Iterable[str] | None = None,
    actor_discord_id: int | None = None,
) -> ReminderPrefs:
    """Reminder types a user turns off must be known types (see ``ark.conf``)."""
    if disabled_types is not None:
        disabled_types = sorted(set(disabled_types))
        unknown = [t for t in disabled_types if t not in conf.AVAILABLE_REMINDERS]
        if unknown:
            raise ArkError(
                f"Unknown reminder type(s) {', '.join(unknown)}; known: "
                f"{', '.join(conf.AVAILABLE_REMINDERS)}."
            )
    with transaction.atomic():
        prefs, _ = ReminderPrefs.objects.select_for_update().get_or_create(discord_user_id=discord_user_id)
        if dm_enabled is not None:
            prefs.dm_enabled = dm_enabled
        if disabled_types is not None:
            prefs.disabled_types = disabled_types
        prefs.save()
        _audit(
            "reminder_prefs",
            actor_discord_id or discord_user_id,
            discord_user_id=discord_user_id,
            dm_enabled=prefs.dm_enabled,
            disabled_types=prefs.disabled_types,
        )
        return prefs


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
        raise ArkError("An audit action is 1 to 48 characters.")
    with transaction.atomic():
        return AuditLog.objects.create(
            action=action,
            actor_discord_id=actor_discord_id,
            match_id=match_id,
            signup_id=signup_id,
            is_override=is_override,
            details=_jsonable(details or {}),
        )


# --- lifecycle (the minute task) ---------------------------------------------------------------


@dataclass
class LifecycleReport:
    locked: int = 0
    reminders_queued: int = 0
    reminders_skipped: int = 0
    result_reminders: int = 0
    reposted: int = 0

    def __str__(self) -> str:
        return (
            f"{self.locked} locked, {self.reminders_queued} reminders queued, {self.reminders_skipped} skipped "
            f"late, {self.result_reminders} result reminders, {self.reposted} messages reposted"
        )


def _claim(match_id: int, *statuses: str) -> Match | None:
    """Lock one match for this worker, or None if another worker holds it or it moved on."""
    return (
        Match.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("alliance")
        .filter(pk=match_id, status__in=statuses)
        .first()
    )


def run_lifecycle(now: dt.datetime | None = None) -> LifecycleReport:
    """Everything the minute task does. Each match is handled in its own transaction under a
    SKIP LOCKED row lock, so two workers at once split the work instead of doubling it; the
    unique keys (reminders, outbox dedupe keys) would refuse a double anyway."""
    now = _now(now)
    report = LifecycleReport()
    for match_id in Match.objects.filter(status=MatchStatus.SCHEDULED, signup_close_utc__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            match = _claim(match_id, MatchStatus.SCHEDULED)
            if match and match.signup_close_utc <= now:
                _lock(match, None, now)
                report.locked += 1
    _due_reminders(now, report)
    _result_reminders(now, report)
    _reconcile_messages(report)
    return report


def _due_reminders(now: dt.datetime, report: LifecycleReport) -> None:
    types = conf.reminder_types()
    if not types:
        return
    grace = conf.reminder_grace()
    start_horizon = max((t.offset for t in types if t.anchor == "start"), default=dt.timedelta(0))
    close_horizon = max((t.offset for t in types if t.anchor == "close"), default=dt.timedelta(0))
    candidates = Match.objects.filter(
        status__in=OPEN, match_time_utc__gte=now - dt.timedelta(hours=6)
    ).filter(Q(match_time_utc__lte=now + start_horizon) | Q(signup_close_utc__lte=now + close_horizon))
    for match_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            match = _claim(match_id, *OPEN)
            if match is None:
                continue
            queued = skipped = 0
            users = sorted(
                set(
                    Signup.objects.filter(match=match, status=SignupStatus.ACTIVE).values_list(
                        "discord_user_id", flat=True
                    )
                )
            )
            prefs = {p.discord_user_id: p for p in ReminderPrefs.objects.filter(discord_user_id__in=users)}
            for rtype in types:
                anchor = match.signup_close_utc if rtype.anchor == "close" else match.match_time_utc
                due = anchor - rtype.offset
                if due > now:
                    continue
                # "signups close soon" for a closed match: nothing to say if it was locked
                # before the reminder was due; missed (recorded as late) if it was due first
                closed = rtype.anchor == "close" and match.status != MatchStatus.SCHEDULED
                if closed and (match.locked_at is None or match.locked_at < due):
                    continue
                channel = match.alliance.registration_channel_id
                targets = ([channel] if channel else []) if rtype.to_channel else users
                done = set(
                    SentReminder.objects.filter(
                        match=match, reminder_type=rtype.name, scheduled_for=due
                    ).values_list("target_id", flat=True)
                )
                for target in targets:
                    if target in done:
                        continue
                    if now - due > grace or closed:
                        SentReminder.objects.create(
                            match=match,
                            reminder_type=rtype.name,
                            target_id=target,
                            is_channel=rtype.to_channel,
                            scheduled_for=due,
                            status=SentReminder.Status.SKIPPED_LATE,
                        )
                        skipped += 1
                        continue
                    if not rtype.to_channel and target in prefs and not prefs[target].wants(rtype.name):
                        continue
                    key = f"ark:reminder:{match.pk}:{rtype.name}:{target}:{int(due.timestamp())}"
                    text = reminder_text(match, rtype.text)
                    if rtype.to_channel:
                        row = outbox.post_message(target, content=text, dedupe_key=key, topic="ark.reminder")
                    else:
                        in_checkin = rtype.anchor == "start" and rtype.offset <= conf.CHECKIN_WINDOW
                        components = confirmation_buttons(match.pk) if in_checkin else None
                        row = outbox.send_dm(
                            target, content=text, components=components, dedupe_key=key, topic="ark.reminder"
                        )
                    SentReminder.objects.create(
                        match=match,
                        reminder_type=rtype.name,
                        target_id=target,
                        is_channel=rtype.to_channel,
                        scheduled_for=due,
                        status=SentReminder.Status.QUEUED,
                        outbox=row,
                    )
                    queued += 1
            if queued or skipped:
                _audit("reminders", None, match=match, queued=queued, skipped_late=skipped)
            report.reminders_queued += queued
            report.reminders_skipped += skipped


def _result_reminders(now: dt.datetime, report: LifecycleReport) -> None:
    delay = conf.result_reminder_delay()
    due = Match.objects.filter(
        status=MatchStatus.LOCKED, result_reminded_at__isnull=True, match_time_utc__lte=now - delay
    ).values_list("pk", flat=True)
    for match_id in due:
        with transaction.atomic():
            match = _claim(match_id, MatchStatus.LOCKED)
            if match is None or match.result_reminded_at is not None:
                continue
            channel = match.alliance.officer_channel_id or match.alliance.confirmation_channel_id
            if channel:
                outbox.post_message(
                    channel,
                    content=(
                        f"**Ark of Osiris — {match.alliance.name}**: the match of "
                        f"{outbox.discord_timestamp(match.match_time_utc, 'F')} (#{match.pk}) has no "
                        f"result yet. Officers: `/ark set_result match_id:{match.pk}` or the admin."
                    ),
                    dedupe_key=f"ark:result_reminder:{match.pk}",
                    topic="ark.result_reminder",
                )
            match.result_reminded_at = now
            match.save(update_fields=["result_reminded_at", "updated_at"])
            _audit("result_reminder", None, match=match, channel_id=channel)
            report.result_reminders += 1


def _message_known(kind: str) -> Exists:
    """The match has a ``kind`` message Discord accepted or the outbox still holds (one
    subquery on the same ref row: ``exclude()`` across a reverse relation would mix rows)."""
    return Exists(
        MessageRef.objects.filter(match=OuterRef("pk"), kind=kind).filter(
            Q(message_id__isnull=False) | Q(post_outbox__isnull=False)
        )
    )


def _reconcile_messages(report: LifecycleReport) -> None:
    """The seed's restart step: an open match whose registration message is unknown (never
    queued, or Discord lost it), or a locked match whose confirmation message is, gets it
    posted again (or adopts the post the outbox still knows)."""
    for kind, statuses in (
        (MessageRef.Kind.REGISTRATION, OPEN),
        (MessageRef.Kind.CONFIRMATION, (MatchStatus.LOCKED,)),
    ):
        lost = Match.objects.filter(status__in=statuses).exclude(_message_known(kind))
        for match_id in lost.values_list("pk", flat=True):
            with transaction.atomic():
                match = _claim(match_id, *statuses)
                if match is None or not _channel_for(match, kind):
                    continue
                ref = MessageRef.objects.filter(match=match, kind=kind).first()
                if ref is not None and (ref.message_id or ref.post_outbox_id):
                    continue
                _sync_message(match, kind)  # adopts the outbox's post or posts again
                _audit("message_reposted", None, match=match, kind=kind)
                report.reposted += 1
