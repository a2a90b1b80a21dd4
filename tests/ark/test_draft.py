"""The team draft: exact against brute force, constraints (and the ones that cannot hold,
named), officers' adjustments, publishing through the outbox and an edited post after a
withdraw that promotes a sub into the leaver's team."""

from __future__ import annotations

import itertools
import random

import pytest

from ark import services
from ark.models import Governor, MessageRef, Signup
from ark.services import Rule
from tests.ark.conftest import CLOSE, CONF_CHANNEL, OFFICER, sign

D = services.DraftInfeasibleError


def brute_force(powers: dict[int, int], rules: list[Rule]) -> int | None:
    """The smallest gap over every split that keeps the rules (None: no such split)."""
    ids = sorted(powers)
    size1 = (len(ids) + 1) // 2
    total = sum(powers.values())
    best = None
    for team1 in itertools.combinations(ids, size1):
        t1 = set(team1)
        ok = all(
            ((r.a in t1) == (r.b in t1)) if r.kind == "together"
            else ((r.a in t1) != (r.b in t1)) if r.kind == "apart"
            else ((r.a in t1) == (r.team == 1))
            for r in rules
        )
        if ok:
            gap = abs(total - 2 * sum(powers[g] for g in t1))
            best = gap if best is None else min(best, gap)
    return best


def check_plan(plan, powers, rules):
    t1, t2 = set(plan.team1), set(plan.team2)
    assert t1 | t2 == set(powers) and not t1 & t2
    assert len(t1) == (len(powers) + 1) // 2
    assert plan.power1 == sum(powers[g] for g in t1) and plan.power2 == sum(powers[g] for g in t2)
    for r in rules:
        if r.kind == "together":
            assert (r.a in t1) == (r.b in t1)
        elif r.kind == "apart":
            assert (r.a in t1) != (r.b in t1)
        else:
            assert (r.a in t1) == (r.team == 1)


@pytest.mark.parametrize("seed", range(60))
def test_split_is_exact_against_brute_force(seed):
    rnd = random.Random(seed)
    n = rnd.randint(2, 12)
    powers = {i: rnd.choice([rnd.randint(1, 100), rnd.randint(10_000_000, 150_000_000)]) for i in range(1, n + 1)}
    rules: list[Rule] = []
    for _ in range(rnd.randint(0, 4)):
        a, b = rnd.sample(sorted(powers), 2)
        rules.append(Rule(rnd.choice(["together", "apart"]), a, b))
    if rnd.random() < 0.4:
        rules.append(Rule("captain", rnd.choice(sorted(powers)), team=rnd.choice([1, 2])))
    expected = brute_force(powers, rules)
    if expected is None:
        with pytest.raises(services.ArkError):
            services.split_teams(powers, rules)
        return
    try:
        plan = services.split_teams(powers, rules)
    except D:
        pytest.fail(f"a valid split exists (gap {expected}) but the draft said infeasible: {powers} {rules}")
    check_plan(plan, powers, rules)
    assert plan.gap == expected


def test_thirty_players_split_exactly_with_constraints():
    rnd = random.Random(30)
    powers = {i: rnd.randint(20_000_000, 120_000_000) for i in range(1, 31)}
    rules = [Rule("together", 1, 2), Rule("apart", 3, 4), Rule("captain", 5, team=1), Rule("captain", 6, team=2)]
    plan = services.split_teams(powers, rules)
    check_plan(plan, powers, rules)
    assert len(plan.team1) == len(plan.team2) == 15
    assert plan.gap < 1_000  # of ~1e9 per team: the search is exhaustive (exactness: the brute-force test)
    # fifteen pairs of twins split perfectly, and the search must find it
    twins = {i: rnd.randint(20_000_000, 120_000_000) for i in range(1, 16)}
    powers = twins | {i + 15: p for i, p in twins.items()}
    assert services.split_teams(powers, [Rule("together", 1, 2)]).gap == 0


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ([Rule("together", 1, 2), Rule("apart", 1, 2)], ["keep together A and B", "keep apart A and B"]),
        ([Rule("apart", 1, 2), Rule("apart", 2, 3), Rule("apart", 1, 3)], ["odd circle", "keep apart A and C"]),
        ([Rule("captain", 1, team=1), Rule("captain", 2, team=2), Rule("together", 1, 2)], ["captains of both teams"]),
        ([Rule("together", 1, 2), Rule("together", 2, 3), Rule("together", 3, 4)], ["4 governors kept together"]),
        ([Rule("captain", 1, team=1), Rule("captain", 2, team=1), Rule("apart", 1, 2)], ["contradict"]),
    ],
)
def test_infeasible_constraints_are_named(rules, named):
    powers = {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}
    names = {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"}
    with pytest.raises(D) as err:
        services.split_teams(powers, rules, names)
    for text in named:
        assert text in str(err.value)


@pytest.fixture
def locked_match(make_match, alliance, governors):
    alliance.player_cap, alliance.sub_cap = 6, 2
    alliance.save()
    match = make_match()
    for n, power in zip(range(1, 9), [90, 80, 70, 60, 50, 40, 30, 20], strict=True):
        Governor.objects.filter(governor_id=n).update(power=power * 1_000_000)
        sign(match, n)
    services.lock_match(match_id=match.pk, now=CLOSE)
    return match


@pytest.mark.django_db
def test_draft_adjust_publish_then_withdraw_edits_the_post(locked_match, deliver_outbox, fake_discord):
    match = locked_match
    services.add_draft_constraint(match_id=match.pk, kind="captain", governor_id=1, team=1, actor_discord_id=OFFICER)
    with pytest.raises(services.ArkError, match="Draft the teams"):
        services.publish_draft(match_id=match.pk)
    plan = services.draft_teams(match_id=match.pk, actor_discord_id=OFFICER)
    assert 1 in plan.team1 and plan.gap == 10_000_000  # powers are multiples of 10M: no perfect split
    assert plan.gap == services.split_teams({n: p * 1_000_000 for n, p in zip(range(1, 7), [90, 80, 70, 60, 50, 40], strict=True)},
                                            [Rule("captain", 1, team=1)]).gap
    services.publish_draft(match_id=match.pk, actor_discord_id=OFFICER)
    deliver_outbox()
    [post] = [m for m in fake_discord.posted(CONF_CHANNEL) if m["embeds"] and "Teams" in m["embeds"][0]["title"]]
    assert "Team 1 (3)" in post["embeds"][0]["fields"][0]["name"]
    # an officer moves a governor: totals follow and the post is edited
    mover = Signup.objects.get(match=match, governor__governor_id=plan.team2[0])
    services.move_to_team(signup_id=mover.pk, team=1, actor_discord_id=OFFICER)
    totals = services.team_totals(match.pk)
    assert totals[1][0] == 4 and totals[2][0] == 2
    deliver_outbox()
    assert "Team 1 (4)" in post_now(fake_discord, post)["embeds"][0]["fields"][0]["name"]
    # a team-2 player withdraws in an emergency: the first sub (governor 7) takes the place in team 2
    leaver = Signup.objects.filter(match=match, team=2, status="Active").select_related("governor").first()
    services.mark_emergency_withdraw(
        match_id=match.pk, discord_user_id=leaver.discord_user_id, governor_id=leaver.governor.governor_id, now=CLOSE
    )
    promoted = Signup.objects.get(match=match, governor__governor_id=7)
    assert (promoted.slot, promoted.team) == ("Player", 2)
    deliver_outbox()
    edited = post_now(fake_discord, post)
    team2 = edited["embeds"][0]["fields"][1]["value"]
    assert "Gov7" in team2 and leaver.governor.name not in team2
    assert MessageRef.objects.filter(match=match, kind="draft").count() == 1
    assert len([m for m in fake_discord.posted(CONF_CHANNEL) if m["embeds"] and "Teams" in m["embeds"][0]["title"]]) == 1


def post_now(fake_discord, post):
    return next(m for m in fake_discord.posted(CONF_CHANNEL) if m["id"] == post["id"])


@pytest.mark.django_db
def test_draft_needs_a_locked_match_and_reports_infeasible_constraints(make_match, locked_match, governors):
    open_match = make_match(weekend=locked_match.ark_weekend_date.replace(day=16),
                            start=locked_match.match_time_utc.replace(day=16), close=CLOSE.replace(day=15))
    with pytest.raises(services.ArkError, match="once the match is locked"):
        services.draft_teams(match_id=open_match.pk)
    services.add_draft_constraint(match_id=locked_match.pk, kind="together", governor_id=1, other_governor_id=2)
    services.add_draft_constraint(match_id=locked_match.pk, kind="apart", governor_id=1, other_governor_id=2)
    with pytest.raises(D, match="keep together Gov1 and Gov2; keep apart Gov1 and Gov2"):
        services.draft_teams(match_id=locked_match.pk)
    assert not Signup.objects.filter(match=locked_match, team__isnull=False).exists()  # nothing half-written
    services.add_draft_constraint(match_id=locked_match.pk, kind="captain", governor_id=3, team=1)
    with pytest.raises(services.ArkError, match="already has a captain"):
        services.add_draft_constraint(match_id=locked_match.pk, kind="captain", governor_id=4, team=1)
