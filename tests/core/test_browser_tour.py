"""The officers' tour in a real browser (Playwright + Debian's Chromium), on the demo data
(``manage.py seed_demo``): every officer workflow of issue #11 once — the dashboard and its
links, recording an Ark result, booking next week without Raid-Helper, the attendance report,
the roster composition, drawing the Secret Santa, retrying an outbox message without a bot
token, and signing in with Discord against the fake OAuth server — and the steps of issue #24
outside Ark: fixing an integrity issue from its page and linking a character from its page
(player by name; the issue closes itself), the upload help, a raid event edit that says what
changed, an auto-moderation rule from its type's form. The rest of #24 is walked elsewhere in
Chromium: the Ark steps in tests/ark/test_browser_officer.py, saving the Raid-Helper key on the
run command's setup in tests/core/test_secret_settings.py, the columns in
tests/core/test_browser_layout.py and the chart contrast in tests/core/test_browser_charts.py.

The tour's screenshots (README "Officer's tour") are rewritten only with ``UPDATE_TOUR=1``,
so a normal run never dirties the tree: ``UPDATE_TOUR=1 ./scripts/test.sh tests/core/test_browser_tour.py``."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from guildsync.services.reference import load_reference_data
from tests.fakes.discord_oauth import DiscordMember, FakeDiscordOAuth

TOUR_DIR = Path(__file__).resolve().parents[2] / "docs" / "tour"
PASSWORD = "tour-admin-pass-1"


def shot(page, name: str) -> None:
    png = page.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    if os.environ.get("UPDATE_TOUR") == "1":
        TOUR_DIR.mkdir(parents=True, exist_ok=True)
        (TOUR_DIR / f"{name}.png").write_bytes(png)


def follow(page, selector: str) -> None:
    """Click a link and wait for the page it opens."""
    with page.expect_navigation():
        page.locator(selector).first.click()


def run_action(page, row: str | int, action: str) -> str:
    """Tick the changelist row containing the text ``row`` (or of primary key ``row``), run
    ``action``, return the messages."""
    if isinstance(row, int):
        page.locator(f'input.action-select[value="{row}"]').check()
    else:
        page.locator("#result_list tbody tr", has_text=row).first.locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")
    if page.locator("#confirm-action").count():  # who is affected, nothing done yet: confirm
        assert "Nothing has changed yet." in page.inner_text("#confirm-action")
        with page.expect_navigation():
            page.click("#confirm-action input[name=confirmed]")
    message = page.locator("ul.messagelist li").first
    message.wait_for()
    return page.locator("ul.messagelist").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officers_tour(admin_login, live_server, django_user_model, settings):
    from ark.models import Match
    from raids.models import RaidEvent
    from ratmas.models import Event

    settings.DISCORD_TOKEN = ""
    load_reference_data()  # a transactional test before this one flushed the migrations' reference data
    call_command("seed_demo", stdout=io.StringIO())
    django_user_model.objects.create_superuser("officer", password=PASSWORD)
    page = admin_login("officer", PASSWORD)
    page.set_viewport_size({"width": 1600, "height": 1000})

    # the dashboard: what needs an officer now
    page.goto(f"{live_server.url}/admin/")
    dashboard = page.locator("#officer-dashboard")
    assert "messages are queued but not sent" in page.locator(".dashboard-notice").inner_text()
    for text in ("failed for good", "awaiting a result", "ready to draw", "accepted"):
        assert text in dashboard.inner_text(), text
    assert page.locator("#system-heading").is_visible()
    shot(page, "dashboard")
    follow(page, "text=View site")
    assert page.url == f"{live_server.url}/admin/"

    # Ark: the dashboard's link lists the started match; record its result
    follow(page, "#panel-ark >> text=awaiting a result")
    assert page.locator("#result_list tbody tr").count() == 1
    assert "Result Win: 1 done." in run_action(page, "Desert Lions", "set_result_win")
    assert Match.objects.get(alliance__name="Desert Lions", result="Win").status == "Completed"

    # Raids: the next raid's roster, then book the week after it without Raid-Helper
    page.goto(f"{live_server.url}/admin/")
    follow(page, "#panel-raids >> text=Sign-ups of this raid")
    next_raid = RaidEvent.objects.filter(start_time_utc__gt=timezone.now()).order_by("start_time_utc", "pk").first()
    assert page.locator("#result_list tbody tr").count() == next_raid.attendance.count() > 0
    shot(page, "roster")
    page.goto(f"{live_server.url}/admin/")
    follow(page, "#panel-raids li a")
    page.locator(".inline-group").first.wait_for()  # the event's page with its attendance inline
    composition = page.locator(".field-live_roster").inner_text()
    assert "Tanks" in composition and "No role" not in composition  # every accepted player has a role
    assert page.locator("fieldset.collapse, details").count() >= 1  # the bookkeeping folded away
    upcoming = (RaidEvent.objects.filter(next_booked_at__isnull=True, recurring_event__isnull=False,
                                         start_time_utc__gt=timezone.now()).order_by("start_time_utc").first())
    page.goto(f"{live_server.url}/admin/raids/raidevent/?booking=pending")
    message = run_action(page, upcoming.pk, "book_next_now")
    assert "here only (Raid-Helper is not configured" in message, message
    assert "tentative: their players don't have Auto invite" in message, message  # the outcome explained
    upcoming.refresh_from_db()
    assert upcoming.next_event is not None and upcoming.next_event.raid_helper_event_id == ""

    # Raids: the season's attendance report, sorted by %, beside its weekly chart
    page.goto(f"{live_server.url}/admin/raids/raidseason/")
    follow(page, '#result_list tr:has-text("Demo season") >> text=report')
    assert "raids held" in page.locator("#raids-held").inner_text()
    follow(page, "#attendance-table >> text=Attendance %")
    assert page.locator("#attendance-chart rect").count() >= 6
    from raids import reports
    from raids.models import RaidSeason

    expected = len(reports.season_report(RaidSeason.objects.get(name="Demo season")).players)
    assert page.locator("#attendance-table tbody tr").count() == expected >= 5
    shot(page, "attendance")

    # Guildsync: the roster composition chart
    page.goto(f"{live_server.url}/admin/guildsync/wowcharacter/")
    follow(page, "text=Roster composition")
    page.locator("svg").first.wait_for()
    shot(page, "composition")

    # Guildsync (issue 24, Build 10): the dashboard names the issue in plain words; the officer
    # opens one, fixes it by linking the character to a player chosen by name, and it closes itself
    from guildsync.models import AuditIssue, Player

    page.goto(f"{live_server.url}/admin/")
    follow(page, "a:has-text('Character not linked to a player')")
    assert "orphan" not in page.locator("#result_list").inner_text().lower()
    issue = AuditIssue.objects.filter(issue_type="orphan_wow", resolved_at__isnull=True).order_by("pk").first()
    page.goto(f"{live_server.url}/admin/guildsync/auditissue/{issue.pk}/change/")
    assert "Link the character to the player who plays it" in page.locator(".field-how_to_fix").inner_text()
    follow(page, "a.fix-issue")
    player = Player.objects.filter(is_active=True).order_by("display_name").first()
    page.click(".select2-selection--single")
    page.fill(".select2-search__field", player.display_name[:5])
    page.locator(".select2-results__option", has_text=player.display_name).first.click()
    shot(page, "fix_issue")
    with page.expect_navigation():
        page.click("input[type=submit][value='Link and close the issue']")
    message = page.locator("ul.messagelist").inner_text()
    assert f"linked to {player.display_name}" in message and "fixed by officer" in message, message
    issue.refresh_from_db()
    assert issue.resolution == "fixed" and issue.resolved_by == "officer" and issue.resolved_at is not None
    assert "Fixed by an officer's change" in page.locator("#content").inner_text()

    # Guildsync: a character page links it to a player by name (the same service)
    from guildsync.models import WowCharacter

    stray = WowCharacter.objects.filter(player_link__isnull=True, removed_at__isnull=True).order_by("pk").first()
    page.goto(f"{live_server.url}/admin/guildsync/wowcharacter/{stray.pk}/change/")
    follow(page, "a.link-to-player")
    page.click(".select2-selection--single")
    page.fill(".select2-search__field", player.display_name[:5])
    page.locator(".select2-results__option", has_text=player.display_name).first.click()
    with page.expect_navigation():
        page.click("input[type=submit][value='Link to this player']")
    assert f"{stray} is now linked to {player.display_name}" in page.locator("ul.messagelist").inner_text()

    # Guildsync: the addon upload says what to upload and where the file is
    page.goto(f"{live_server.url}/admin/guildsync/wowcharacter/upload-addon/")
    assert "WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua" in page.locator("#content").inner_text()

    # Raids: an edit of the event page says what changed
    page.goto(f"{live_server.url}/admin/raids/raidevent/{next_raid.pk}/change/")
    assert page.locator(".field-origin").inner_text().strip()  # how the event was made, said once
    page.fill("#id_title", "Progression night")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "”: title." in page.locator("ul.messagelist").inner_text()
    assert "changed successfully" not in page.locator("ul.messagelist").inner_text()

    # Economy (issue 24, Smaller points): an auto-moderation rule from a form of its type, no JSON
    from economy.models import AutoModRule

    page.goto(f"{live_server.url}/admin/economy/automodrule/add/")
    follow(page, "ul.rule-types >> text=Keywords")
    assert page.locator("textarea[name=config]").count() == 0
    page.fill("#id_keywords", "")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "This field is required." in page.locator(".field-keywords").inner_text()  # said at the field
    page.goto(page.url)  # a fresh form of the same type
    page.select_option("#id_guild_id", label="Stormwatch")  # the server by name
    page.fill("#id_name", "Nitro scams")
    page.select_option("#id_action", "delete")
    page.fill("#id_keywords", "free nitro\nsteam gift*")
    shot(page, "automod_rule")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was added successfully" in page.locator("ul.messagelist").inner_text()
    assert AutoModRule.objects.get(name="Nitro scams").config == {"keywords": ["free nitro", "steam gift*"]}

    # Economy: the leaderboard names its members (no Discord id anywhere on the chart)
    page.goto(f"{live_server.url}/admin/economy/bytesbalance/leaderboard/")
    chart = " ".join(page.evaluate(  # the bars' visible labels (each <title>, the id on hover, left out)
        "[...document.querySelectorAll('#leaderboard-chart text')].map((t) => t.firstChild.textContent)"))
    assert "#1 " in chart and not re.search(r"\d{17,20}", chart), chart
    assert page.locator("#guild_id option:checked").inner_text() == "Stormwatch"
    shot(page, "leaderboard")

    # Ark: cancelling a match asks first, naming whom the DM reaches; going back changes nothing
    open_match = Match.objects.filter(status="Scheduled").order_by("pk").first()
    page.goto(f"{live_server.url}/admin/ark/match/")
    page.locator(f'input.action-select[value="{open_match.pk}"]').check()
    page.select_option("select[name=action]", "cancel")
    with page.expect_navigation():
        page.click("button[name=index]")
    confirm = page.locator("#confirm-action").inner_text()
    assert "Nothing has changed yet." in confirm and "Khufu (Khufu)" in confirm, confirm
    shot(page, "confirm_cancel")
    follow(page, "text=No, take me back")
    assert Match.objects.get(pk=open_match.pk).status == "Scheduled"

    # Ratmas: the event is ready to draw (the confirmation lists the participants by name)
    from ratmas.demo import DEMO_GUILD_ID

    santa = Event.objects.get(guild_id=DEMO_GUILD_ID, status="locked")
    page.goto(f"{live_server.url}/admin/ratmas/event/")
    run_action(page, santa.pk, "draw_pairings")
    santa.refresh_from_db()
    assert santa.status == "matched" and santa.pairings.count() == santa.participants.count() == 12

    # Outbox: retrying a failed message says that nothing is sent without a token
    page.goto(f"{live_server.url}/admin/bot/outboxmessage/?status__exact=failed")
    assert "messages are queued but not sent" in page.locator("ul.messagelist").inner_text()
    message = run_action(page, "demo", "retry_selected")
    assert "DISCORD_TOKEN is not set: nothing is sent until it is" in message
    assert "queued for delivery now" not in message


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_with_discord_in_the_browser(browser_page, live_server, httpserver, settings):
    from django.contrib.auth.models import User

    guild, role = 100_000_000_000_000_042, 300_000_000_000_000_002
    fake = FakeDiscordOAuth(httpserver, guild)
    fake.next_member = DiscordMember(400_000_000_000_000_777, "brightblade", "Bright Blade", roles=[role])
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = "1234567890", "s3cret"
    settings.SOCIALACCOUNT_PROVIDERS = {"discord": {"APPS": [{"client_id": "1234567890", "secret": "s3cret"}]}}
    settings.DISCORD_OAUTH_AUTHORIZE_URL, settings.DISCORD_OAUTH_API_BASE = fake.authorize_url, fake.api_base
    settings.DISCORD_GUILD_ID, settings.DISCORD_OFFICER_ROLE_GROUPS = guild, [(role, "Ark officers")]

    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.click("#discord-signin-button")  # → the fake's authorize page → back to our callback
    page.wait_for_selector("#user-tools")
    assert page.url == f"{live_server.url}/admin/"
    assert "BRIGHTBLADE" in page.locator("#user-tools").inner_text().upper()
    assert page.locator("#panel-ark").is_visible() and page.locator("#panel-raids").count() == 0
    assert list(User.objects.get(username="brightblade").groups.values_list("name", flat=True)) == ["Ark officers"]
