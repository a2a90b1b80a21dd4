"""Auto-moderation rules in the admin (issue 24, Smaller points): a form per rule type with the
fields that type needs, validated with plain messages, instead of a raw JSON box."""

from __future__ import annotations

import pytest
from django.urls import reverse

from economy.automod_form import ALL_TYPE_FIELDS, TYPE_FIELDS
from economy.models import AutoModRule
from guildsync.models import DiscordChannel, DiscordRole
from tests.economy.conftest import GUILD

pytestmark = pytest.mark.django_db

ADD = reverse("admin:economy_automodrule_add")
BASE = {"guild_id": GUILD, "name": "", "action": "delete", "timeout_minutes": 10, "priority": 0, "is_active": "on"}


@pytest.fixture
def moderator(officer, client):
    client.force_login(officer("Economy moderators"))
    return client


def errors_of(response) -> str:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return " | ".join(str(e) for errors in form.errors.values() for e in errors)


def test_adding_starts_with_what_the_rule_catches(moderator):
    page = moderator.get(ADD).content.decode()
    for value, label in AutoModRule.RuleType.choices:
        assert f"?rule_type={value}" in page and str(label) in page
    assert "config" not in moderator.get(ADD + "?rule_type=spam").context["adminform"].form.fields
    assert moderator.get(ADD + "?rule_type=nonsense").status_code == 200  # back to the choice, no 500


@pytest.mark.parametrize("rule_type, fields, expected", [
    ("keyword", {"keywords": "free nitro\nbad*, scam"}, {"keywords": ["free nitro", "bad*", "scam"]}),
    ("regex", {"pattern": r"\bfree\s+nitro\b"}, {"pattern": r"\bfree\s+nitro\b"}),
    ("spam", {"messages": 6, "seconds": 8}, {"messages": 6, "seconds": 8}),
    ("mention_spam", {"max_mentions": 4}, {"max_mentions": 4}),
    ("links", {"allowed_domains": "www.Wowhead.com\nraider.io"}, {"allowed_domains": ["wowhead.com", "raider.io"]}),
    ("invites", {}, {}),
    ("caps", {"min_length": 12, "max_percent": 80}, {"min_length": 12, "max_ratio": 0.8}),
])
def test_each_type_has_its_own_fields_and_saves_its_config(moderator, rule_type, fields, expected):
    form = moderator.get(ADD + f"?rule_type={rule_type}").context["adminform"].form

    assert set(form.fields) & set(ALL_TYPE_FIELDS) == set(TYPE_FIELDS[rule_type])
    response = moderator.post(ADD + f"?rule_type={rule_type}", {**BASE, **fields})
    assert response.status_code == 302, errors_of(response)
    rule = AutoModRule.objects.get()
    assert rule.rule_type == rule_type and rule.config == expected
    # the change page shows the same values in the same fields, and saves them unchanged
    change = reverse("admin:economy_automodrule_change", args=[rule.pk])
    form = moderator.get(change).context["adminform"].form
    again = moderator.post(change, {**BASE, **{name: form[name].value() for name in TYPE_FIELDS[rule_type]}})
    assert again.status_code == 302, errors_of(again)
    rule.refresh_from_db()
    assert rule.config == expected


@pytest.mark.parametrize("rule_type, fields, message", [
    ("keyword", {"keywords": ""}, "This field is required."),
    ("keyword", {"keywords": " , \n"}, "Give at least one word or phrase."),
    ("keyword", {"keywords": "**"}, "A keyword can't be only wildcards."),
    ("regex", {"pattern": "(a+)+$"}, "nests quantifiers"),
    ("regex", {"pattern": "[unclosed"}, "The pattern does not compile"),
    ("spam", {"messages": 1, "seconds": 10}, "greater than or equal to 2"),
    ("spam", {"messages": 5, "seconds": "ten"}, "Enter a whole number."),
    ("spam", {"messages": 5, "seconds": 10 ** 20}, "less than or equal to 3600"),
    ("mention_spam", {"max_mentions": 0}, "greater than or equal to 1"),
    ("caps", {"min_length": 10, "max_percent": 100}, "less than or equal to 99"),
    ("caps", {"min_length": "", "max_percent": 70}, "This field is required."),
])
def test_bad_input_gets_a_plain_message_and_saves_nothing(moderator, rule_type, fields, message):
    response = moderator.post(ADD + f"?rule_type={rule_type}", {**BASE, **fields})
    found = errors_of(response)
    assert message in found
    assert "JSON" not in found and "'" + "messages'" not in found
    assert not AutoModRule.objects.exists()


def test_exemptions_are_picked_by_name(moderator):
    DiscordRole.objects.create(discord_id=900_000_000_000_000_501, name="Moderators")
    DiscordChannel.objects.create(discord_id=900_000_000_000_000_601, server_id=GUILD, name="memes")
    page = moderator.get(ADD + "?rule_type=invites").content.decode()
    assert "@Moderators" in page and "#memes" in page
    response = moderator.post(ADD + "?rule_type=invites", {**BASE, "exempt_roles": ["900000000000000501"],
                                                          "exempt_channels": ["900000000000000601"]})
    assert response.status_code == 302
    rule = AutoModRule.objects.get()
    assert (rule.exempt_role_ids, rule.exempt_channel_ids) == ([900_000_000_000_000_501], [900_000_000_000_000_601])
    bad = moderator.post(ADD + "?rule_type=invites", {**BASE, "exempt_roles": ["123"]})
    assert "123 is not one of the server's known roles." in errors_of(bad)


def test_the_type_of_a_saved_rule_stays(moderator):
    moderator.post(ADD + "?rule_type=mention_spam", {**BASE, "max_mentions": 4})
    rule = AutoModRule.objects.get()
    change = reverse("admin:economy_automodrule_change", args=[rule.pk])
    moderator.post(change, {**BASE, "rule_type": "regex", "max_mentions": 5, "pattern": "x"})
    rule.refresh_from_db()
    assert rule.rule_type == "mention_spam" and rule.config == {"max_mentions": 5}


def test_the_server_is_picked_by_name_once_the_bot_saw_it(moderator):
    from guildsync.models import DiscordServer

    assert "No server is known yet" in moderator.get(ADD + "?rule_type=invites").content.decode()
    DiscordServer.objects.create(discord_id=GUILD, name="Stormwatch")
    page = moderator.get(ADD + "?rule_type=invites").content.decode()
    assert f'<option value="{GUILD}" selected>Stormwatch</option>' in page
    bad = moderator.post(ADD + "?rule_type=invites", {**BASE, "guild_id": "12345"})
    assert "Choose one of the servers the bot knows." in errors_of(bad)
    assert moderator.post(ADD + "?rule_type=invites", BASE).status_code == 302
    assert AutoModRule.objects.get().guild_id == GUILD
