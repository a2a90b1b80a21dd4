"""Events, transitions, join/leave, wishlists, role sync, exclusions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from bot.models import OutboxMessage
from ratmas import services
from ratmas.models import Event, Exclusion, Pairing, Participant
from ratmas.services import RatmasError
from tests.ratmas.conftest import CHANNEL, GUILD, ROLE, uid

pytestmark = pytest.mark.django_db


def future(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def test_create_event_validates_input():
    with pytest.raises(RatmasError, match="not a time zone"):
        services.create_event(GUILD, future(1), future(2), future(3), timezone="Mars/Olympus")
    with pytest.raises(RatmasError, match="in order"):
        services.create_event(GUILD, future(3), future(2), future(4))
    with pytest.raises(RatmasError, match="future"):
        services.create_event(GUILD, future(-1), future(2), future(4))
    with pytest.raises(RatmasError, match="time zone"):
        services.create_event(GUILD, dt.datetime(2030, 1, 1), future(2), future(4))  # noqa: DTZ001 (refused)
    assert Event.objects.count() == 0
    event = services.create_event(GUILD, future(1), future(2), future(3), timezone="Europe/Berlin",
                                  announcement_channel_id=CHANNEL, budget=" 20 EUR ")
    assert event.status == "open" and event.timezone == "Europe/Berlin" and event.budget == "20 EUR"
    assert services.get_active_event(GUILD) == event
    [post] = OutboxMessage.objects.filter(channel_id=CHANNEL)
    assert "/ratmas join" in post.payload["content"]


def test_one_unfinished_event_per_guild_is_enforced_by_the_database(make_event):
    event = make_event()
    with pytest.raises(RatmasError, match="already has a Ratmas in progress"):
        services.create_event(GUILD, future(1), future(2), future(3))
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(guild_id=GUILD, signup_deadline=future(1), purchase_deadline=future(2),
                             reveal_date=future(3))
    services.set_status(event, "cancelled")
    assert services.get_active_event(GUILD) is None
    assert services.create_event(GUILD, future(1), future(2), future(3)).status == "open"
    assert services.create_event(GUILD + 1, future(1), future(2), future(3)).status == "open"


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_leave_one_event(run_in_parallel):
    def create(i):
        return services.create_event(GUILD, future(1), future(2), future(3))

    results = run_in_parallel(create, 4)
    assert sum(isinstance(r, Event) for r in results) == 1
    assert all(isinstance(r, Event | RatmasError) for r in results), results
    assert Event.objects.filter(guild_id=GUILD).count() == 1


def test_database_checks():
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(guild_id=GUILD, signup_deadline=future(3), purchase_deadline=future(2),
                             reveal_date=future(4))
    event = Event.objects.create(guild_id=GUILD, signup_deadline=future(1), purchase_deadline=future(2),
                                 reveal_date=future(3))
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(event=event, user_id=1, display_name="x", wishlist_url="javascript:alert(1)")
    a = Participant.objects.create(event=event, user_id=1, display_name="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(event=event, user_id=1, display_name="again")
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(event=event, santa=a, recipient=a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Exclusion.objects.create(event=event, giver=a, receiver=a)


def test_transitions_allowed_and_refused(make_event):
    event = make_event(3)
    with pytest.raises(RatmasError, match="Cannot complete the event: signups are still open"):
        services.set_status(event, "completed")
    with pytest.raises(RatmasError, match="Unknown status"):
        services.set_status(event, "party")
    services.set_status(event, "locked")
    services.set_status(event, "open")  # locked → open is allowed
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="Draw the pairings first"):
        services.set_status(event, "matched")
    services.generate_pairings(event, seed=3)
    assert event.status == "matched"
    with pytest.raises(RatmasError, match="Cannot lock signups: the pairings are already drawn"):
        services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="Not every Santa"):
        services.set_status(event, "notified")
    with pytest.raises(RatmasError, match="Cannot complete the event: the pairings are already drawn"):
        services.complete_event(event)
    services.set_status(event, "cancelled")
    for status in ("open", "locked", "cancelled", "completed"):
        with pytest.raises(RatmasError, match="Cannot .*: the event is cancelled"):
            services.set_status(event, status)


def test_complete_after_notified_announces(make_event):
    event = make_event(3, status="matched")
    Pairing.objects.filter(event=event).update(notified_at=timezone.now())
    services.set_status(event, "notified")
    services.complete_event(event)
    assert event.status == "completed"
    assert OutboxMessage.objects.filter(dedupe_key=f"ratmas:{event.pk}:completed").exists()
    services.create_event(GUILD, future(1), future(2), future(3))  # the guild may start the next one


def test_join_rules(make_event):
    event = make_event(participant_role_id=ROLE)
    p = services.join(event, uid(1), "  Alice   Liddell ", "https://wish.example/alice")
    assert p.display_name == "Alice Liddell"
    role_add = OutboxMessage.objects.get(kind="add_role", user_id=uid(1))
    assert role_add.role_id == ROLE and role_add.guild_id == GUILD
    with pytest.raises(RatmasError, match="already joined"):
        services.join(event, uid(1), "Alice")
    with pytest.raises(RatmasError, match="http:// or https://"):
        services.join(event, uid(2), "Bob", "ftp://wish.example")
    with pytest.raises(RatmasError, match="display name"):
        services.join(event, uid(2), "   ")
    Event.objects.filter(pk=event.pk).update(signup_deadline=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(RatmasError, match="deadline has passed"):
        services.join(event, uid(3), "Carol")
    Event.objects.filter(pk=event.pk).update(signup_deadline=future(1))
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="Cannot join"):
        services.join(event, uid(4), "Dan")
    with pytest.raises(RatmasError, match="Signups are closed"):
        services.leave(event, uid(1))
    services.set_status(event, "open")
    services.leave(event, uid(1))
    assert OutboxMessage.objects.filter(kind="remove_role", user_id=uid(1)).exists()
    with pytest.raises(RatmasError, match="not signed up"):
        services.leave(event, uid(1))
    assert event.participants.count() == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_joins_of_one_user_make_one_participant(make_event, run_in_parallel):
    event = make_event()
    results = run_in_parallel(lambda i: services.join(event, uid(1), f"Alice {i}"), 4)
    assert sum(isinstance(r, Participant) for r in results) == 1
    assert sum(isinstance(r, RatmasError) for r in results) == 3
    assert event.participants.count() == 1


def test_wishlist_updates_and_tells_the_santa_once_notified(make_event):
    event = make_event(3)
    assert services.update_wishlist(event, uid(1), "http://wish.example/new").wishlist_url == "http://wish.example/new"
    assert services.update_wishlist(event, uid(1), "").wishlist_url == ""
    with pytest.raises(RatmasError, match="http:// or https://"):
        services.update_wishlist(event, uid(1), "wish.example")
    with pytest.raises(RatmasError, match="not signed up"):
        services.update_wishlist(event, uid(9), "https://x.example")
    services.set_status(event, "locked")
    services.generate_pairings(event, seed=1)
    Pairing.objects.filter(event=event).update(notified_at=timezone.now())
    santa = Pairing.objects.get(event=event, recipient__user_id=uid(1)).santa
    services.update_wishlist(event, uid(1), "https://wish.example/final")
    [dm] = OutboxMessage.objects.filter(kind="dm", user_id=santa.user_id)
    assert "https://wish.example/final" in dm.payload["content"]


def test_sync_from_role_returns_the_diff(make_event):
    event = make_event(3)
    diff = services.sync_participants_from_role(event, [(uid(1), "Player 1"), (uid(2), "Renamed Two"),
                                                        (uid(7), "Newcomer"), (uid(7), "Newcomer")])
    assert diff.added == ["Newcomer"]
    assert diff.removed == ["Player 3"]
    assert diff.renamed == [("Player 2", "Renamed Two")]
    assert str(diff) == "1 added, 1 removed, 1 renamed"
    assert sorted(event.participants.values_list("user_id", flat=True)) == [uid(1), uid(2), uid(7)]
    again = services.sync_participants_from_role(event, [(uid(1), "Player 1"), (uid(2), "Renamed Two"),
                                                         (uid(7), "Newcomer")])
    assert (again.added, again.removed, again.renamed) == ([], [], [])
    with pytest.raises(RatmasError, match="nobody was removed"):
        services.sync_participants_from_role(event, [])
    assert event.participants.count() == 3
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="Cannot sync participants"):
        services.sync_participants_from_role(event, [])


def test_exclusions(make_event):
    event = make_event(3)
    with pytest.raises(RatmasError, match="two different"):
        services.add_exclusion(event, uid(1), uid(1))
    with pytest.raises(RatmasError, match="not a participant"):
        services.add_exclusion(event, uid(1), uid(9))
    first = services.add_exclusion(event, uid(1), uid(2))
    assert not first.both_ways
    again = services.add_exclusion(event, uid(1), uid(2), both_ways=True)
    assert again.pk == first.pk and again.both_ways and event.exclusions.count() == 1
    services.remove_exclusion(event, uid(1), uid(2))
    with pytest.raises(RatmasError, match="no such exclusion"):
        services.remove_exclusion(event, uid(1), uid(2))
    services.add_exclusion(event, uid(1), uid(2))
    services.leave(event, uid(2))  # leaving takes their exclusions along
    assert event.exclusions.count() == 0


def test_deleting_an_event_cascades(make_event):
    event = make_event(4, status="matched")
    Exclusion.objects.create(event=event, giver=event.participants.first(), receiver=event.participants.last())
    event.delete()
    assert (Participant.objects.count(), Pairing.objects.count(), Exclusion.objects.count()) == (0, 0, 0)


def test_update_event_revalidates(make_event):
    event = make_event()
    services.update_event(event, budget="30 EUR", timezone="America/New_York")
    event.refresh_from_db()
    assert (event.budget, event.timezone) == ("30 EUR", "America/New_York")
    with pytest.raises(RatmasError, match="in order"):
        services.update_event(event, reveal_date=future(-5))
    with pytest.raises(RatmasError, match="cannot be changed"):
        services.update_event(event, status="completed")


def test_parse_local_datetime():
    moment = services.parse_local_datetime("2026-12-24 18:00", "Europe/Berlin")
    assert moment == dt.datetime(2026, 12, 24, 17, 0, tzinfo=dt.UTC)
    with pytest.raises(RatmasError, match="YYYY-MM-DD HH:MM"):
        services.parse_local_datetime("24/12/2026", "UTC")


def _local(days: float) -> str:
    return future(days).strftime("%Y-%m-%d %H:%M")


def test_open_signups_creates_then_reopens_and_checks_who_may():
    dates = {"signup_deadline": _local(1), "purchase_deadline": _local(2), "reveal_date": _local(3)}
    with pytest.raises(RatmasError, match="Manage Server"):
        services.open_signups(GUILD, may_organise=lambda event: False, **dates)
    with pytest.raises(RatmasError, match="Give the signup deadline"):
        services.open_signups(GUILD, may_organise=lambda event: True)
    event, reopened = services.open_signups(GUILD, may_organise=lambda event: event is None, **dates)
    assert not reopened and Event.objects.get(guild_id=GUILD).status == "open"
    services.set_status(event, Event.Status.LOCKED)
    asked: list[Event | None] = []
    with pytest.raises(RatmasError, match="Only Ratmas organisers"):
        services.open_signups(GUILD, may_organise=lambda e: asked.append(e) or False)
    assert asked == [event]  # asked about this event, not about starting one
    again, reopened = services.open_signups(GUILD, may_organise=lambda e: True)
    assert reopened and again.pk == event.pk and again.status == "open"
    assert Event.objects.filter(guild_id=GUILD).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_opens_create_one_event(run_in_parallel):
    dates = {"signup_deadline": _local(1), "purchase_deadline": _local(2), "reveal_date": _local(3)}
    results = run_in_parallel(lambda i: services.open_signups(GUILD, may_organise=lambda e: True, **dates), 4)
    outcomes = sorted(r[1] for r in results if isinstance(r, tuple))
    # One creates; the others either found it (and reopen, refused for an open event) or lost the race.
    assert outcomes.count(False) == 1, results
    assert all(isinstance(r, tuple | RatmasError) for r in results), results
    assert Event.objects.filter(guild_id=GUILD).count() == 1
