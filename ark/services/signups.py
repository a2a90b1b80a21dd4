"""Signups: join, leave, switch governor, move slot, check in, emergency withdraw with sub promotion, all under the match row lock."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n

from .. import conf
from ..models import (
    Ban,
    Governor,
    Match,
    Signup,
)
from .alliances import governor_for, register_governor
from .bans import get_active_ban_for
from .common import (
    OPEN,
    MatchStatus,
    SignupStatus,
    Slot,
    _audit,
    _check_open_for_members,
    _check_owner,
    _counts,
    _lock_match,
    _now,
    _parse_slot,
    _signup_for,
)
from .discord_sync import _bump
from .errors import ArkError, BannedError, NotAllowedError, NotFoundError, RosterFullError

# --- signups ---------------------------------------------------------------------------------


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
        where = (_("this match") if other.match_id == match.pk
                 else _("%(alliance)s's match") % {"alliance": other.match.alliance.name})
        raise ArkError(_("%(governor)s is already signed up for %(where)s that weekend.") % {"governor": governor.name, "where": where})


def _check_ban(
    match: Match, discord_user_id: int, governor_id: int, as_officer: bool, override_ban: bool
) -> Ban | None:
    ban = get_active_ban_for(
        discord_user_id=discord_user_id, governor_id=governor_id, ark_weekend_date=match.ark_weekend_date
    )
    if ban is None:
        return None
    if not (as_officer and override_ban):
        until = " " + _("until %(date)s") % {"date": ban.ends_on} if ban.ends_on else ""
        raise BannedError(
            _("You are banned from Ark%(until)s: %(reason)s") % {"until": until, "reason": ban.reason}
            if not as_officer
            else _("This member is banned from Ark%(until)s (%(reason)s). Use the ban override to add them anyway.") % {"until": until, "reason": ban.reason}
        )
    return ban


def _check_city_hall(match: Match, gov: Governor, as_officer: bool, override: bool) -> bool:
    """True when an officer overrode the alliance's minimum city hall for this governor."""
    minimum = match.alliance.min_city_hall
    if not minimum or (gov.city_hall is not None and gov.city_hall >= minimum):
        return False
    if as_officer and override:
        return True
    have = _("city hall %(city_hall)s") % {"city_hall": gov.city_hall} if gov.city_hall is not None else _("no city hall level on record")
    if as_officer:
        raise ArkError(
            _("%(governor)s has %(have)s; %(alliance)s requires %(minimum)s. Use the city hall override to add them anyway.") % {"governor": gov.name, "have": have, "alliance": match.alliance.name, "minimum": minimum}
        )
    raise ArkError(
        _("%(alliance)s requires city hall %(minimum)s for Ark; %(governor)s has %(have)s. Ask an officer if your stats are out of date.") % {"alliance": match.alliance.name, "minimum": minimum, "governor": gov.name, "have": have}
    )


def _choose_slot(match: Match, slot: str | None, as_officer: bool) -> tuple[str, bool]:
    """The slot a signup takes given the current fill, or the refusal; the flag says an
    officer put a Sub in while player slots were open (audited as an override)."""
    players, subs = _counts(match)
    ally = match.alliance
    if slot is None:
        slot = Slot.PLAYER if players < ally.player_cap else Slot.SUB
    if slot == Slot.PLAYER and players >= ally.player_cap:
        raise RosterFullError(
            (_("All %(count)s player slots are taken: join as Sub.") if subs < ally.sub_cap
             else _("All %(count)s player slots are taken and the subs are full too."))
            % {"count": ally.player_cap}
        )
    if slot == Slot.SUB:
        if subs >= ally.sub_cap:
            raise RosterFullError(_("The roster is full (%(players)s players, %(subs)s subs).") % {"players": ally.player_cap, "subs": ally.sub_cap})
        if players < ally.player_cap:
            if not as_officer:
                raise ArkError(_("Player slots are still open (%(players)s/%(cap)s): join as Player.") % {"players": players, "cap": ally.player_cap})
            return slot, True
    return slot, False


def _refuse_early_when_full(match_id: int, slot: str | None, now: dt.datetime) -> None:
    """A member's press on a full or closed roster is refused from committed counts, without
    queueing on the match lock: when registration opens, hundreds press at once and all but
    a few are refusals, which must not wait behind the signups that succeed. A slot that
    frees a moment later is no different from a press that came a moment earlier. Whatever
    passes here is decided again under the lock."""
    match = Match.objects.select_related("alliance").filter(pk=match_id).first()
    if match is None:
        return  # the locked path words the "not found"
    _check_open_for_members(match, now, as_officer=False)
    _choose_slot(match, slot, as_officer=False)


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
    override_city_hall: bool = False,
    now: dt.datetime | None = None,
) -> Signup:
    """Sign a governor up. Below the alliance's minimum city hall only an officer's explicit
    override (audited) lets them in. Without ``slot_type`` the first free slot is taken (Player, then Sub).
    A Sub is only allowed once the players are full, unless an officer says otherwise; banned
    users/governors need an officer's explicit ban override, which is audited as such."""
    now = _now(now)
    slot = _parse_slot(slot_type)
    if source not in Signup.Source.values:
        raise ArkError(_("The signup source is self or admin."))
    if not as_officer:
        _refuse_early_when_full(match_id, slot, now)
    with transaction.atomic():
        match = _lock_match(match_id)  # serialises every roster change of this match
        _check_open_for_members(match, now, as_officer)
        gov = Governor.objects.select_for_update().filter(governor_id=governor_id).first()
        if gov is None:
            if not governor_name:
                raise NotFoundError(_("Governor %(governor_id)s is not registered: use /ark governor register first.") % {"governor_id": governor_id})
            gov = register_governor(
                governor_id=governor_id,
                name=governor_name,
                discord_user_id=discord_user_id,
                actor_discord_id=actor_discord_id,
            )
        elif gov.discord_user_id != discord_user_id:
            raise NotAllowedError(_("Governor %(governor)s belongs to another Discord user.") % {"governor": gov.name})
        ban = _check_ban(match, discord_user_id, gov.governor_id, as_officer, override_ban)
        ch_overridden = _check_city_hall(match, gov, as_officer, override_city_hall)
        _check_weekend_free(gov, match)
        slot, slot_override = _choose_slot(match, slot, as_officer)
        override = ban is not None or ch_overridden or slot_override
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
            raise ArkError(_("%(governor)s is already signed up for that Ark weekend.") % {"governor": gov.name}) from None
        _audit(
            "signup_added",
            actor_discord_id,
            match=match,
            signup=signup,
            override=override,
            governor_id=gov.governor_id,
            slot=slot,
            ban_overridden=ban.pk if ban else None,
            city_hall_overridden=gov.city_hall if ch_overridden else None,
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
    sub.team = leaver.team  # a published draft keeps its balance: the sub takes the leaver's place
    sub.save(update_fields=["slot", "team", "updated_at"])
    with i18n.for_member(sub.discord_user_id):  # a DM: the member's language
        outbox.send_dm(
            sub.discord_user_id,
            content=_("**Ark of Osiris — %(alliance)s**: %(governor)s moved up from Sub to **Player** for the match "
                      "%(when)s (%(relative)s). See you there!") % {
                "alliance": match.alliance.name, "governor": sub.governor.name,
                "when": outbox.discord_timestamp(match.match_time_utc, "F"),
                "relative": outbox.discord_timestamp(match.match_time_utc, "R")},
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
        raise ArkError(_("A signup ends as Withdrawn or Removed."))
    if status == SignupStatus.REMOVED and not as_officer:
        raise NotAllowedError(_("Only officers can remove a signup."))
    with transaction.atomic():
        match = _lock_match(match_id)
        _check_open_for_members(match, now, as_officer)
        signup = _signup_for(match, governor_id, None)
        _check_owner(signup, actor_discord_id, as_officer)
        return _end_signup(
            match, signup, status, actor_discord_id, now, "signup_" + status.lower(),
            notify_officers=match.status == MatchStatus.LOCKED,
        )


def _notify_officers(match: Match, signup: Signup, promoted: Signup | None) -> None:
    """Tell the officers' channel who left a match after lock, who moved up and the new fill.
    Without an officer channel it goes to the confirmation channel, saying how to set one."""
    ally = match.alliance
    channel = ally.officer_channel_id or ally.confirmation_channel_id
    if not channel:
        return
    players, subs = _counts(match)
    with i18n.public():  # a channel post: the server language
        if promoted is None:
            promotion = _("Nobody was promoted (no sub).")
        elif promoted.team:
            promotion = _("Promoted: %(governor)s (Sub → Player, team %(team)s).") % {
                "governor": promoted.governor.name, "team": promoted.team}
        else:
            promotion = _("Promoted: %(governor)s (Sub → Player).") % {"governor": promoted.governor.name}
        lines = [
            _("**Ark of Osiris — %(alliance)s** · %(governor)s withdrew from the match %(when)s.") % {
                "alliance": ally.name, "governor": signup.governor.name,
                "when": outbox.discord_timestamp(match.match_time_utc, "F")},
            promotion,
            _("Fill now: %(players)s/%(cap)s players, %(subs)s subs.") % {"players": players, "cap": ally.player_cap,
                                                                          "subs": subs},
        ]
        if not ally.officer_channel_id:
            lines.append(_("_Officers: set %(alliance)s's officer channel in the admin (Ark of Osiris › Alliances › "
                           "%(alliance)s › Officer channel) to get these notices there._") % {"alliance": ally.name})
        outbox.post_message(
            channel,
            content="\n".join(lines),
            dedupe_key=f"ark:withdraw_notice:{signup.pk}",
            topic="ark.withdraw_notice",
        )


def _end_signup(
    match: Match, signup: Signup, status: str, actor: int | None, now: dt.datetime, action: str,
    *, notify_officers: bool = False,
) -> Signup:
    was_player = signup.slot == Slot.PLAYER
    signup.status, signup.ended_at = status, now
    signup.save(update_fields=["status", "ended_at", "updated_at"])
    promoted = _promote_first_sub(match, actor, signup) if was_player else None
    if notify_officers:
        _notify_officers(match, signup, promoted)
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
            raise NotFoundError(_("Governor %(governor_id)s is not registered: use /ark governor register first.") % {"governor_id": new_governor_id})
        if new.discord_user_id != signup.discord_user_id:
            raise NotAllowedError(_("You can only switch to another governor of the same Discord user."))
        if new.pk == signup.governor_id:
            raise ArkError(_("%(governor)s is already the signed-up governor.") % {"governor": new.name})
        _check_ban(match, signup.discord_user_id, new.governor_id, as_officer, False)
        _check_weekend_free(new, match)
        old = signup.governor
        signup.governor = new
        try:
            with transaction.atomic():
                signup.save(update_fields=["governor", "updated_at"])
        except IntegrityError:
            raise ArkError(_("%(governor)s is already signed up for that Ark weekend.") % {"governor": new.name}) from None
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
        raise ArkError(_("Choose Player or Sub."))
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(_("This match is %(status)s: the roster can no longer change.") % {"status": match.get_status_display().lower()})
        signup = _signup_for(match, governor_id, None)
        if signup.slot == slot:
            raise ArkError(_("%(governor)s is already a %(slot)s.") % {"governor": signup.governor.name, "slot": Slot(slot).label})
        players, subs = _counts(match)
        if slot == Slot.PLAYER and players >= match.alliance.player_cap:
            raise RosterFullError(_("All %(count)s player slots are taken.") % {"count": match.alliance.player_cap})
        if slot == Slot.SUB and subs >= match.alliance.sub_cap:
            raise RosterFullError(_("All %(count)s sub slots are taken.") % {"count": match.alliance.sub_cap})
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
            raise ArkError(_("This match is %(status)s.") % {"status": match.get_status_display().lower()})
        opens = match.match_time_utc - conf.CHECKIN_WINDOW
        if now < opens:
            raise ArkError(
                _("Check-in opens %(when)s (12 hours before the start).") % {"when": outbox.discord_timestamp(opens, "R")}
            )
        if now > match.match_time_utc:
            raise ArkError(_("The match has started: check-in is closed."))
        rows = (
            Signup.objects.select_for_update(of=("self",))
            .select_related("governor")
            .filter(match=match, status=SignupStatus.ACTIVE, discord_user_id=discord_user_id)
        )
        if governor_id is not None:
            rows = rows.filter(governor__governor_id=governor_id)
        signups = list(rows)
        if not signups:
            raise NotFoundError(_("You have no active signup in this match."))
        fresh = [s for s in signups if s.checked_in_at is None]
        if not fresh:
            raise ArkError(_("You are already checked in."))
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


def withdraw(
    *, match_id: int, discord_user_id: int, governor_id: int | None = None, now: dt.datetime | None = None
) -> Signup:
    """A member leaves: a plain withdrawal while signups are open, an emergency withdraw (the
    first Sub promoted) once they are closed. Decided under the match lock, with one clock,
    so a press at the close can't take the wrong path."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if governor_id is None:
            governor_id = governor_for(discord_user_id=discord_user_id, match_id=match_id, signed_up=True).governor_id
        if match.status == MatchStatus.SCHEDULED and now < match.signup_close_utc:
            return remove_signup(match_id=match_id, governor_id=governor_id, actor_discord_id=discord_user_id, now=now)
        return mark_emergency_withdraw(match_id=match_id, discord_user_id=discord_user_id, governor_id=governor_id,
                                       now=now)


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
            raise ArkError(_("This match is %(status)s.") % {"status": match.get_status_display().lower()})
        if now >= match.match_time_utc and not as_officer:
            raise ArkError(_("The match has started: ask an officer."))
        signup = _signup_for(match, governor_id, discord_user_id)
        if signup.discord_user_id != discord_user_id:
            raise NotAllowedError(_("That governor belongs to another Discord user."))
        return _end_signup(
            match,
            signup,
            SignupStatus.WITHDRAWN,
            actor_discord_id or discord_user_id,
            now,
            "emergency_withdraw",
            notify_officers=True,
        )
