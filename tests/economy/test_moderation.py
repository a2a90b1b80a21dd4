"""Moderation cases: open (each action through the outbox), resolve, list, expiry task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bot.models import OutboxMessage
from economy import services
from economy.models import ModerationCase
from economy.services import EconomyError
from economy.tasks import expire_cases_task
from tests.economy.conftest import ALICE, BOB, GUILD

pytestmark = pytest.mark.django_db
MOD = 666_000_000_000_000_001


def open_(action, **kwargs):
    return services.open_case(GUILD, ALICE, "alice", MOD, "mod", action, kwargs.pop("reason", "rude"), **kwargs)


def test_warn_dms_the_member(deliver_outbox, fake_discord):
    case = open_("warn")
    assert not case.resolved and case.expires_at is None
    deliver_outbox()
    [dm] = fake_discord.dms_to(ALICE)
    assert dm["content"] == "You were warned. Reason: rude"


def test_timeout_kick_ban_reach_discord(deliver_outbox, fake_discord):
    before = timezone.now()
    case = open_("timeout", duration_minutes=30)
    assert before + dt.timedelta(minutes=30) <= case.expires_at <= timezone.now() + dt.timedelta(minutes=30)
    services.open_case(GUILD, BOB, "bob", MOD, "mod", "ban", "raid")
    services.open_case(GUILD, BOB + 1, "eve", MOD, "mod", "kick", "spam bot")
    deliver_outbox()
    assert fake_discord.timeouts[(GUILD, ALICE)] is not None
    assert (GUILD, BOB) in fake_discord.bans
    assert fake_discord.calls("DELETE", rf"/guilds/{GUILD}/members/{BOB + 1}")


@pytest.mark.parametrize(("action", "kwargs", "message"), [
    ("timeout", {}, "1 to 40,320 minutes"), ("timeout", {"duration_minutes": 50_000}, "1 to 40,320"),
    ("delete", {}, "channel and id"), ("mute", {}, "Unknown moderation action"),
    ("warn", {"reason": " "}, "needs a reason"), ("warn", {"reason": "x" * 501}, "500 characters"),
])
def test_open_case_refusals(action, kwargs, message):
    with pytest.raises(EconomyError, match=message):
        open_(action, **kwargs)
    assert not ModerationCase.objects.exists() and not OutboxMessage.objects.exists()


def test_resolve_case_lifts_an_active_timeout(deliver_outbox, fake_discord):
    case = open_("timeout", duration_minutes=60)
    deliver_outbox()
    resolved = services.resolve_case(case.pk, "mod")
    assert resolved.resolved and resolved.resolved_by == "mod" and resolved.resolved_at
    with pytest.raises(EconomyError, match="already resolved"):
        services.resolve_case(case.pk, "mod")
    deliver_outbox()
    assert fake_discord.timeouts[(GUILD, ALICE)] is None
    with pytest.raises(EconomyError, match="does not exist"):
        services.resolve_case("00000000-0000-0000-0000-000000000000", "mod")


def test_list_cases():
    first = open_("warn")
    open_("warn", reason="again")
    services.open_case(GUILD, BOB, "bob", MOD, "mod", "warn", "x")
    services.resolve_case(first.pk, "mod")
    assert [c.reason for c in services.list_cases(GUILD, ALICE)] == ["again", "rude"]
    assert [c.reason for c in services.list_cases(GUILD, ALICE, open_only=True)] == ["again"]
    assert len(services.list_cases(GUILD)) == 3


def test_expire_cases_task_resolves_only_expired_timeouts():
    expired = open_("timeout", duration_minutes=5)
    running = open_("timeout", duration_minutes=60)
    warn = open_("warn")
    ModerationCase.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert expire_cases_task() == 1
    assert expire_cases_task() == 0  # idempotent
    states = dict(ModerationCase.objects.values_list("pk", "resolved"))
    assert states == {expired.pk: True, running.pk: False, warn.pk: False}
    assert ModerationCase.objects.get(pk=expired.pk).resolved_by == "expired"


@pytest.mark.django_db(transaction=True)
def test_two_workers_expire_each_case_once(run_in_parallel):
    past = timezone.now() - dt.timedelta(minutes=1)
    for i in range(20):
        case = services.open_case(GUILD, ALICE + i, "u", MOD, "mod", "timeout", "x", duration_minutes=1)
        ModerationCase.objects.filter(pk=case.pk).update(expires_at=past)
    results = run_in_parallel(lambda i: services.expire_cases(), 2)
    assert sorted(results) in ([0, 20], [20, 0]) or sum(results) == 20, results
    assert not ModerationCase.objects.filter(resolved=False).exists()
