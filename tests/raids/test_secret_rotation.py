"""Issue #14 point 5: a Raid-Helper key rotated in the admin is used by the very next task,
without a restart (the client reads the encrypted setting when the run builds it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core import services
from tests import factories


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    settings.FIELD_ENCRYPTION_KEY = "field-encryption-key-for-tests"


def test_a_rotated_raid_helper_key_is_used_on_the_very_next_task(fake_raid_helper, settings, make_event,
                                                                 raid_night, make_player):
    from raids import tasks
    settings.RAID_HELPER_API_KEY = ""  # the fixture put the fake's key in the environment: use the admin's
    factories.raid_config(fake_raid_helper.server_id)
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    services.set_secret("RAID_HELPER_API_KEY", "revoked-key", "leader")
    first = tasks.auto_book_task.apply().get()
    assert first["configured"] and first["failed"] == 1  # Raid-Helper refused the old key
    services.set_secret("RAID_HELPER_API_KEY", fake_raid_helper.api_key, "leader")  # rotated in the admin
    second = tasks.auto_book_task.apply().get()
    assert second["booked"] == 1  # no restart: the next run used the new key
    source.refresh_from_db()
    assert source.next_event is not None
    sent = fake_raid_helper.calls("POST", r"/channels/")
    assert [c.headers.get("Authorization") for c in sent] == [fake_raid_helper.api_key]
