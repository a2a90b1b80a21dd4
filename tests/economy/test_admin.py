"""The Economy moderators' admin: pages, actions through services, permissions, query counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from bot.models import OutboxMessage
from economy import services
from economy.models import (
    AutoModRule,
    BytesBalance,
    BytesConfig,
    BytesTransaction,
    ModerationCase,
    Squad,
    SquadMembership,
)
from tests.economy.conftest import ALICE, BOB, GUILD, balance_of, make_balance

pytestmark = pytest.mark.django_db

CHANGELISTS = ["bytesbalance", "bytestransaction", "bytesconfig", "squad", "squadmembership", "moderationcase",
               "automodrule", "rolerewardgrant"]


@pytest.fixture
def moderator(officer, client):
    user = officer("Economy moderators")
    client.force_login(user)
    return user


@pytest.fixture
def data(config):
    for i in range(12):
        make_balance(ALICE + i, 100 + i)
    red = Squad.objects.create(guild_id=GUILD, role_id=1, name="Red")
    blue = Squad.objects.create(guild_id=GUILD, role_id=2, name="Blue")
    for i in range(6):
        services.join_squad(GUILD, ALICE + i, (red, blue)[i % 2].pk)
        services.transfer(GUILD, ALICE + i, f"u{i}", BOB + 100, "bank", 5)
        services.open_case(GUILD, ALICE + i, f"u{i}", 9, "mod", "timeout", "x", duration_minutes=5)
    services.save_settings(AutoModRule(guild_id=GUILD, rule_type="invites", action="delete"))
    return red, blue


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_render_without_n_plus_one(client, moderator, data, model, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = client.get(reverse(f"admin:economy_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", CHANGELISTS)
def test_another_officer_group_is_denied(client, officer, model):
    client.force_login(officer("Raid officers"))
    assert client.get(reverse(f"admin:economy_{model}_changelist")).status_code == 403


def test_other_group_is_denied_the_custom_views(client, officer, data):
    client.force_login(officer("Raid officers"))
    rule = AutoModRule.objects.get()
    assert client.get(reverse("admin:economy_bytesbalance_leaderboard")).status_code == 403
    assert client.get(reverse("admin:economy_automodrule_test", args=[rule.pk])).status_code == 403


def test_squad_member_counts_are_annotated(client, moderator, data):
    response = client.get(reverse("admin:economy_squad_changelist"))
    assert {s.name: s.member_count for s in response.context["cl"].result_list} == {"Red": 3, "Blue": 3}


def test_balances_are_read_only_and_ordered_by_balance(client, moderator, data):
    response = client.get(reverse("admin:economy_bytesbalance_changelist"))
    balances = [b.balance for b in response.context["cl"].result_list]
    assert balances == sorted(balances, reverse=True)
    pk = balance_of(ALICE).pk
    response = client.post(reverse("admin:economy_bytesbalance_change", args=[pk]), {"balance": 1_000_000})
    assert balance_of(ALICE).balance != 1_000_000
    assert client.get(reverse("admin:economy_bytesbalance_add")).status_code == 403
    found = client.get(reverse("admin:economy_bytesbalance_changelist"), {"q": str(ALICE + 3)})
    assert [b.user_id for b in found.context["cl"].result_list] == [ALICE + 3]
    assert client.get(reverse("admin:economy_bytesbalance_changelist"), {"q": "alice"}).status_code == 200


def test_adjust_balance_action_with_intermediate_form(client, moderator, data):
    url = reverse("admin:economy_bytesbalance_changelist")
    pk = balance_of(ALICE).pk
    form = client.post(url, {"action": "adjust_balance", "_selected_action": [pk]})
    assert form.status_code == 200 and b"Apply adjustment" in form.content
    response = client.post(url, {"action": "adjust_balance", "_selected_action": [pk], "apply": "1",
                                 "amount": "-20", "reason": "double reward"}, follow=True)
    assert "Adjusted 1 balance(s) by -20 bytes." in response.content.decode()
    assert balance_of(ALICE).balance == 75
    tx = BytesTransaction.objects.get(kind="adjustment")
    assert (tx.giver_id, tx.amount, tx.reason, tx.receiver_username) == (ALICE, 20, "double reward",
                                                                         "Officer economy_moderators")
    # a refusal is reported, nothing written
    response = client.post(url, {"action": "adjust_balance", "_selected_action": [pk], "apply": "1",
                                 "amount": "-1000", "reason": "oops"}, follow=True)
    assert "can&#x27;t go below 0" in response.content.decode()
    assert balance_of(ALICE).balance == 75
    # an amount no balance can hold is a form error (it was a 500 OverflowError)
    response = client.post(url, {"action": "adjust_balance", "_selected_action": [pk], "apply": "1",
                                 "amount": "99999999999999999999", "reason": "overflow"})
    assert response.status_code == 200 and "less than or equal to 2147483647" in response.content.decode()
    # and one that would push the balance past the column's range is refused by the service
    response = client.post(url, {"action": "adjust_balance", "_selected_action": [pk], "apply": "1",
                                 "amount": "2147483647", "reason": "overflow"}, follow=True)
    assert "a balance holds at most 2,147,483,647" in response.content.decode()
    assert balance_of(ALICE).balance == 75


def test_transactions_are_read_only_with_filters(client, moderator, data):
    tx = BytesTransaction.objects.first()
    assert client.post(reverse("admin:economy_bytestransaction_change", args=[tx.pk]), {}).status_code == 403
    response = client.get(reverse("admin:economy_bytestransaction_changelist"), {"kind": "squad_switch"})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 0


def test_config_edit_validates(client, moderator, data):
    config = BytesConfig.objects.get()
    url = reverse("admin:economy_bytesconfig_change", args=[config.pk])
    fields = {"guild_id": GUILD, "starting_balance": 5, "daily_amount": 20, "max_transfer": 300,
              "transfer_cooldown_hours": 0, "streak_bonuses": '{"8": 3}', "role_rewards": "{}"}
    assert client.post(url, fields).status_code == 302
    config.refresh_from_db()
    assert (config.daily_amount, config.streak_bonuses) == (20, {"8": 3})
    response = client.post(url, {**fields, "streak_bonuses": '{"eight": 3}'})
    assert response.status_code == 200 and b"whole numbers" in response.content


def test_cases_state_filter_and_resolve_action(client, moderator, data):
    url = reverse("admin:economy_moderationcase_changelist")
    first = ModerationCase.objects.first()
    ModerationCase.objects.filter(pk=first.pk).update(expires_at=first.created_at)
    assert len(client.get(url, {"state": "expired"}).context["cl"].result_list) == 1
    assert len(client.get(url, {"state": "open"}).context["cl"].result_list) == 6
    client.post(url, {"action": "resolve", "_selected_action": [first.pk], "confirmed": "Yes"}, follow=True)
    assert ModerationCase.objects.get(pk=first.pk).resolved_by == "economy_moderators"
    assert len(client.get(url, {"state": "resolved"}).context["cl"].result_list) == 1


def test_remove_from_squad_action(client, moderator, data):
    membership = SquadMembership.objects.first()
    client.post(reverse("admin:economy_squadmembership_changelist"),
                {"action": "remove_from_squad", "_selected_action": [membership.pk]})
    assert not SquadMembership.objects.filter(pk=membership.pk).exists()


def test_rule_test_form(client, moderator, data):
    rule = AutoModRule.objects.get()
    url = reverse("admin:economy_automodrule_test", args=[rule.pk])
    assert client.get(url).status_code == 200
    hit = client.post(url, {"content": "join discord.gg/abc", "recent_messages": 1})
    assert b"Match: Discord invite link" in hit.content
    miss = client.post(url, {"content": "hello", "recent_messages": 1})
    assert b"No match" in miss.content
    assert not ModerationCase.objects.filter(rule=rule).exists()


def test_rule_add_refuses_a_dangerous_regex(client, moderator):
    response = client.post(reverse("admin:economy_automodrule_add") + "?rule_type=regex", {
        "guild_id": GUILD, "name": "bad", "pattern": "(a+)+$", "action": "delete", "timeout_minutes": 10,
        "priority": 0, "is_active": "on"})
    assert response.status_code == 200 and b"nests quantifiers" in response.content
    assert not AutoModRule.objects.exists()


def test_leaderboard_chart(client, moderator, data):
    response = client.get(reverse("admin:economy_bytesbalance_leaderboard"), {"guild_id": GUILD})
    html = response.content.decode()
    assert response.status_code == 200 and '<svg id="leaderboard-chart"' in html
    assert html.index(str(ALICE + 11)) < html.index(str(ALICE + 10)) < html.index(str(ALICE + 6))  # richest first
    assert not re.search(r"(src|href)=\"(https?:)?//", html) and html.count("<rect") == len(BytesBalance.objects.all()[:15])



def test_settings_deletes_go_through_the_service(client, moderator, data):
    red, blue = data
    url = reverse("admin:economy_squad_delete", args=[red.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403  # members first: memberships are read-only here
    assert Squad.objects.filter(pk=red.pk).exists()
    client.post(reverse("admin:economy_squadmembership_changelist"),
                {"action": "remove_from_squad", "_selected_action": list(red.memberships.values_list("pk", flat=True))})
    assert OutboxMessage.objects.filter(kind="remove_role", role_id=red.role_id).count() == 3
    assert client.post(url, {"post": "yes"}).status_code == 302 and not Squad.objects.filter(pk=red.pk).exists()
    rule = AutoModRule.objects.get()
    ModerationCase.objects.filter(pk=ModerationCase.objects.first().pk).update(rule=rule)
    client.post(reverse("admin:economy_automodrule_changelist"),
                {"action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"})
    assert not AutoModRule.objects.exists() and ModerationCase.objects.count() == 6  # cases keep their history


def test_deleting_a_squad_with_members_queues_their_role_removal(data):
    red, _ = data
    members = set(red.memberships.values_list("user_id", flat=True))
    assert services.delete_settings([red]) == 1
    assert not SquadMembership.objects.filter(user_id__in=members).exists()
    removals = OutboxMessage.objects.filter(kind="remove_role", topic="economy.squad_role", role_id=red.role_id)
    assert set(removals.values_list("user_id", flat=True)) == members and len(members) == 3
    with pytest.raises(services.EconomyError):
        services.delete_settings([BytesBalance.objects.first()])
