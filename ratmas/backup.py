"""Secret Santa events as JSON: the export an organiser keeps, and its import.

Kept apart from ``services`` because it is a format, not an operation members or officers run
day to day; the import still writes only through one transaction with the same rules as the
services (a valid draw, one unfinished event per guild). An export with the pairings is secret:
store it like a password.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ratmas import matching, services
from ratmas.models import Event, Exclusion, Pairing, Participant
from ratmas.services import RatmasError

Status = Event.Status


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def export_event(event: Event, include_pairings: bool = True) -> dict:
    """The event, participants, exclusions and pairings as JSON-ready data (for archives and
    for :func:`import_event`). With the pairings it is secret. ``include_pairings=False``
    is the organisers' archive (admin, without ``view_pairings_secret``): it says the
    pairings were withheld, and :func:`import_event` will not restore a drawn event from it."""
    participants = list(event.participants.order_by("user_id"))
    data = {
        "format": services.EXPORT_FORMAT,
        "exported_at": _iso(services._now()),
        "event": {
            "id": event.pk, "guild_id": event.guild_id, "name": event.name, "status": event.status,
            "signup_deadline": _iso(event.signup_deadline), "purchase_deadline": _iso(event.purchase_deadline),
            "reveal_date": _iso(event.reveal_date), "announcement_channel_id": event.announcement_channel_id,
            "participant_role_id": event.participant_role_id, "managing_role_id": event.managing_role_id,
            "timezone": event.timezone, "budget": event.budget, "created_at": _iso(event.created_at),
        },
        "participants": [{"user_id": p.user_id, "display_name": p.display_name, "wishlist_url": p.wishlist_url,
                          "joined_at": _iso(p.joined_at)} for p in participants],
        "exclusions": [{"giver_user_id": g, "receiver_user_id": r, "both_ways": b} for g, r, b in
                       event.exclusions.order_by("giver__user_id", "receiver__user_id")
                       .values_list("giver__user_id", "receiver__user_id", "both_ways")],
        "pairings": [{"santa_user_id": p.santa.user_id, "recipient_user_id": p.recipient.user_id,
                      "notified_at": _iso(p.notified_at), "last_error": p.last_error}
                     for p in event.pairings.select_related("santa", "recipient").order_by("santa__user_id")]
        if include_pairings else [],
    }
    if not include_pairings:
        data["pairings_withheld"] = True
    return data


def _parse_time(value: Any, label: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise RatmasError(_("Import: %(field)s %(value)s is not an ISO date-time.") % {"field": label,
                                                                                       "value": repr(value)}) from None
    return services._aware(parsed, label)


def import_event(data: dict) -> Event:
    """Restore an event exported by :func:`export_event` as a new event (new ids). Refused if
    it is unfinished and the guild already has an unfinished event."""
    if not isinstance(data, dict) or data.get("format") != services.EXPORT_FORMAT:
        raise RatmasError(_("Import: not a Ratmas export (expected format %(format)s).")
                          % {"format": repr(services.EXPORT_FORMAT)})
    try:
        e = data["event"]
        guild_id = int(e["guild_id"])
        signup, purchase, reveal = services._validate_dates(*(_parse_time(e[k], k) for k in
                                                     ("signup_deadline", "purchase_deadline", "reveal_date")))
        created_at = _parse_time(e.get("created_at"), "created_at")
        if e["status"] not in Status.values:
            raise RatmasError(_("Import: unknown status %(status)s.") % {"status": repr(e["status"])})
        people = [(int(p["user_id"]), services._clean_name(p["display_name"]), services.validate_wishlist(p.get("wishlist_url")),
                   _parse_time(p.get("joined_at"), "joined_at")) for p in data["participants"]]
        exclusions = [(int(x["giver_user_id"]), int(x["receiver_user_id"]), bool(x.get("both_ways")))
                      for x in data.get("exclusions", [])]
        pairings = [(int(p["santa_user_id"]), int(p["recipient_user_id"]), _parse_time(p.get("notified_at"),
                    "notified_at"), str(p.get("last_error") or "")) for p in data.get("pairings", [])]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RatmasError(_("Import: malformed export (missing or wrong %(what)s).") % {"what": exc}) from None
    if data.get("pairings_withheld") and e["status"] not in (Status.OPEN, Status.LOCKED, Status.CANCELLED):
        raise RatmasError(_("Import: this export was made without the secret pairings; it is an archive, not a "
                            "backup of a drawn event. Export with the pairings (ratmas_export) to restore it."))
    if pairings and e["status"] in (Status.OPEN, Status.LOCKED):
        raise RatmasError(_("Import: an event with status %(status)s cannot have pairings yet (they are drawn after "
                            "locking).") % {"status": e["status"]})
    known = {u for u, _, _, _ in people}
    if len(known) != len(people):
        raise RatmasError(_("Import: a participant appears twice."))
    strangers = {u for g, r, _ in exclusions for u in (g, r)} - known
    if strangers:
        raise RatmasError(_("Import: exclusion of user %(user)s, who is not among the participants.")
                          % {"user": min(strangers)})
    try:
        with transaction.atomic():
            event = Event.objects.create(
                guild_id=guild_id, name=services._event_name(str(e.get("name") or "")[:100]), status=e["status"],
                signup_deadline=signup, purchase_deadline=purchase,
                reveal_date=reveal, announcement_channel_id=e.get("announcement_channel_id"),
                participant_role_id=e.get("participant_role_id"), managing_role_id=e.get("managing_role_id"),
                timezone=services.validate_timezone(e.get("timezone", "UTC")), budget=str(e.get("budget", ""))[:200])
            if created_at:
                Event.objects.filter(pk=event.pk).update(created_at=created_at)
            rows = Participant.objects.bulk_create(
                [Participant(event=event, user_id=u, display_name=n, wishlist_url=w) for u, n, w, _ in people])
            by_user = {p.user_id: p for p in rows}
            for (_user, _name, _wish, joined), row in zip(people, rows, strict=True):
                if joined:
                    row.joined_at = joined
            Participant.objects.bulk_update(rows, ["joined_at"])
            Exclusion.objects.bulk_create([Exclusion(event=event, giver=by_user[g], receiver=by_user[r], both_ways=b)
                                           for g, r, b in exclusions])
            if pairings:
                assignment = {s: r for s, r, _, _ in pairings}
                if len(assignment) != len(pairings) or not matching.is_valid(assignment, by_user,
                                                                             services._exclusion_map(event)):
                    raise RatmasError(_("Import: the pairings are not a valid draw of the participants."))
                Pairing.objects.bulk_create([Pairing(event=event, santa=by_user[s], recipient=by_user[r],
                                                     notified_at=n, last_error=err) for s, r, n, err in pairings])
    except IntegrityError as exc:
        # PostgreSQL names the constraint, SQLite only its columns: ask the database instead.
        if e["status"] not in Event.FINISHED and services.get_active_event(guild_id) is not None:
            raise RatmasError(_("Import: this server already has a Ratmas in progress.")) from None
        raise RatmasError(_("Import: the data breaks a rule of the database (%(error)s).") % {"error": exc}) from None
    event.refresh_from_db()
    return event
