"""The member directory: names recorded from interactions, read by the admin."""

from __future__ import annotations

import pytest
from django.db.models import F

from guildsync.models import DiscordUser
from guildsync.services import members

pytestmark = pytest.mark.django_db

ALICE = 222_000_000_000_000_001


def test_record_member_creates_then_updates_only_on_change(django_assert_num_queries) -> None:
    assert members.record_member(ALICE, "alice", "Alice the Brave", in_server=True)
    user = DiscordUser.objects.get(discord_id=ALICE)
    assert (user.username, user.display_name, user.is_present) == ("alice", "Alice the Brave", True)
    with django_assert_num_queries(1):  # the hot path: one indexed read, no write
        assert not members.record_member(ALICE, "alice", "Alice the Brave")
    assert not members.record_member(ALICE, "alice", "")  # no display name given: the known one stays
    assert members.record_member(ALICE, "alice", "  Alice\n of Rats ")
    assert DiscordUser.objects.get(discord_id=ALICE).display_name == "Alice of Rats"


def test_record_member_seen_outside_the_server_is_not_made_present() -> None:
    members.record_member(ALICE, "alice", "Alice", in_server=False)
    assert DiscordUser.objects.get(discord_id=ALICE).is_present is False


def test_record_member_ignores_nonsense() -> None:
    assert not members.record_member(0, "nobody")
    assert not members.record_member(ALICE, "   ")
    assert not DiscordUser.objects.exists()


def test_names_for_and_name_expression() -> None:
    DiscordUser.objects.create(discord_id=ALICE, username="alice", display_name="")
    DiscordUser.objects.create(discord_id=ALICE + 1, username="bob", display_name="Bobby")
    assert members.names_for([ALICE, ALICE + 1, ALICE + 2]) == {ALICE: "alice", ALICE + 1: "Bobby"}
    rows = DiscordUser.objects.annotate(me=F("discord_id")).annotate(shown=members.name_expression("me"))
    assert sorted(rows.values_list("shown", flat=True)) == ["Bobby", "alice"]
    assert set(DiscordUser.objects.filter(discord_id__in=members.ids_matching("BOB"))
               .values_list("username", flat=True)) == {"bob"}


@pytest.mark.django_db(transaction=True)
def test_record_member_races_create_one_row(run_in_parallel) -> None:
    results = run_in_parallel(lambda i: members.record_member(ALICE, "alice", f"Alice {i}"), 4)
    assert not [r for r in results if isinstance(r, BaseException)]
    assert DiscordUser.objects.filter(discord_id=ALICE).count() == 1
