"""Issue #12, defect 5: Raid-Helper shapes. Lowercase bodies, Classic and Season of Discovery
class/spec names, and every sign-up the importer could not place counted and logged with its
reason (SyncLog, the event's admin page) — never a silent 0.

The sign-up entries below have the shapes of real recorded Raid-Helper bodies (keys, className
/ roleName / specName combinations; sources cited in ``raids/services.py``): a Classic event
(className = the WoW class, roleName = the slot, "Combat" rogues, "Holy1" paladins) and a
Season of Discovery "wowsod" event (className = the slot, a "Demonology" warlock under Tank,
"Smite" under Ranged, a Late sign-up keeping its spec). Names and ids are ours.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from guildsync.models import SyncLog
from raids import services
from raids.models import RaidAttendance
from tests.factories import specialization as spec

S = RaidAttendance.Status


def test_defect5_lowercase_body_imports_signups(raid_config, finished_event, make_player, fake_raid_helper):
    event, rh = finished_event
    a, b = make_player("Alpha"), make_player("Beta", spec=("Fury", "Warrior"))
    fake_raid_helper._store_signup(rh, {"userId": a.discord_user.discord_id, "className": "Healer",
                                        "specName": "Holy1", "roleName": "Healers"})
    fake_raid_helper._store_signup(rh, {"userId": b.discord_user.discord_id, "className": "Melee",
                                        "specName": "Fury", "roleName": "Dps"})
    fake_raid_helper.lowercase = True  # {"signups": [{"userid": …, "classname": …, "specname": …}]}

    report = services.import_signups(event)

    assert (report.signups, report.created, report.unmatched) == (2, 2, 0)
    rows = {r.player_id: r for r in event.attendance.select_related("specialization", "role")}
    assert rows[a.pk].specialization == spec("Holy", "Paladin") and rows[a.pk].role.name == "Healer"
    assert rows[b.pk].specialization == spec("Fury", "Warrior") and rows[b.pk].role.name == "Melee DPS"


def test_defect5_classic_and_season_of_discovery_names(raid_config, finished_event, make_player, fake_raid_helper):
    event, rh = finished_event
    cases = [  # (player, main spec, sign-up as Raid-Helper records it) → (status, spec, role, late)
        ("Rogue", ("Assassination", "Rogue"), {"className": "Rogue", "roleName": "Melee", "specName": "Combat"},
         (S.ACCEPTED, ("Outlaw", "Rogue"), "Melee DPS", False)),
        ("Paly", ("Holy", "Paladin"), {"className": "Paladin", "roleName": "Healers", "specName": "Holy1"},
         (S.ACCEPTED, ("Holy", "Paladin"), "Healer", False)),
        ("Lock", ("Destruction", "Warlock"), {"className": "Tank", "roleName": "Tanks", "specName": "Demonology"},
         (S.ACCEPTED, ("Demonology", "Warlock"), "Tank", False)),
        ("Prot", ("Protection", "Warrior"), {"className": "Tank", "roleName": "Tanks", "specName": "Protection1"},
         (S.ACCEPTED, ("Protection", "Paladin"), "Tank", False)),
        ("Shammy", ("Elemental", "Shaman"), {"className": "Healer", "roleName": "Healers",
                                             "specName": "Restoration1"},
         (S.ACCEPTED, ("Restoration", "Shaman"), "Healer", False)),
        ("Meleepal", ("Retribution", "Paladin"), {"className": "Melee", "roleName": "Dps", "specName": "Holy1"},
         (S.ACCEPTED, ("Holy", "Paladin"), "Melee DPS", False)),
        ("Latecomer", ("Retribution", "Paladin"), {"className": "Late", "roleName": "Melee",
                                                   "specName": "Retribution"},
         (S.ACCEPTED, ("Retribution", "Paladin"), "Melee DPS", True)),
        ("Benched", ("Fury", "Warrior"), {"className": "Bench", "specName": "Fury"},
         (S.BENCH, ("Fury", "Warrior"), "Melee DPS", False)),
        ("Smiter", ("Discipline", "Priest"), {"className": "Ranged", "roleName": "Dps", "specName": "Smite"},
         (S.ACCEPTED, None, "Ranged DPS", False)),
    ]
    players = {}
    for name, main, signup, _expected in cases:
        players[name] = make_player(name, spec=main)
        fake_raid_helper._store_signup(rh, {"userId": players[name].discord_user.discord_id, "name": name, **signup})

    report = services.import_signups(event)

    assert report.created == len(cases) and not report.unplaced
    rows = {r.player_id: r for r in event.attendance.select_related("specialization__wow_class", "role")}
    for name, _main, _signup, (status, expected_spec, role, late) in cases:
        row = rows[players[name].pk]
        assert (row.status, row.role.name, row.signed_up_late) == (status, role, late), name
        assert row.specialization == (spec(*expected_spec) if expected_spec else None), name
    # the one spec the game data has no match for is reported, not guessed
    assert [(i["name"], i["reason"]) for i in report.incomplete] == [("Smiter", "spec 'Smite' matches no spec of a "
                                                                                "Priest")]


def test_defect5_signups_not_placed_are_counted_and_logged(raid_config, finished_event, make_player, fake_raid_helper,
                                                           officer, client):
    event, rh = finished_event
    known = make_player("Known")
    fake_raid_helper._store_signup(rh, {"userId": known.discord_user.discord_id, "className": "Tank",
                                        "specName": "Blood"})
    fake_raid_helper._store_signup(rh, {"userId": 4242, "name": "Stranger", "className": "Melee",
                                        "specName": "Fury"})
    fake_raid_helper._store_signup(rh, {"userId": None, "name": "Ghost", "className": "Absence"})

    report = services.import_signups(event, triggered_by="raidlead")

    assert (report.signups, report.created, report.unmatched) == (3, 1, 2)
    assert [(u["name"], u["reason"]) for u in report.unplaced] == [
        ("Stranger", "this Discord account is no player here (link it in Guild officers → Players)"),
        ("Ghost", "no Discord user id")]
    log = SyncLog.objects.get(source=SyncLog.Source.RAID_HELPER)
    assert log.status == SyncLog.Status.PARTIAL and log.triggered_by == "raidlead"
    assert log.stats["unplaced_count"] == 2 and log.stats["event_id"] == event.pk
    assert "Stranger: this Discord account is no player here" in log.error
    event.refresh_from_db()
    assert event.signup_import_report["unplaced_count"] == 2
    client.force_login(officer("Raid officers"))
    page = client.get(reverse("admin:raids_raidevent_change", args=[event.pk])).content.decode()
    assert "3 sign-up(s): 1 new, 0 updated; 2 not placed" in page and "no Discord user id" in page
    url = reverse("admin:raids_raidevent_changelist")
    answer = client.post(url, {"action": "import_signups", "_selected_action": [event.pk]}, follow=True)
    assert "2 not placed (Stranger: this Discord account is no player here" in answer.content.decode()


def test_defect5_an_answer_without_a_signup_list_is_an_error_not_zero(raid_config, finished_event, make_player,
                                                                       fake_raid_helper):
    event, rh = finished_event
    fake_raid_helper._store_signup(rh, {"userId": make_player("A").discord_user.discord_id, "className": "Bench"})
    fake_raid_helper.signups_key = None
    with pytest.raises(services.RaidsError, match="no sign-up list"):
        services.import_signups(event)
    assert not event.attendance.exists()
    event.refresh_from_db()
    assert event.signups_imported_at is None
    counts = services.import_finished_events()
    assert counts["failed"] == 1 and counts["imported"] == 0


def test_defect5_clean_import_is_logged_too(raid_config, finished_event, make_player, fake_raid_helper):
    event, rh = finished_event
    fake_raid_helper._store_signup(rh, {"userId": make_player("A").discord_user.discord_id, "className": "Bench"})
    services.import_signups(event)
    log = SyncLog.objects.get(source=SyncLog.Source.RAID_HELPER)
    assert log.status == SyncLog.Status.SUCCESS and log.stats["signups"] == 1 and log.stats["unplaced_count"] == 0
