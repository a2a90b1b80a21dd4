"""The raid event page for officers (issue 24, Found 8 / Build 8), read on the demo data: what
the event is and its roster first, then the attendance rows; the import and booking state
read-only and folded away after them; and no two labels that contradict each other."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from raids.models import RaidEvent

pytestmark = pytest.mark.django_db

INTERNAL = ("raid_helper_payload", "next_booked_at", "next_event", "signups_imported_at", "raid_helper_pending",
            "raid_helper_pushed_at", "raid_helper_push_error", "signup_import_report", "wcl_import_report",
            "wcl_import_status", "wcl_imported_at", "auto_booked")


def page_of(admin_client, event: RaidEvent) -> str:
    response = admin_client.get(reverse("admin:raids_raidevent_change", args=[event.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("auto_booked", [True, False])
def test_event_first_attendance_next_internal_state_folded_at_the_end(admin_client, demo_data, auto_booked):
    event = RaidEvent.objects.filter(auto_booked=auto_booked).order_by("-start_time_utc").first()
    assert event is not None, "the demo data has auto-booked and hand-entered events"
    html = page_of(admin_client, event)
    title, attendance = html.index('name="title"'), html.index('id="attendance-group"')
    folded = html.index("Imports and bookkeeping (read-only)")
    assert title < html.index('class="form-row field-live_roster') < attendance < folded
    details = html.rfind("<details", 0, folded)  # Django 5 folds a "collapse" fieldset in <details>
    assert attendance < details and html[details:html.index(">", details)] == "<details"  # not "open"
    for field in INTERNAL:  # never an input: read-only or not on the page at all
        assert not re.search(rf'name="{field}"', html), field
    assert 'name="raid_helper_payload"' not in html and "{}</textarea>" not in html


def test_the_page_says_how_the_event_was_made_once_and_agrees_with_itself(admin_client, demo_data):
    auto = RaidEvent.objects.filter(auto_booked=True).first()
    hand = RaidEvent.objects.filter(auto_booked=False).first()
    auto_html, hand_html = page_of(admin_client, auto), page_of(admin_client, hand)
    assert "The auto-booking job" in auto_html and "An officer (entered or booked here by hand)" not in auto_html
    assert "An officer (entered or booked here by hand)" in hand_html and "The auto-booking job" not in hand_html
    for html in (auto_html, hand_html):
        assert "entered by hand:" not in html  # the Raid-Helper state no longer guesses how it was made
        assert "Auto booked" not in html  # the list's column; the page says it in words ("Made by")
