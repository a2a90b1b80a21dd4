"""Races with real parallel PostgreSQL connections."""

from __future__ import annotations

from collections import Counter

import pytest

from ark import services
from ark.models import AuditLog, Governor, Signup
from bot.models import OutboxMessage
from tests.ark.conftest import NOW, user
from tests.factories import ark_alliance, ark_governor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_200_simultaneous_signups_fill_caps_exactly(make_match, run_in_parallel):
    ally = ark_alliance("Big Alliance")
    assert (ally.player_cap, ally.sub_cap) == (30, 15)
    match = make_match(ally)
    Governor.objects.bulk_create(
        [Governor(governor_id=1000 + i, name=f"G{i}", discord_user_id=user(i)) for i in range(180)]
    )

    def join(i: int):  # 180 governors; 20 of them press the button twice at once
        g = i % 180
        return services.add_signup(
            match_id=match.pk,
            governor_id=1000 + g,
            discord_user_id=user(g),
            actor_discord_id=user(g),
            now=NOW,
        )

    results = run_in_parallel(join, 200, timeout=300)
    ok = [r for r in results if isinstance(r, Signup)]
    refused = [r for r in results if isinstance(r, services.ArkError)]
    others = [r for r in results if not isinstance(r, Signup | services.ArkError)]
    assert not others, others[:3]
    assert Counter(s.slot for s in ok) == {"Player": 30, "Sub": 15}
    assert len(refused) == 155
    assert all("roster is full" in str(e) or "already signed up" in str(e) for e in refused), refused[:3]
    active = Signup.objects.filter(match=match, status="Active")
    assert active.filter(slot="Player").count() == 30 and active.filter(slot="Sub").count() == 15
    assert active.values("governor").distinct().count() == 45
    assert AuditLog.objects.filter(action="signup_added").count() == 45
    # coalesced: at most one registration post and a handful of edits, not 45
    assert OutboxMessage.objects.filter(topic__startswith="ark.registration").count() <= 3


def test_same_governor_racing_into_two_alliances_lands_once(make_match, run_in_parallel):
    a, b = ark_alliance("A"), ark_alliance("B", offset=2)
    matches = [make_match(a), make_match(b)]
    ark_governor(7, "Solo")

    def join(i: int):
        return services.add_signup(
            match_id=matches[i % 2].pk, governor_id=7, discord_user_id=user(7), now=NOW
        )

    results = run_in_parallel(join, 10)
    assert sum(isinstance(r, Signup) for r in results) == 1
    assert all(isinstance(r, Signup | services.ArkError) for r in results), results
    assert Signup.objects.filter(governor__governor_id=7, status="Active").count() == 1


def test_parallel_withdrawals_promote_each_sub_once(make_match, run_in_parallel):
    ally = ark_alliance("Full House")
    match = make_match(ally)
    Governor.objects.bulk_create(
        [Governor(governor_id=2000 + i, name=f"G{i}", discord_user_id=user(i)) for i in range(45)]
    )
    for i in range(45):
        services.add_signup(match_id=match.pk, governor_id=2000 + i, discord_user_id=user(i), now=NOW)

    def leave(i: int):
        return services.remove_signup(
            match_id=match.pk, governor_id=2000 + i, actor_discord_id=user(i), now=NOW
        )

    results = run_in_parallel(leave, 10)
    assert all(isinstance(r, Signup) for r in results), results
    active = Signup.objects.filter(match=match, status="Active")
    assert active.filter(slot="Player").count() == 30 and active.filter(slot="Sub").count() == 5
    promoted = sorted(m.user_id for m in OutboxMessage.objects.filter(topic="ark.promoted"))
    assert promoted == sorted(user(i) for i in range(30, 40))  # the 10 earliest subs, once each


def test_a_refusal_on_a_full_roster_does_not_queue_on_the_match_lock(make_match, run_in_parallel):
    """The registration rush: while a signup holds the match lock, presses on a full roster are
    answered from committed counts instead of waiting for it (bench/bot_burst.py measures it)."""
    import threading

    from django.db import transaction

    from ark.models import Match

    ally = ark_alliance("Tiny", player_cap=1, sub_cap=0)
    match = make_match(ally)
    Governor.objects.bulk_create([Governor(governor_id=2000 + i, name=f"T{i}", discord_user_id=user(i))
                                  for i in range(2)])
    services.add_signup(match_id=match.pk, governor_id=2000, discord_user_id=user(0), now=NOW)
    locked, refused = threading.Event(), threading.Event()

    def run(i: int):
        if i == 0:  # a slow roster change holding the lock until the refusal has been answered
            with transaction.atomic():
                Match.objects.select_for_update().get(pk=match.pk)
                locked.set()
                return refused.wait(60)
        assert locked.wait(60)
        try:
            services.add_signup(match_id=match.pk, governor_id=2001, discord_user_id=user(1), now=NOW)
        finally:
            refused.set()

    holder, presser = run_in_parallel(run, 2)
    assert isinstance(presser, services.RosterFullError), presser
    assert holder is True  # the refusal came while the lock was still held


def test_two_officers_confirming_create_the_next_matches_at_once_create_each_once(run_in_parallel):
    """Both saw the same preview and press "Yes, create" together: one creates the match, the
    other creates nothing it was not shown (the calendars are locked, the plan is re-read)."""
    import datetime as dt

    from django.utils import timezone

    from ark.models import Match

    ally = ark_alliance("Racers")
    services.save_calendar(alliance=ally, slots=["Sat 12:00"])
    [planned] = services.plan_next_matches().planned
    shown = {(ally.pk, planned.weekend)}

    def confirm(_i: int):
        return services.create_next_matches(only=shown)

    results = run_in_parallel(confirm, 6, timeout=120)
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(len(created) for created, _left in results) == 1
    assert list(Match.objects.values_list("alliance__name", "ark_weekend_date")) == [("Racers", planned.weekend)]
    assert planned.weekend > timezone.now().date() - dt.timedelta(days=1)
