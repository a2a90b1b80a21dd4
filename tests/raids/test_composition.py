"""Composition that knows the roster: a sign-up without a spec takes the role of the player's
main spec (an officer's choice, else the main character's active spec); what stays unknown is
listed under "No role" with why; booking messages explain tentative and bench outcomes."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from raids import roster
from raids.models import RaidAttendance, RaidEvent
from tests import factories

pytestmark = pytest.mark.django_db
Status = RaidAttendance.Status


def test_the_demos_next_raid_has_every_accepted_player_in_a_role() -> None:
    from guildsync.demo import seed_demo as seed_guild
    from raids.demo import seed_demo as seed_raids

    seed_guild(io.StringIO())
    seed_raids(io.StringIO())
    event = RaidEvent.objects.filter(start_time_utc__gt=timezone.now()).order_by("start_time_utc").first()
    live = roster.live_roster(event)
    assert event.attendance.filter(status=Status.ACCEPTED).exists()
    assert live.no_role == []
    assert sum(len(names) for names in live.by_role.values()) == event.attendance.filter(
        status=Status.ACCEPTED).count()
    assert not any(line.startswith("No role") for line in live.lines())
    assert "No role" not in roster.next_roster_text()  # /raid roster reads the same


def _signed(player, event, **fields) -> RaidAttendance:
    return RaidAttendance.objects.create(event=event, player=player, status=Status.ACCEPTED, **fields)


def test_main_spec_comes_from_the_main_character_unless_an_officer_chose_one() -> None:
    event = factories.raid_event(factories.raid_night(wanted_tanks=1, wanted_healers=1),
                                 timezone.now() + dt.timedelta(days=2))
    from_character = factories.raid_player("Aelith", spec=("Holy", "Paladin"))
    from_character.main_spec = None  # only Blizzard's active spec is known
    from_character.save()
    overridden = factories.raid_player("Borin", spec=("Holy", "Paladin"))
    overridden.main_spec = factories.specialization("Protection", "Paladin")  # the officer's override
    overridden.save()
    _signed(from_character, event)
    _signed(overridden, event)
    live = roster.live_roster(event)
    assert live.by_role == {"Healer": ["Aelith (Holy)"], "Tank": ["Borin (Protection)"]}
    assert roster.effective_main_spec(from_character).name == "Holy"
    assert roster.effective_main_spec(overridden).name == "Protection"


def test_no_role_says_why() -> None:
    event = factories.raid_event(factories.raid_night(), timezone.now() + dt.timedelta(days=2))
    _signed(factories.raid_player("Fen", main=False, spec=None), event)
    _signed(factories.raid_player("Gorm", spec=None), event)
    live = roster.live_roster(event)
    assert live.no_role == ["Fen (no main character)",
                            "Gorm (no spec on the sign-up or the player; main character's spec unknown)"]
    assert "No role (2): Fen (no main character)" in "\n".join(live.lines())


def test_booking_summary_explains_tentative_and_bench() -> None:
    event = factories.raid_event(factories.raid_night(), timezone.now() + dt.timedelta(days=2))
    people = factories.raid_roster("accepted", "tentative", "bench", "absence")
    for kind, status in (("accepted", Status.ACCEPTED), ("tentative", Status.TENTATIVE), ("bench", Status.BENCH),
                         ("absence", Status.ABSENCE)):
        RaidAttendance.objects.create(event=event, player=people[kind], status=status)
    text = roster.booking_summary(event)
    assert "1 accepted" in text
    assert "1 tentative: their players don't have Auto invite" in text
    assert "1 bench: their guild rank is below level 2" in text
    assert "1 absent: on raid hiatus" in text
