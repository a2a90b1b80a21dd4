"""Wherever the admin shows a Discord user it shows the member's current name (the raw id on
hover) and finds rows by that name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from guildsync.models import DiscordUser

pytestmark = pytest.mark.django_db

ALICE, BOB = 222_000_000_000_000_001, 222_000_000_000_000_002


@pytest.fixture
def directory():
    DiscordUser.objects.create(discord_id=ALICE, username="alice", display_name="Alice Ratqueen")
    DiscordUser.objects.create(discord_id=BOB, username="bob", display_name="")


def _page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_balances_and_leaderboard_show_names(admin_client, directory) -> None:
    from economy.models import BytesBalance

    BytesBalance.objects.create(guild_id=1, user_id=ALICE, balance=50)
    BytesBalance.objects.create(guild_id=1, user_id=BOB, balance=40)
    url = reverse("admin:economy_bytesbalance_changelist")
    page = _page(admin_client, url)
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page and ">bob<" in page
    found = admin_client.get(url, {"q": "ratqueen"}).context["cl"].result_list
    assert [b.user_id for b in found] == [ALICE]
    assert [b.user_id for b in admin_client.get(url, {"q": str(BOB)}).context["cl"].result_list] == [BOB]
    board = _page(admin_client, reverse("admin:economy_bytesbalance_leaderboard"), guild_id=1)
    assert "#1 Alice Ratqueen" in board and "#2 bob" in board


def test_unknown_member_shows_the_raw_id(admin_client, directory) -> None:
    from economy.models import BytesBalance

    BytesBalance.objects.create(guild_id=1, user_id=999, balance=5)
    assert 'title="not in the member directory">999<' in _page(
        admin_client, reverse("admin:economy_bytesbalance_changelist"))


def test_ark_signups_governors_bans_and_audit_log_show_names(admin_client, directory) -> None:
    from ark import services
    from ark.models import Alliance

    now = dt.datetime(2030, 3, 6, 12, 0, tzinfo=dt.UTC)  # a Wednesday; the match on the Saturday after
    start = dt.datetime(2030, 3, 9, 12, 0, tzinfo=dt.UTC)
    match = services.create_match(alliance=Alliance.objects.create(name="Rats", registration_channel_id=5, confirmation_channel_id=6),
                                  ark_weekend_date=start.date(),
                                  match_day="Sat", match_time_utc=start, signup_close_utc=start - dt.timedelta(hours=9),
                                  now=now)
    services.register_governor(governor_id=77, name="Gov Alice", discord_user_id=ALICE)
    services.add_signup(match_id=match.pk, governor_id=77, discord_user_id=ALICE, actor_discord_id=ALICE, now=now)
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
    assert "Signup added" in table and "signup_added" not in table  # the action as words, not its code
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
    from economy.models import BytesTransaction

    BytesTransaction.objects.create(guild_id=1, giver_id=ALICE, giver_username="alice_old", receiver_id=BOB,
                                    receiver_username="bob_old", amount=5, created_at=dt.datetime(2030, 1, 1,
                                                                                                  tzinfo=dt.UTC))
    BytesTransaction.objects.create(guild_id=1, giver_id=0, giver_username="Bank", receiver_id=ALICE,
                                    receiver_username="alice_old", amount=7, kind="daily",
                                    created_at=dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    url = reverse("admin:economy_bytestransaction_changelist")
    page = _page(admin_client, url)
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page and f'title="Discord id {BOB}">bob<' in page
    assert "alice_old" not in page and "bob_old" not in page
    assert 'title="Discord id 0 (name when recorded)">Bank<' in page
    found = admin_client.get(url, {"q": "ratqueen"}).context["cl"].result_list
    assert sorted(t.amount for t in found) == [5, 7]


def test_moderation_cases_show_member_moderator_and_resolver_by_name(admin_client, directory) -> None:
    from economy.models import ModerationCase

    ModerationCase.objects.create(guild_id=1, user_id=ALICE, user_tag="alice#0001", moderator_id=BOB,
                                  moderator_tag="bob#0002", action="warn", reason="spam", resolved=True,
                                  resolved_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), resolved_by=str(BOB))
    ModerationCase.objects.create(guild_id=1, user_id=BOB, user_tag="bob#0002", moderator_id=0,
                                  moderator_tag="AutoMod", action="delete", reason="link", resolved=True,
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
    from raids.models import RaidHelperSettings

    RaidHelperSettings.objects.create(server_id="1", leader_discord_id=ALICE)
    page = _page(admin_client, reverse("admin:raids_raidhelpersettings_change", args=[1]))
    assert f'title="Discord id {ALICE}">Alice Ratqueen<' in page
