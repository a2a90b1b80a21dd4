"""One officer workflow in a real browser: create a match in the admin, see the registration
message queued in the outbox."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from ark.models import Match
from bot.models import OutboxMessage
from tests.factories import ARK_CONF_CHANNEL, ARK_REG_CHANNEL, ark_alliance, ark_governor, ark_user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_creates_a_match_and_the_registration_is_queued(admin_login, django_user_model):
    from ark import services

    ally = ark_alliance("Osiris Guard")
    services.save_calendar(alliance=ally, slots=["Sat 12:00", "Sun 04:00"])
    user = django_user_model.objects.create_user("ark_chief", password="ark-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Ark officers"))
    page = admin_login("ark_chief", "ark-pass-123")
    page.goto(page.url.split("/admin/")[0] + "/admin/ark/match/add/")
    page.click("#id_alliance + .select2")  # the alliance picker searches by name (admin autocomplete)
    page.fill(".select2-search__field", "Osiris")
    page.click(".select2-results__option:has-text('Osiris Guard')")
    weekend = page.eval_on_selector_all("#id_weekend option", "os => os.map(o => o.value)")[1]  # the second Ark weekend
    page.select_option("#id_weekend", weekend)
    page.select_option("#id_slot", "Sat 12:00")
    page.fill("#id_notes", "Teleport at 11:50")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    match = Match.objects.get()
    assert f"Created {match}: signups close" in page.inner_text(".messagelist")
    assert match.ark_weekend_date.isoformat() == weekend and match.match_time_utc.hour == 12
    [row] = OutboxMessage.objects.filter(topic="ark.registration")
    assert row.channel_id == ARK_REG_CHANNEL and row.status == "pending"
    assert f"ark:join_player:{match.pk}" in str(row.payload["components"])
    # and the match is listed for the officers
    page.goto(page.url.split("/admin/")[0] + "/admin/ark/match/")
    assert "Osiris Guard" in page.inner_text("#result_list")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_season_workflow_import_lock_draft_adjust_publish(admin_login, django_user_model, tmp_path):
    import datetime as dt

    from ark import services
    from ark.models import ArkSettings, Signup

    ArkSettings.objects.update_or_create(pk=1, defaults={"anchor_weekend": dt.date(2030, 3, 9)})
    ally = ark_alliance("Osiris Guard", player_cap=4, sub_cap=1)
    now = dt.datetime(2030, 3, 6, 12, tzinfo=dt.UTC)
    match = services.create_match(
        alliance=ally, ark_weekend_date=dt.date(2030, 3, 9), match_day="Sat",
        match_time_utc=dt.datetime(2030, 3, 9, 12, tzinfo=dt.UTC),
        signup_close_utc=dt.datetime(2030, 3, 8, 23, tzinfo=dt.UTC), now=now,
    )
    for n in range(1, 6):
        ark_governor(n)
        services.add_signup(match_id=match.pk, governor_id=n, discord_user_id=ark_user(n), now=now)
    user = django_user_model.objects.create_user("ark_chief", password="ark-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Ark officers"))
    page = admin_login("ark_chief", "ark-pass-123")
    base = page.url.split("/admin/")[0] + "/admin/ark"

    # 1. import the stats
    csv = tmp_path / "stats.csv"
    csv.write_text("Governor ID,Name,Power,Kill Points,City Hall\n1,Gov1,90000000,1,25\n2,Gov2,80000000,1,25\n"
                   "3,Gov3,70000000,1,24\n4,Gov4,60000000,1,23\n5,Gov5,10000000,1,22\n99,Ghost,1,1,1\n")
    page.goto(f"{base}/governor/")
    page.click("text=Import stats")
    page.set_input_files("#id_file", str(csv))
    page.click("#import-stats-form input[type=submit]")
    page.wait_for_selector("#import-summary")
    assert page.inner_text("#import-summary") == "5 updated, 0 unchanged, 1 refused"
    assert "unknown governor 99" in page.inner_text("#import-report")

    def match_action(action: str) -> str:
        page.goto(f"{base}/match/")
        page.check(f"input[name=_selected_action][value='{match.pk}']")
        page.select_option("select[name=action]", action)
        page.click("button[name=index]")
        page.wait_for_selector(".messagelist, #confirm-action")
        if page.locator("#confirm-action").count():  # who is messaged, before anything is done
            assert "Nothing has changed yet." in page.inner_text("#confirm-action")
            page.click("#confirm-action input[name=confirmed]")
            page.wait_for_selector(".messagelist")
        return page.inner_text(".messagelist")

    # 2. lock, 3. draft
    assert "Locked: 1 done." in match_action("lock")
    assert "teams drafted, 150,000,000 vs 150,000,000 power" in match_action("draft")
    # 4. adjust: move a team-2 player to team 1 from the signups page linked on the match page
    page.goto(f"{base}/match/{match.pk}/change/")
    assert "Gap: 0" in page.inner_text(".draft-summary + p")
    page.click("text=Adjust on the signups page")
    mover = Signup.objects.filter(match=match, team=2).select_related("governor").first()
    page.check(f"input[name=_selected_action][value='{mover.pk}']")
    page.select_option("select[name=action]", "move_to_team_1")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "Moved to team 1: 1 done." in page.inner_text(".messagelist")
    assert "Team 1: 3 players" in page.inner_text(".messagelist") and "· gap " in page.inner_text(".messagelist")
    page.goto(f"{base}/match/{match.pk}/change/")
    assert "Team 1 · 3 players" in page.inner_text(".draft-summary")
    # 5. publish: the teams go to the confirmation channel through the outbox
    assert "Draft published: 1 done." in match_action("publish_draft")
    [post] = OutboxMessage.objects.filter(topic="ark.draft")
    assert post.channel_id == ARK_CONF_CHANNEL and post.payload["embeds"][0]["title"].endswith("· Teams")
    assert mover.governor.name in post.payload["embeds"][0]["fields"][0]["value"]
