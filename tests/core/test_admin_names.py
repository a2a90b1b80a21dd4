"""Wherever the admin shows a Discord user it shows the member's current name (the raw id on
hover) and finds rows by that name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

ALICE, BOB = 222_000_000_000_000_001, 222_000_000_000_000_002


@pytest.fixture
def directory():
    factories.discord_user("alice", display_name="Alice Ratqueen", discord_id=ALICE)
    factories.discord_user("bob", display_name="", discord_id=BOB)


def _page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_balances_and_leaderboard_show_names(admin_client, directory) -> None:
    factories.bytes_balance(ALICE, 50, guild_id=1)
    factories.bytes_balance(BOB, 40, guild_id=1)
    url = reverse("admin:economy_bytesbalance_changelist")
    page = _page(admin_client, url)
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page and ">bob<" in page
    found = admin_client.get(url, {"q": "ratqueen"}).context["cl"].result_list
    assert [b.user_id for b in found] == [ALICE]
    assert [b.user_id for b in admin_client.get(url, {"q": str(BOB)}).context["cl"].result_list] == [BOB]
    board = _page(admin_client, reverse("admin:economy_bytesbalance_leaderboard"), guild_id=1)
    assert "#1 Alice Ratqueen" in board and "#2 bob" in board


def test_unknown_member_shows_as_unknown_with_a_short_id(admin_client, directory) -> None:
    unknown = 222_000_000_000_004_321
    factories.bytes_balance(unknown, 5, guild_id=1)
    page = _page(admin_client, reverse("admin:economy_bytesbalance_changelist"))
    assert f'title="Discord id {unknown} (not in the directory yet)">unknown member …4321<' in page


def test_ark_signups_governors_bans_and_audit_log_show_names(admin_client, directory) -> None:
    from ark import services

    match = factories.ark_match(factories.ark_alliance("Rats"))
    services.register_governor(governor_id=77, name="Gov Alice", discord_user_id=ALICE)
    services.add_signup(match_id=match.pk, governor_id=77, discord_user_id=ALICE, actor_discord_id=ALICE,
                        now=factories.ARK_NOW)
    services.add_ban(discord_user_id=BOB, reason="afk", weekends=1)
    assert "Alice Ratqueen" in _page(admin_client, reverse("admin:ark_governor_changelist"))
    assert "Alice Ratqueen" in _page(admin_client, reverse("admin:ark_signup_changelist"))
    assert ">bob<" in _page(admin_client, reverse("admin:ark_ban_changelist"))
    assert "Alice Ratqueen" in _page(admin_client, reverse("admin:ark_match_change", args=[match.pk]))
    audit = admin_client.get(reverse("admin:ark_auditlog_changelist"))
    rows = audit.context["cl"].result_list
    assert any(row.actor_discord_id == ALICE for row in rows)
    assert "Alice Ratqueen" in audit.content.decode()
    table = audit.content.decode().split('id="result_list"')[1].split("</table>")[0]
    assert "Signed up" in table and "signup_added" not in table  # the action as words, not its code
    assert [g.name for g in admin_client.get(reverse("admin:ark_governor_changelist"), {"q": "ratqueen"})
            .context["cl"].result_list] == ["Gov Alice"]


def test_outbox_and_squad_memberships_show_names(admin_client, directory) -> None:
    from bot import outbox
    from economy.models import Squad, SquadMembership

    outbox.send_dm(ALICE, content="hi", topic="test")
    assert "member <span" in _page(admin_client, reverse("admin:bot_outboxmessage_changelist"))
    assert "Alice Ratqueen" in _page(admin_client, reverse("admin:bot_outboxmessage_changelist"))
    squad = Squad.objects.create(guild_id=1, role_id=5, name="Cheese")
    SquadMembership.objects.create(guild_id=1, user_id=BOB, squad=squad)
    assert ">bob<" in _page(admin_client, reverse("admin:economy_squadmembership_changelist"))


def test_transactions_show_both_sides_by_current_name(admin_client, directory) -> None:
    """Issue #11 point 1: the names stored with a transaction are the names of that day; the
    list shows today's (the stored one only for the bank or an unknown member)."""
    factories.bytes_transaction(ALICE, BOB, 5, guild_id=1, giver_username="alice_old", receiver_username="bob_old",
                                created_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    factories.bytes_transaction(0, ALICE, 7, guild_id=1, giver_username="Bank", receiver_username="alice_old",
                                kind="daily", created_at=dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    url = reverse("admin:economy_bytestransaction_changelist")
    page = _page(admin_client, url)
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page and f'title="Discord id {BOB}">bob<' in page
    assert "alice_old" not in page and "bob_old" not in page
    assert 'title="Discord id 0 (name when recorded)">Bank<' in page
    found = admin_client.get(url, {"q": "ratqueen"}).context["cl"].result_list
    assert sorted(t.amount for t in found) == [5, 7]


def test_moderation_cases_show_member_moderator_and_resolver_by_name(admin_client, directory) -> None:
    factories.moderation_case(ALICE, guild_id=1, user_tag="alice#0001", moderator_id=BOB, moderator_tag="bob#0002",
                              resolved=True, resolved_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), resolved_by=str(BOB))
    factories.moderation_case(BOB, "delete", "link", guild_id=1, user_tag="bob#0002", resolved=True,
                              resolved_at=dt.datetime(2030, 1, 2, tzinfo=dt.UTC), resolved_by="oldadmin")
    url = reverse("admin:economy_moderationcase_changelist")
    page = _page(admin_client, url)
    assert f'<td class="field-user_id_member"><span title="Discord id {ALICE}">Alice Ratqueen</span>' in page
    assert 'title="Discord id 0 (name when recorded)">AutoMod<' in page
    assert f'title="Discord id {BOB}">bob<' in page and ">oldadmin<" in page
    assert [c.user_id for c in admin_client.get(url, {"q": "ratqueen"}).context["cl"].result_list] == [ALICE]


def test_ratmas_participants_show_names(admin_client, directory) -> None:
    from ratmas import services
    from ratmas.models import Event

    now = dt.datetime.now(dt.UTC)
    event = services.create_event(1, now + dt.timedelta(days=10), now + dt.timedelta(days=20),
                                  now + dt.timedelta(days=30))
    services.join(event, ALICE, "Santa Alice")
    services.join(event, 999, "Stranger")
    page = _page(admin_client, reverse("admin:ratmas_participant_changelist"))
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page
    assert 'title="Discord id 999 (name when recorded)">Stranger<' in page
    found = admin_client.get(reverse("admin:ratmas_participant_changelist"), {"q": "ratqueen"}).context["cl"]
    assert [p.user_id for p in found.result_list] == [ALICE]
    inline = _page(admin_client, reverse("admin:ratmas_event_change", args=[Event.objects.get().pk]))
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in inline


def test_raid_helper_leader_shows_by_name(admin_client, directory) -> None:
    factories.raid_config(1, leader_discord_id=ALICE)
    page = _page(admin_client, reverse("admin:raids_raidhelpersettings_change", args=[1]))
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page
