"""Auto-moderation: every rule type, exemptions, priority, the regex deadline, the action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bot.models import OutboxMessage
from economy import automod, services
from economy.models import AutoModRule, ModerationCase
from economy.services import EconomyError
from tests.economy.conftest import ALICE, GUILD

pytestmark = pytest.mark.django_db
CHANNEL, MOD_ROLE, STAFF_CHANNEL = 777_000_000_000_000_001, 888_000_000_000_000_001, 777_000_000_000_000_009


@pytest.fixture(autouse=True)
def _fresh_spam_window():
    automod.SPAM_WINDOW.clear()
    yield
    automod.SPAM_WINDOW.clear()


def rule(rule_type, config, action="delete", **extra) -> AutoModRule:
    return services.save_settings(AutoModRule(guild_id=GUILD, rule_type=rule_type, config=config, action=action,
                                              **extra))


def evaluate(content="hello", *, roles=(), channel=CHANNEL, mentions=(), at=None, author=ALICE):
    return services.evaluate_message(GUILD, author, list(roles), channel, content, list(mentions),
                                     at or timezone.now())


@pytest.mark.parametrize(("keywords", "hit", "miss"), [
    (["darn"], "well DARN it", "darning socks"),
    (["bad*"], "that was badly done", "a sinbad story"),
    (["*coin"], "buy bitcoin now", "coins and coinage"),
    (["free nitro"], "get Free Nitro here", "free-nitrogen"),
])
def test_keyword_whole_words_and_wildcards(keywords, hit, miss):
    rule("keyword", {"keywords": keywords})
    assert evaluate(hit).rule_type == "keyword"
    assert evaluate(miss) is None


def test_regex_rule():
    rule("regex", {"pattern": r"\bsteam\s*gift\b"})
    assert evaluate("free STEAM gift card").reason == "Matched a blocked pattern"
    assert evaluate("steam is great") is None


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w*)*x", r"(a|a)*b", r"(x{1,5})+y", "x" * 301, "(unclosed"])
def test_dangerous_or_broken_patterns_are_refused_on_save(pattern):
    with pytest.raises(EconomyError):
        rule("regex", {"pattern": pattern})


def test_regex_runs_under_a_deadline_and_recovers():
    runner = automod.RegexRunner(timeout=0.3)
    try:
        with pytest.raises(automod.RegexTimeoutError):
            runner.search(r"(a+)+$", "a" * 40 + "!")
        # A fresh worker took over; a generous deadline here, so a loaded machine can't fail it.
        assert runner.search(r"b+", "abbb", timeout=60) is True
    finally:
        runner.close()


def test_a_slow_regex_already_stored_counts_as_no_match(monkeypatch):
    AutoModRule.objects.create(guild_id=GUILD, rule_type="regex", config={"pattern": r"(a+)+$"}, action="ban")
    monkeypatch.setattr(automod, "_RUNNER", automod.RegexRunner(timeout=0.3))
    try:
        assert evaluate("a" * 40 + "!") is None
    finally:
        automod._RUNNER.close()
        automod._RUNNER = None


def test_spam_n_messages_in_t_seconds_per_member():
    rule("spam", {"messages": 3, "seconds": 10}, action="timeout", timeout_minutes=5)
    start = timezone.now()
    assert evaluate(at=start) is None
    assert evaluate(at=start + dt.timedelta(seconds=4)) is None
    assert evaluate(author=ALICE + 1, at=start + dt.timedelta(seconds=5)) is None  # someone else
    found = evaluate(at=start + dt.timedelta(seconds=8))
    assert found.reason == "Spam: 3 messages in 10 seconds" and found.timeout_minutes == 5
    assert evaluate(at=start + dt.timedelta(seconds=30)) is None  # the window moved on


def test_mention_spam():
    rule("mention_spam", {"max_mentions": 3})
    assert evaluate(mentions=[1, 2]) is None
    assert evaluate(mentions=[1, 2, 3]).reason == "Mention spam: 3 mentions"


def test_links_with_allowed_domains():
    rule("links", {"allowed_domains": ["example.org"]})
    assert evaluate("see https://wiki.example.org/page") is None
    assert evaluate("see www.example.org") is None
    assert evaluate("see https://evil.example.com/x").reason == "Link to evil.example.com"
    assert evaluate("no links here") is None


def test_invites():
    rule("invites", {})
    for text in ("join discord.gg/abc123", "https://discord.com/invite/xyz", "discordapp.com/invite/q-1"):
        assert evaluate(text).rule_type == "invites"
    assert evaluate("I like discord") is None


def test_caps_ratio():
    rule("caps", {"min_length": 10, "max_ratio": 0.7})
    assert evaluate("THIS IS SO LOUD RIGHT NOW").rule_type == "caps"
    assert evaluate("OK FINE") is None  # too short to judge
    assert evaluate("This Is Title Case Text") is None


@pytest.mark.parametrize("rule_type", ["keyword", "caps"])
def test_exempt_roles_and_channels(rule_type):
    config = {"keywords": ["LOUD"]} if rule_type == "keyword" else {}
    rule(rule_type, config, exempt_role_ids=[MOD_ROLE], exempt_channel_ids=[STAFF_CHANNEL])
    text = "LOUD LOUD LOUD LOUD"
    assert evaluate(text) is not None
    assert evaluate(text, roles=[MOD_ROLE]) is None
    assert evaluate(text, channel=STAFF_CHANNEL) is None


def test_priority_order_and_inactive_rules():
    low = rule("keyword", {"keywords": ["spam"]}, action="warn", priority=5)
    rule("invites", {}, action="ban", priority=1)
    rule("keyword", {"keywords": ["spam"]}, action="kick", priority=0, is_active=False)
    assert evaluate("spam discord.gg/x").action == "ban"
    assert evaluate("spam").rule_id == low.pk
    assert services.evaluate_message(GUILD + 1, ALICE, [], CHANNEL, "spam", [], timezone.now()) is None


@pytest.mark.parametrize(("rule_type", "config", "message"), [
    ("keyword", {"keywords": []}, "needs"), ("keyword", {"keywords": ["**"]}, "only wildcards"),
    ("spam", {"messages": 1}, "between"), ("caps", {"max_ratio": 1.5}, "between 0 and 1"),
    ("links", {"allowed_domains": "x"}, "list"), ("mention_spam", {"max_mentions": "a"}, "whole number"),
])
def test_invalid_configs_are_refused(rule_type, config, message):
    with pytest.raises(EconomyError, match=message):
        rule(rule_type, config)


def test_invalid_exempt_ids_are_refused():
    with pytest.raises(EconomyError, match="Discord ids"):
        rule("invites", {}, exempt_role_ids=["mods"])


def test_apply_action_deletes_opens_case_and_is_idempotent(deliver_outbox, fake_discord):
    rule("invites", {}, action="timeout", timeout_minutes=15)
    found = evaluate("discord.gg/free")
    case = services.apply_automod_action(GUILD, ALICE, "alice", CHANNEL, 4242, found)
    again = services.apply_automod_action(GUILD, ALICE, "alice", CHANNEL, 4242, found)
    assert case.pk == again.pk and ModerationCase.objects.count() == 1
    assert (case.action, case.moderator_tag, case.message_id, case.rule_id) == ("timeout", "AutoMod", 4242,
                                                                              found.rule_id)
    assert case.reason == "AutoMod: Discord invite link" and case.expires_at
    kinds = sorted(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == ["delete_message", "dm", "timeout_member"]


@pytest.mark.parametrize(("action", "kind"), [("warn", "dm"), ("kick", "kick_member"), ("ban", "ban_member"),
                                              ("delete", "delete_message")])
def test_each_action_is_queued(action, kind):
    rule("keyword", {"keywords": ["bad"]}, action=action)
    services.apply_automod_action(GUILD, ALICE, "alice", CHANNEL, 1, evaluate("bad"))
    assert OutboxMessage.objects.filter(kind=kind).exists()
    assert OutboxMessage.objects.filter(kind="delete_message").exists()


def test_test_rule_form_service():
    stored = rule("caps", {}, exempt_channel_ids=[STAFF_CHANNEL])
    assert services.dry_run_rule(stored, "WHY IS EVERYTHING SHOUTING").rule_type == "caps"
    assert services.dry_run_rule(stored, "WHY IS EVERYTHING SHOUTING", channel_id=STAFF_CHANNEL) is None
    spam = rule("spam", {"messages": 4, "seconds": 10})
    assert services.dry_run_rule(spam, "hi", recent_messages=4) is not None
    assert services.dry_run_rule(spam, "hi") is None
