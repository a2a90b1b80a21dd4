"""Success messages that say what changed (issue 24, Smaller points): a change page of the
guild, economy and raids admins answers "Saved “X”: title, start time; 1 attendance row
changed." instead of Django's "was changed successfully"."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

pytestmark = pytest.mark.django_db


def saved_message(client, url: str, changes: dict) -> str:
    from tests.core.test_admin_hostile_forms import page_data

    data, _form = page_data(client.get(url).context)
    response = client.post(url, {**data, **changes})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_raid_event_edit_names_the_fields_changed(admin_client, demo_data):
    from raids.models import RaidEvent

    event = RaidEvent.objects.order_by("-start_time_utc").first()
    text = saved_message(admin_client, reverse("admin:raids_raidevent_change", args=[event.pk]),
                         {"title": "Mythic progression night"})
    event.refresh_from_db()
    assert text == f"Saved “{event}”: title." and str(event).startswith("Mythic progression night")
    assert "changed successfully" not in text


def test_a_player_edit_and_an_economy_setting(admin_client, demo_data):
    from economy.models import BytesConfig
    from guildsync.models import Player

    player = Player.objects.order_by("pk").first()
    text = saved_message(admin_client, reverse("admin:guildsync_player_change", args=[player.pk]),
                         {"notes": "Prefers healing on progression.", "on_raid_hiatus": "on"})
    assert text.startswith(f"Saved “{player.display_name}”: ") and "notes" in text and "raid hiatus" in text
    config = BytesConfig.objects.order_by("pk").first()
    text = saved_message(admin_client, reverse("admin:economy_bytesconfig_change", args=[config.pk]),
                         {"daily_amount": config.daily_amount + 5})
    assert text.startswith("Saved “") and "daily amount" in text


def test_nothing_changed_is_said_too():
    from core.admin_tools import SaysWhatChangedMixin

    assert SaysWhatChangedMixin.describe_change("Raid night", []) == "Saved “Raid night”: nothing changed."
    assert SaysWhatChangedMixin.describe_change("Raid night", [
        {"changed": {"fields": ["Title"]}},
        {"changed": {"name": "raid attendance", "object": "A", "fields": ["Status"]}},
        {"changed": {"name": "raid attendance", "object": "B", "fields": ["Status"]}},
        {"added": {"name": "raid attendance", "object": "C"}}]) == (
        "Saved “Raid night”: title; 2 raid attendance rows changed; 1 raid attendance row added.")
