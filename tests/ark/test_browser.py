"""One officer workflow in a real browser: create a match in the admin, see the registration
message queued in the outbox."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from ark.models import Alliance, Match
from bot.models import OutboxMessage


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_creates_a_match_and_the_registration_is_queued(admin_login, django_user_model):
    ally = Alliance.objects.create(
        name="Osiris Guard", registration_channel_id=111, confirmation_channel_id=222
    )
    user = django_user_model.objects.create_user("ark_chief", password="ark-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Ark officers"))
    page = admin_login("ark_chief", "ark-pass-123")
    page.goto(page.url.split("/admin/")[0] + "/admin/ark/match/add/")
    page.select_option("#id_alliance", str(ally.pk))
    page.fill("#id_ark_weekend_date", "2030-03-09")
    page.select_option("#id_match_day", "Sat")
    page.fill("#id_match_time_utc_0", "2030-03-09")
    page.fill("#id_match_time_utc_1", "12:00:00")
    page.fill("#id_signup_close_utc_0", "2030-03-08")
    page.fill("#id_signup_close_utc_1", "20:00:00")
    page.fill("#id_notes", "Teleport at 11:50")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert "was added successfully" in page.inner_text(".messagelist")
    match = Match.objects.get()
    [row] = OutboxMessage.objects.filter(topic="ark.registration")
    assert row.channel_id == 111 and row.status == "pending"
    assert f"ark:join_player:{match.pk}" in str(row.payload["components"])
    # and the match is listed for the officers
    page.goto(page.url.split("/admin/")[0] + "/admin/ark/match/")
    assert "Osiris Guard" in page.inner_text("#result_list")
