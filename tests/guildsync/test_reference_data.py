"""``services.reference.load_reference_data``: a flushed database gets back what the migrations load, and
a loaded one is left as it is (officers' edits included)."""

from __future__ import annotations

import pytest

from guildsync.models import GuildRank, GuildRankRole, NotePattern, Role, Specialization, SyncLock, WowClass
from guildsync.reference_data import CLASSES, NOTE_PATTERNS, SPECIALIZATIONS, SYNC_LOCKS
from guildsync.services.reference import load_reference_data

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list]:
    return {
        "roles": sorted(Role.objects.values_list("name", flat=True)),
        "classes": sorted(WowClass.objects.values_list("blizzard_id", "name", "color_hex")),
        "specs": sorted(Specialization.objects.values_list("blizzard_id", "name", "wow_class__name",
                                                           "default_role__name")),
        "ranks": sorted(GuildRank.objects.values_list("blizzard_rank_index", "name", "level", "scheduling_weight",
                                                      "name_source")),
        "rank_roles": sorted(GuildRankRole.objects.values_list("rank__blizzard_rank_index", "role_name")),
        "notes": sorted(NotePattern.objects.values_list("name", "kind", "regex", "priority")),
        "locks": sorted(SyncLock.objects.values_list("name", flat=True)),
    }


def flush() -> None:
    for model in (GuildRankRole, GuildRank, Specialization, WowClass, Role, NotePattern, SyncLock):
        model.objects.all().delete()


def test_a_flushed_database_gets_the_migrations_data_back():
    migrated = snapshot()
    flush()
    assert not any(snapshot().values())
    load_reference_data()
    assert snapshot() == migrated
    assert len(migrated["classes"]) == len(CLASSES) and len(migrated["specs"]) == len(SPECIALIZATIONS)
    assert [r[1] for r in migrated["ranks"]] == ["Guild Leader", "Officer", "Veteran", "Member", "Initiate",
                                                "Rank 5", "Rank 6", "Rank 7", "Rank 8", "Rank 9"]
    assert (0, "GM") in migrated["rank_roles"] and (4, "Initiate") in migrated["rank_roles"]
    assert len(migrated["notes"]) == len(NOTE_PATTERNS) and migrated["locks"] == sorted(SYNC_LOCKS)


def test_a_loaded_database_is_left_as_it_is(django_assert_max_num_queries):
    officer = GuildRank.objects.get(blizzard_rank_index=1)
    officer.name, officer.name_source = "Raid Lead", GuildRank.NameSource.OFFICER
    officer.save()
    NotePattern.objects.filter(name="{X}").update(priority=99)
    GuildRankRole.objects.filter(role_name="GM").delete()
    before = snapshot()
    with django_assert_max_num_queries(12):
        load_reference_data()
    load_reference_data()
    assert snapshot() == before  # the renamed rank, the edited pattern, the removed "GM" role stay


def test_missing_rows_come_back_beside_the_edited_ones():
    GuildRank.objects.filter(blizzard_rank_index=7).delete()
    Specialization.objects.filter(blizzard_id=1473).delete()
    NotePattern.objects.filter(kind="discord").delete()
    load_reference_data()
    assert GuildRank.objects.get(blizzard_rank_index=7).name == "Rank 7"
    assert Specialization.objects.get(blizzard_id=1473).default_role.name == "Ranged DPS"
    assert NotePattern.objects.filter(kind="discord").count() == 2
