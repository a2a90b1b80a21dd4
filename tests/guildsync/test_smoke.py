"""Every guildsync module imports (the seed's smoke test), and the reference data is loaded."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["guildsync.models", "guildsync.admin", "guildsync.api", "guildsync.urls", "guildsync.tasks",
           "guildsync.clients", "guildsync.demo", "guildsync.discord_commands", "guildsync.reference_data",
           "guildsync.services.common", "guildsync.services.discord_sync", "guildsync.services.db_sync",
           "guildsync.services.identity_engine", "guildsync.services.integrity_checker",
           "guildsync.services.reporter", "guildsync.services.pipeline", "guildsync.services.addon_processor"]


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name):
    assert importlib.import_module(name)


@pytest.mark.django_db
def test_reference_data_loaded():
    from guildsync.models import GuildRank, NotePattern, Specialization, WowClass

    assert WowClass.objects.count() == 13 and Specialization.objects.count() == 39
    assert Specialization.objects.get(blizzard_id=1473).default_role.name == "Ranged DPS"
    assert list(GuildRank.objects.values_list("name", flat=True)) == ["Guild Leader", "Officer", "Veteran",
                                                                      "Member", "Initiate"]
    assert NotePattern.objects.filter(kind="alt_of").count() == 5
    assert NotePattern.objects.filter(kind="discord").count() == 2
