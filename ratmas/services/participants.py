"""Participants and exclusions: join, leave, wish lists, the role sync."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot import outbox
from core import i18n
from ratmas.models import Event, Exclusion, Pairing, Participant

from .common import (
    TOPIC_REMINDER,
    RatmasError,
    Status,
    _clean_name,
    _lock,
    _now,
    _require,
    _require_undrawn_or_unsent,
    md,
    validate_wishlist,
)

# --------------------------------------------------------------------------- participants


def join(event: Event, user_id: int, display_name: str, wishlist_url: str | None = None) -> Participant:
    """Sign up while the event is open and before the signup deadline."""
    name = _clean_name(display_name)
    url = validate_wishlist(wishlist_url)
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, action=gettext_lazy("join"))
        if _now() >= locked.signup_deadline:
            raise RatmasError(_("Signups are closed: the deadline has passed."))
        if locked.participants.filter(user_id=user_id).exists():
            raise RatmasError(_("You have already joined this Ratmas."))
        participant = Participant.objects.create(event=locked, user_id=user_id, display_name=name, wishlist_url=url)
        if locked.participant_role_id:
            outbox.add_role(locked.guild_id, user_id, locked.participant_role_id, reason="Joined Ratmas",
                            topic="ratmas.role")
    return participant


def leave(event: Event, user_id: int) -> None:
    """Drop out while signups are open; afterwards the draw depends on everyone."""
    with transaction.atomic():
        locked = _lock(event)
        if locked.status != Status.OPEN:
            raise RatmasError(_("Signups are closed; ask an organiser if you cannot take part any more."))
        deleted, _by_model = locked.participants.filter(user_id=user_id).delete()
        if not deleted:
            raise RatmasError(_("You are not signed up for this Ratmas."))
        if locked.participant_role_id:
            outbox.remove_role(locked.guild_id, user_id, locked.participant_role_id, reason="Left Ratmas",
                               topic="ratmas.role")


def update_wishlist(event: Event, user_id: int, wishlist_url: str | None) -> Participant:
    """Set or clear the wishlist link; once Santas are notified, the Santa hears about it."""
    url = validate_wishlist(wishlist_url)
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            raise RatmasError(_("This Ratmas is over."))
        try:
            participant = locked.participants.select_for_update().get(user_id=user_id)
        except Participant.DoesNotExist:
            raise RatmasError(_("You are not signed up for this Ratmas.")) from None
        participant.wishlist_url = url
        participant.save(update_fields=["wishlist_url"])
        pairing = Pairing.objects.filter(recipient=participant, notified_at__isnull=False).select_related("santa").first()
        if pairing:
            with i18n.for_member(pairing.santa.user_id):  # the Santa's language, rendered before sealing
                outbox.send_dm(pairing.santa.user_id, topic=TOPIC_REMINDER, secret=True,
                               content="🎁 " + _("Your Ratmas recipient **%(name)s** updated their wishlist: %(wishlist)s")
                               % {"name": md(participant.display_name), "wishlist": url or _("removed")})
    return participant


@dataclass
class SyncDiff:
    """What a role sync changed, by display name, so the organiser can check it at a glance."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        """For the organiser who synced (their reply's language)."""
        return _("%(added)s added, %(removed)s removed, %(renamed)s renamed") % {
            "added": i18n.number(len(self.added)), "removed": i18n.number(len(self.removed)),
            "renamed": i18n.number(len(self.renamed))}


def sync_participants_from_role(event: Event, members: Iterable[tuple[int, str]]) -> SyncDiff:
    """Make the participants exactly the members holding the participant role (while open):
    add new ones, remove those who lost it, refresh display names."""
    wanted: dict[int, str] = {}
    for user_id, display_name in members:
        wanted[int(user_id)] = _clean_name(display_name)
    diff = SyncDiff()
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, action=gettext_lazy("sync participants"))
        current = {p.user_id: p for p in locked.participants.select_for_update()}
        if not wanted and current:
            # An empty role is far more likely a cold member cache (or a missing Server
            # Members intent) than everyone leaving at once: never wipe the signups on it.
            raise RatmasError(_("Nobody holds the participant role (as far as I can see), so nobody was removed. "
                                "Remove people one by one, or cancel the event."))
        gone = [p for uid, p in current.items() if uid not in wanted]
        if gone:
            Participant.objects.filter(pk__in=[p.pk for p in gone]).delete()
            diff.removed = sorted(p.display_name for p in gone)
        new = [Participant(event=locked, user_id=uid, display_name=name)
               for uid, name in wanted.items() if uid not in current]
        Participant.objects.bulk_create(new)
        diff.added = sorted(p.display_name for p in new)
        renamed = []
        for uid, name in wanted.items():
            p = current.get(uid)
            if p is not None and p.display_name != name:
                diff.renamed.append((p.display_name, name))
                p.display_name = name
                renamed.append(p)
        Participant.objects.bulk_update(renamed, ["display_name"])
    return diff


def _participant(event: Event, user_id: int) -> Participant:
    try:
        return event.participants.get(user_id=user_id)
    except Participant.DoesNotExist:
        raise RatmasError(_("%(member)s is not a participant of this Ratmas.") % {"member": f"<@{user_id}>"}) from None


def add_exclusion(event: Event, giver_user_id: int, receiver_user_id: int, both_ways: bool = False) -> Exclusion:
    """``giver`` will not draw ``receiver`` (and the reverse when ``both_ways``). Before the
    draw, or after it until the first Santa DM is queued: then the draw is discarded (the
    event goes back to locked signups) so the next draw respects it. One row per pair of people: adding it twice keeps one row (both ways if either
    call said so), and adding the reverse of an existing exclusion makes that row both ways
    (the database refuses a second row for the same two people)."""
    if int(giver_user_id) == int(receiver_user_id):
        raise RatmasError(_("Nobody draws themselves anyway: pick two different participants."))
    with transaction.atomic():
        locked = _lock(event)
        _require_undrawn_or_unsent(locked, gettext_lazy("add an exclusion"))
        if locked.status == Status.MATCHED:  # a forgotten exclusion: nobody was told, draw again
            locked.pairings.all().delete()
            locked.status = Status.LOCKED
            locked.save(update_fields=["status", "updated_at"])
            if isinstance(event, Event):
                event.status = locked.status
        giver = _participant(locked, giver_user_id)
        receiver = _participant(locked, receiver_user_id)
        reverse = locked.exclusions.filter(giver=receiver, receiver=giver).first()
        if reverse is not None:
            if not reverse.both_ways:
                reverse.both_ways = True
                reverse.save(update_fields=["both_ways"])
            return reverse
        exclusion, created = Exclusion.objects.get_or_create(
            event=locked, giver=giver, receiver=receiver, defaults={"both_ways": both_ways})
        if not created and both_ways and not exclusion.both_ways:
            exclusion.both_ways = True
            exclusion.save(update_fields=["both_ways"])
    return exclusion


def remove_exclusion(event: Event, giver_user_id: int, receiver_user_id: int) -> None:
    """Undo an exclusion before the draw (e.g. the one that made the draw impossible). The
    reverse direction of a both-ways exclusion is removed by making it one way."""
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, Status.LOCKED, action=gettext_lazy("remove an exclusion"))
        deleted, _by_model = locked.exclusions.filter(giver__user_id=giver_user_id, receiver__user_id=receiver_user_id).delete()
        if deleted:
            return
        narrowed = locked.exclusions.filter(giver__user_id=receiver_user_id, receiver__user_id=giver_user_id,
                                            both_ways=True).update(both_ways=False)
        if not narrowed:
            raise RatmasError(_("There is no such exclusion."))
