"""Pairings: drawn under the exclusions (and last year's pairs), replaced by hand, stored."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.i18n import number
from ratmas import matching
from ratmas.models import Event, Pairing

from .common import (
    MIN_PARTICIPANTS,
    RatmasError,
    Status,
    _lock,
    _mirror,
    _names,
    _now,
    _require,
    santa_dms_queued,
)

# --------------------------------------------------------------------------- pairings


@dataclass
class PairingPlan:
    """The outcome of a draw. ``pairs`` is secret: callers show counts only."""

    pairs: list[tuple[int, int]]  # (santa user id, recipient user id)
    method: str
    exclusions: int
    avoided_previous: int
    dry_run: bool

    def summary(self) -> str:
        """For the organiser who drew (their reply's or admin page's language)."""
        counts = {"santas": number(len(self.pairs)), "exclusions": number(self.exclusions),
                  "avoided": number(self.avoided_previous)}
        if self.dry_run:
            return _("A valid draw exists: %(santas)s Santas, respecting %(exclusions)s excluded pair(s) and "
                     "avoiding %(avoided)s pair(s) from last time.") % counts
        return _("Pairings drawn: %(santas)s Santas, respecting %(exclusions)s excluded pair(s) and avoiding "
                 "%(avoided)s pair(s) from last time.") % counts


def _exclusion_map(event: Event, user_of: dict[int, int] | None = None) -> dict[int, set[int]]:
    """Giver user id → receiver user ids they must not draw. ``user_of`` (participant pk →
    user id), when the caller has it, saves joining the participants twice."""
    if user_of is None:
        user_of = {pk: user_id for user_id, pk in event.participants.values_list("user_id", "pk")}
    forbidden: dict[int, set[int]] = {}
    for giver, receiver, both in event.exclusions.values_list("giver_id", "receiver_id", "both_ways"):
        giver, receiver = user_of[giver], user_of[receiver]
        forbidden.setdefault(giver, set()).add(receiver)
        if both:
            forbidden.setdefault(receiver, set()).add(giver)
    return forbidden


def previous_pairs(event: Event) -> dict[int, int]:
    """Santa → recipient (user ids) of the guild's most recent completed event before this one."""
    previous = (Event.objects.filter(guild_id=event.guild_id, status=Status.COMPLETED)
                .exclude(pk=event.pk).order_by("-reveal_date", "-pk").first())
    if previous is None:
        return {}
    return dict(previous.pairings.values_list("santa__user_id", "recipient__user_id"))


def _infeasible_message(exc: matching.InfeasibleError, names: dict[int, str], avoid_previous: bool,
                        feasible_without_previous: bool) -> str:
    if exc.kind == "too_few":
        text = _("At least %(count)s participants are needed for a draw.") % {"count": MIN_PARTICIPANTS}
    elif exc.kind == "no_receivers":
        text = _("No valid draw: %(name)s cannot give to anyone — every other participant is excluded for them.") % {
            "name": names[exc.givers[0]]}
    elif exc.kind == "no_givers":
        text = _("No valid draw: nobody can give to %(name)s — every other participant excludes them.") % {
            "name": names[exc.receivers[0]]}
    else:
        text = _("No valid draw: %(givers)s participants (%(giver_names)s) can only give to %(receivers)s people "
                 "between them (%(receiver_names)s). Remove an exclusion involving them.") % {
            "givers": number(len(exc.givers)), "giver_names": _names(names[g] for g in exc.givers),
            "receivers": number(len(exc.receivers)), "receiver_names": _names(names[r] for r in exc.receivers)}
    if avoid_previous and feasible_without_previous:
        text += " " + _("Avoiding last time's pairs is what makes it impossible: draw again without avoiding them.")
    return text[:1900]


def generate_pairings(event: Event, seed: int | None = None, avoid_previous: bool = True,
                      dry_run: bool = False) -> PairingPlan:
    """Draw who gives to whom (see ``ratmas.matching``) and, unless ``dry_run``, store it
    with :func:`replace_pairings` and move the event to ``matched``."""
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.LOCKED, Status.MATCHED, action=gettext_lazy("draw pairings"))
        if locked.status == Status.MATCHED and santa_dms_queued(locked):  # a redraw, while nobody was told
            raise RatmasError(_("Cannot draw again: Santa DMs are already on their way, so the pairings are final."))
        rows = list(locked.participants.order_by("user_id").values_list("user_id", "pk", "display_name"))
        people = {user_id: name for user_id, _, name in rows}
        if len(people) < MIN_PARTICIPANTS:
            raise RatmasError(_("At least %(count)s participants are needed for a draw (there are %(there)s).")
                              % {"count": MIN_PARTICIPANTS, "there": len(people)})
        exclusions = _exclusion_map(locked, {pk: user_id for user_id, pk, _ in rows})
        forbidden = {g: set(rs) for g, rs in exclusions.items()}
        avoided = 0
        if avoid_previous:
            for santa, recipient in previous_pairs(locked).items():
                if santa in people and recipient in people and recipient not in forbidden.get(santa, ()):
                    forbidden.setdefault(santa, set()).add(recipient)
                    avoided += 1
        ids = list(people)
        rng = random.Random(seed)
        try:
            result = matching.draw(ids, forbidden, rng)
        except matching.InfeasibleError as exc:
            feasible_without = False
            if avoid_previous and avoided:
                try:
                    matching.draw(ids, exclusions, random.Random(seed))
                    feasible_without = True
                except matching.InfeasibleError:
                    pass
            raise RatmasError(_infeasible_message(exc, people, avoid_previous, feasible_without)) from None
        pairs = sorted(result.assignment.items())
        plan = PairingPlan(pairs=pairs, method=result.method, exclusions=sum(map(len, exclusions.values())),
                           avoided_previous=avoided, dry_run=dry_run)
        if not dry_run:
            _store_pairings(locked, pairs, exclusions, {user_id: pk for user_id, pk, _ in rows})
    if not dry_run:
        event.status = Status.MATCHED
    return plan


def replace_pairings(event: Event, pairings: Iterable[tuple[int, int]]) -> int:
    """Swap the event's pairings for ``pairings`` (santa user id, recipient user id) in one
    transaction: on any failure the previous pairings stay exactly as they were."""
    pairs = [(int(s), int(r)) for s, r in pairings]
    with transaction.atomic():
        locked = _lock(event)
        _store_pairings(locked, pairs, _exclusion_map(locked), dict(locked.participants.values_list("user_id", "pk")))
    _mirror(event, locked)
    return len(pairs)


def _store_pairings(locked: Event, pairs: list[tuple[int, int]], exclusions: dict[int, set[int]],
                    pk_of: dict[int, int]) -> None:
    """replace_pairings' body, for callers that already hold the event lock, the exclusion
    map and the participants' pks (generate_pairings: no second read of 10,000 rows)."""
    _require(locked, Status.LOCKED, Status.MATCHED, action=gettext_lazy("replace pairings"))
    if locked.pairings.filter(notify_message__isnull=False).exists():
        raise RatmasError(_("Santas have already been sent their recipients; the pairings can no longer change."))
    assignment = dict(pairs)
    if len(assignment) != len(pairs) or not matching.is_valid(assignment, pk_of, exclusions):
        raise RatmasError(_("These pairings are not valid: every participant must give once and receive once, "
                            "never to themselves nor against an exclusion."))
    locked.pairings.all().delete()
    _insert_pairings(locked, [(pk_of[s], pk_of[r]) for s, r in pairs])
    if locked.status != Status.MATCHED:
        locked.status = Status.MATCHED
        locked.save(update_fields=["status", "updated_at"])


def _insert_pairings(event: Event, rows: list[tuple[int, int]]) -> None:
    """Insert (santa pk, recipient pk) rows. On PostgreSQL one ``INSERT … SELECT unnest``
    statement: 10,000 rows through the ORM's bulk_create cost seconds, this costs ~50 ms."""
    if connection.vendor != "postgresql":
        Pairing.objects.bulk_create([Pairing(event=event, santa_id=s, recipient_id=r) for s, r in rows],
                                    batch_size=500)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ratmas_pairing (event_id, santa_id, recipient_id, notify_round, last_error, created_at) "
            "SELECT %s, s, r, 0, '', %s FROM unnest(%s::bigint[], %s::bigint[]) AS t(s, r)",
            [event.pk, _now(), [s for s, _ in rows], [r for _, r in rows]],
        )
