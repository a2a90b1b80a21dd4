"""The draw: properties (hypothesis against brute force), impossibility messages,
avoid-previous, dry run, atomic replacement under a real database failure."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratmas import matching, services
from ratmas.models import Event, Pairing
from ratmas.services import RatmasError
from tests.ratmas.conftest import uid


def brute_force_feasible(ids, forbidden) -> bool:
    return any(all(r != g and r not in forbidden.get(g, ()) for g, r in zip(ids, perm, strict=True))
               for perm in itertools.permutations(ids))


@st.composite
def instances(draw):
    n = draw(st.integers(min_value=2, max_value=7))
    ids = draw(st.lists(st.integers(min_value=1, max_value=10**18), min_size=n, max_size=n, unique=True))
    density = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7]))
    pairs = [(g, r) for g in ids for r in ids if g != r]
    chosen = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    rnd = draw(st.randoms(use_true_random=False))
    forbidden: dict[int, set[int]] = {}
    for (g, r), pick in zip(pairs, chosen, strict=True):
        if pick and rnd.random() < density * 2:
            forbidden.setdefault(g, set()).add(r)
    return ids, forbidden, draw(st.integers(min_value=0, max_value=2**32))


@settings(max_examples=400, deadline=None)
@given(instances())
def test_draw_finds_an_assignment_iff_one_exists(instance):
    ids, forbidden, seed = instance
    feasible = brute_force_feasible(ids, forbidden)
    try:
        result = matching.draw(ids, forbidden, random.Random(seed))
    except matching.InfeasibleError as exc:
        assert not feasible
        # the certificate is a real Hall violation: those givers may only give to those receivers
        if exc.kind == "group":
            allowed = {r for g in exc.givers for r in ids if r != g and r not in forbidden.get(g, ())}
            assert allowed <= set(exc.receivers) and len(exc.receivers) < len(exc.givers)
        elif exc.kind == "no_receivers":
            [g] = exc.givers
            assert all(r == g or r in forbidden.get(g, ()) for r in ids)
        else:
            assert exc.kind == "no_givers"
            [r] = exc.receivers
            assert all(g == r or r in forbidden.get(g, ()) for g in ids)
        return
    assert feasible
    assert matching.is_valid(result.assignment, ids, forbidden)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=20, max_value=300), st.integers(min_value=0, max_value=40),
       st.integers(min_value=0, max_value=2**32))
def test_draw_on_larger_sets_with_dense_clusters(n, cluster, seed):
    """A cluster that excludes each other forces the matching fallback; still valid."""
    ids = list(range(n))
    rng = random.Random(seed)
    group = ids[: min(cluster, n // 2)]
    forbidden = {g: {r for r in group if r != g} for g in group}
    for g in ids:
        forbidden.setdefault(g, set()).update(rng.sample(ids, 2))
        forbidden[g].discard(g)
    result = matching.draw(ids, forbidden, rng)
    assert matching.is_valid(result.assignment, ids, forbidden)


def test_rejection_stage_is_uniform_over_derangements():
    ids = [1, 2, 3, 4]
    counts = Counter(tuple(sorted(matching.draw(ids, {}, random.Random(s)).assignment.items())) for s in range(1800))
    assert len(counts) == 9  # all derangements of 4
    assert min(counts.values()) > 140 and max(counts.values()) < 260  # expected 200 each


def test_draw_is_reproducible_with_a_seed():
    ids = list(range(50))
    assert matching.draw(ids, {}, random.Random(7)).assignment == matching.draw(ids, {}, random.Random(7)).assignment


pytestmark = pytest.mark.django_db


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=3, max_value=6), st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.booleans()),
                                                        max_size=8), st.integers(0, 1000))
def test_generate_pairings_matches_brute_force(make_event, n, exclusions, seed):
    Event.objects.all().delete()
    event = make_event(n)
    forbidden: dict[int, set[int]] = {}
    for a, b, both in exclusions:
        if a <= n and b <= n and a != b:
            services.add_exclusion(event, uid(a), uid(b), both_ways=both)
            forbidden.setdefault(uid(a), set()).add(uid(b))
            if both:
                forbidden.setdefault(uid(b), set()).add(uid(a))
    services.set_status(event, "locked")
    ids = [uid(i) for i in range(1, n + 1)]
    if brute_force_feasible(ids, forbidden):
        plan = services.generate_pairings(event, seed=seed)
        stored = dict(event.pairings.values_list("santa__user_id", "recipient__user_id"))
        assert stored == dict(plan.pairs) and matching.is_valid(stored, ids, forbidden)
        assert Event.objects.get(pk=event.pk).status == "matched"
    else:
        with pytest.raises(RatmasError, match="No valid draw"):
            services.generate_pairings(event, seed=seed)
        assert not event.pairings.exists()
        assert Event.objects.get(pk=event.pk).status == "locked"


def test_needs_locked_and_three_participants(make_event):
    event = make_event(2)
    with pytest.raises(RatmasError, match="Cannot draw pairings: signups are still open"):
        services.generate_pairings(event)
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="At least 3 participants"):
        services.generate_pairings(event)


def test_dry_run_stores_nothing(make_event):
    event = make_event(5, status="locked")
    plan = services.generate_pairings(event, seed=2, dry_run=True)
    assert len(plan.pairs) == 5 and plan.dry_run
    assert "A valid draw exists: 5 Santas" in plan.summary()
    assert not event.pairings.exists() and Event.objects.get(pk=event.pk).status == "locked"


def test_participant_everyone_excludes_is_named(make_event):
    event = make_event(4)
    for i in (1, 2, 3):
        services.add_exclusion(event, uid(i), uid(4))
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="nobody can give to Player 4 — every other participant excludes them"):
        services.generate_pairings(event)


def test_participant_who_excludes_everyone_is_named(make_event):
    event = make_event(4)
    for i in (2, 3, 4):
        services.add_exclusion(event, uid(1), uid(i))
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="Player 1 cannot give to anyone"):
        services.generate_pairings(event)


def test_group_with_too_few_recipients_is_named(make_event):
    """Players 1-3 may each give only to Player 4 or 5 (they exclude one another and 6):
    three Santas, two possible recipients."""
    event = make_event(6)
    for a in (1, 2, 3):
        for b in (1, 2, 3, 6):
            if a != b:
                services.add_exclusion(event, uid(a), uid(b))
    services.set_status(event, "locked")
    with pytest.raises(RatmasError) as info:
        services.generate_pairings(event, seed=4)
    message = str(info.value)
    assert "3 participants (Player 1, Player 2, Player 3) can only give to 2 people" in message
    assert "(Player 4, Player 5)" in message


def test_avoids_previous_completed_event(make_event):
    last = make_event(5, status="matched")
    previous = dict(last.pairings.values_list("santa__user_id", "recipient__user_id"))
    Pairing.objects.filter(event=last).update(notified_at=timezone.now())
    services.set_status(last, "notified")
    services.complete_event(last, announce=False)
    event = make_event(5, status="locked")
    for seed in range(30):
        plan = services.generate_pairings(event, seed=seed, dry_run=True)
        assert plan.avoided_previous == 5
        assert not set(plan.pairs) & set(previous.items())
    seen_repeat = any(set(services.generate_pairings(event, seed=s, avoid_previous=False, dry_run=True).pairs)
                      & set(previous.items()) for s in range(30))
    assert seen_repeat  # without the option last year's pairs may come back


def test_avoid_previous_that_makes_it_impossible_says_so(make_event):
    last = make_event(3, status="matched")
    Pairing.objects.filter(event=last).update(notified_at=timezone.now())
    services.set_status(last, "notified")
    services.complete_event(last, announce=False)
    previous = dict(last.pairings.values_list("santa__user_id", "recipient__user_id"))
    event = make_event(3)
    # forbid the other 3-cycle too: only last year's cycle remains
    other = {s: r for s, r in ((uid(1), uid(2)), (uid(2), uid(3)), (uid(3), uid(1))) if previous.get(s) != r}
    if len(other) != 3:
        other = {uid(1): uid(3), uid(3): uid(2), uid(2): uid(1)}
    for s, r in other.items():
        services.add_exclusion(event, s, r)
    services.set_status(event, "locked")
    with pytest.raises(RatmasError, match="Avoiding last time's pairs is what makes it impossible"):
        services.generate_pairings(event)
    plan = services.generate_pairings(event, avoid_previous=False)
    assert dict(plan.pairs) == previous


def test_replace_pairings_validates(make_event):
    event = make_event(3, status="locked")
    with pytest.raises(RatmasError, match="not valid"):
        services.replace_pairings(event, [(uid(1), uid(1)), (uid(2), uid(3)), (uid(3), uid(2))])
    with pytest.raises(RatmasError, match="not valid"):
        services.replace_pairings(event, [(uid(1), uid(2)), (uid(2), uid(3))])
    services.add_exclusion(event, uid(1), uid(2))
    with pytest.raises(RatmasError, match="not valid"):
        services.replace_pairings(event, [(uid(1), uid(2)), (uid(2), uid(3)), (uid(3), uid(1))])
    assert services.replace_pairings(event, [(uid(1), uid(3)), (uid(3), uid(2)), (uid(2), uid(1))]) == 3
    assert event.status == "matched"


@pytest.mark.postgres
def test_replace_pairings_is_atomic_under_a_database_failure(make_event):
    """A trigger makes PostgreSQL refuse the third new pairing row: the delete of the old
    pairings and the first inserts roll back, the previous draw stays intact."""
    event = make_event(4, status="matched")
    before = sorted(event.pairings.values_list("pk", "santa__user_id", "recipient__user_id"))
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION ratmas_test_fail() RETURNS trigger AS $$
            BEGIN
              IF (SELECT count(*) FROM ratmas_pairing WHERE event_id = NEW.event_id) >= 2 THEN
                RAISE EXCEPTION 'forced failure while writing pairings';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER ratmas_test_fail BEFORE INSERT ON ratmas_pairing
              FOR EACH ROW EXECUTE FUNCTION ratmas_test_fail();
        """)
    new = [(uid(1), uid(2)), (uid(2), uid(1)), (uid(3), uid(4)), (uid(4), uid(3))]
    with pytest.raises(DatabaseError, match="forced failure"):
        services.replace_pairings(event, new)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER ratmas_test_fail ON ratmas_pairing; DROP FUNCTION ratmas_test_fail();")
    assert sorted(event.pairings.values_list("pk", "santa__user_id", "recipient__user_id")) == before
    assert services.replace_pairings(event, new) == 4
    assert sorted(event.pairings.values_list("santa__user_id", "recipient__user_id")) == sorted(new)


def test_pairings_frozen_once_santas_were_sent(make_event):
    event = make_event(3, status="matched")
    services.notify_santas(event)
    with pytest.raises(RatmasError, match="can no longer change"):
        services.replace_pairings(event, [(uid(1), uid(3)), (uid(3), uid(2)), (uid(2), uid(1))])


@pytest.mark.django_db(transaction=True)
def test_two_organisers_drawing_at_once_store_one_draw(make_event, run_in_parallel):
    """A draw may be redrawn until the first Santa DM is queued, so parallel draws all succeed,
    one after the other on the event's lock: what is stored is exactly one whole draw (the last
    to commit), never a mix of two."""
    event = make_event(8, status="locked")
    results = run_in_parallel(lambda i: services.generate_pairings(event, seed=i), 3)
    plans = [r for r in results if isinstance(r, services.PairingPlan)]
    assert len(plans) == 3, results
    stored = dict(event.pairings.values_list("santa__user_id", "recipient__user_id"))
    assert stored in [dict(plan.pairs) for plan in plans]
    assert len(stored) == 8 and sorted(stored.values()) == sorted(stored) and all(s != r for s, r in stored.items())
