"""The reference data is loaded by the migrations (every module's import is exercised by its own tests)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_reference_data_loaded():
    from guildsync.models import GuildRank, NotePattern, Specialization, WowClass

    assert WowClass.objects.count() == 13 and Specialization.objects.count() == 39
    assert Specialization.objects.get(blizzard_id=1473).default_role.name == "Ranged DPS"
    assert list(GuildRank.objects.values_list("name", flat=True)) == [
        "Guild Leader", "Officer", "Veteran", "Member", "Initiate", "Rank 5", "Rank 6", "Rank 7", "Rank 8", "Rank 9"]
    assert NotePattern.objects.filter(kind="alt_of").count() == 5
    assert NotePattern.objects.filter(kind="discord").count() == 2
