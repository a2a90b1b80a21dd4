"""Officers' attendance edits: bulk marks, single edits, removals, and the edit form's changes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guildsync.models import Player
from raids.models import RaidAttendance, RaidEvent, RecurringEvent

from .common import AttendedSource, RaidsError, Source, Status


# -- officers' attendance edits ---------------------------------------------------------------
def mark_accepted_attended(event_ids: list[int]) -> int:
    """Bulk action: everyone accepted on these events attended. Returns the rows changed."""
    with transaction.atomic():
        return RaidAttendance.objects.filter(event_id__in=event_ids, status=Status.ACCEPTED,
                                             attended=False).update(attended=True, updated_at=timezone.now(),
                                                                    attended_source=AttendedSource.OFFICER)


def set_attendance(event: RaidEvent, player: Player, *, status: str, attended: bool,
                   late: bool = False) -> RaidAttendance:
    """An officer records one player's status/attendance (new rows are ``manual``)."""
    with transaction.atomic():
        _set_attendance(event, player, status=status, attended=attended, late=late)
        return RaidAttendance.objects.get(event=event, player=player)


def _set_attendance(event: RaidEvent, player: Player, *, status: str, attended: bool, late: bool = False) -> bool:
    """The write behind ``set_attendance``/``edit_attendance`` (caller holds the transaction).
    Returns whether anything changed."""
    if status not in Status.values:
        raise RaidsError(_("“%(status)s” is not an attendance status.") % {"status": status})
    if player is None:
        raise RaidsError(_("Pick the player whose attendance this is."))
    if late and not attended:
        raise RaidsError(_("%(player)s is marked late but not attended: a late player attended, tick both.")
                         % {"player": player})
    row, created = RaidAttendance.objects.select_for_update().get_or_create(
        event=event, player=player,
        defaults={"status": status, "attended": attended, "late": late, "signed_up": status == Status.ACCEPTED,
                  "source": Source.MANUAL, "attended_source": AttendedSource.OFFICER if attended else ""},
    )
    if created:
        return True
    if (row.status, row.attended, row.late) == (status, attended, late):
        return False
    if row.attended != attended:  # the officer ticked or unticked it: an override imports keep
        row.attended_source = AttendedSource.OFFICER
    row.status, row.attended, row.late, row.signed_up = status, attended, late, status == Status.ACCEPTED
    row.save(update_fields=["status", "attended", "attended_source", "late", "signed_up", "updated_at"])
    return True


def set_recurring_active(recurring_event_ids: list[int], active: bool) -> int:
    """Switch raid nights on or off; inactive nights are not auto-booked any more."""
    with transaction.atomic():
        return RecurringEvent.objects.filter(pk__in=recurring_event_ids).exclude(is_active=active).update(
            is_active=active)


def remove_attendance(attendance_ids: list[int]) -> int:
    """Delete attendance rows (an officer removing a player who was never meant to be there)."""
    with transaction.atomic():
        deleted, _ = RaidAttendance.objects.filter(pk__in=attendance_ids).delete()
    return deleted


@dataclass(frozen=True)
class AttendanceChange:
    player: Player
    status: str
    attended: bool
    late: bool = False


def edit_attendance(event: RaidEvent, changes: list[AttendanceChange], remove_ids: list[int] = ()) -> int:
    """An officer's edits of one event's attendance (the inline on the event's page), all or
    nothing: each change sets a player's status and attended mark (new rows are ``manual``),
    ``remove_ids`` are rows of this event to delete. Returns the rows touched."""
    with transaction.atomic():
        touched = sum(1 for change in changes if _set_attendance(event, change.player, status=change.status,
                                                                 attended=change.attended, late=change.late))
        if remove_ids:
            removed, _ = RaidAttendance.objects.filter(event=event, pk__in=list(remove_ids)).delete()
            touched += removed
    return touched
