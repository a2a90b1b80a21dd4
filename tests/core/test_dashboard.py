"""The admin home page: the officers' dashboard (core.dashboard), the app list's order and
descriptions, "View site", the no-token notice; bounded queries at 10,000 rows."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.utils import timezone

from ark.models import Governor, Match, Signup
from bot.models import OutboxMessage
from guildsync.models import AuditIssue, Player
from raids.models import RaidAttendance
from ratmas.models import Event, Pairing, Participant
from tests import factories

GUILD = 100_000_000_000_000_042


def build_world(n: int) -> dict:
    """Something for every panel, with ``n`` rows behind each list."""
    now = timezone.now()
    OutboxMessage.objects.bulk_create([
        OutboxMessage(kind="dm", user_id=500 + i, status="failed", topic="ratmas.santa", attempts=8,
                      last_error="50007: Cannot send messages to this user", failed_at=now, next_attempt_at=now,
                      payload={"content": "hi"}, dedupe_key=f"t:{i}") for i in range(n)])
    factories.outbox_message("channel_message")
    AuditIssue.objects.bulk_create([
        AuditIssue(issue_type="orphan_discord" if i % 3 else "rank_mismatch", summary=f"issue {i}",
                   issue_hash=f"h{i}", last_seen=now) for i in range(n)])
    factories.audit_issue("stale_character", "closed", resolved_at=now, resolution="resolved")
    alliance = factories.ark_alliance("Osiris Guard", player_cap=30, sub_cap=15)
    weekend = dt.date(2020, 1, 4)
    started = Match.objects.create(alliance=alliance, ark_weekend_date=weekend, match_day="Sat",
                                   match_time_utc=now - dt.timedelta(hours=3),
                                   signup_close_utc=now - dt.timedelta(hours=5), status="Locked")
    soon = now + dt.timedelta(days=2)
    nxt = Match.objects.create(alliance=alliance, ark_weekend_date=weekend + dt.timedelta(days=7 * 52),
                               match_day="Sun", match_time_utc=soon, signup_close_utc=soon - dt.timedelta(hours=2))
    governors = Governor.objects.bulk_create([Governor(governor_id=10_000 + i, name=f"Gov{i}", discord_user_id=i + 1)
                                              for i in range(n)])
    Signup.objects.bulk_create([Signup(match=nxt, governor=g, discord_user_id=g.discord_user_id,
                                       ark_weekend_date=nxt.ark_weekend_date, slot="Player" if i < 12 else "Sub",
                                       status="Active" if i < 20 else "Withdrawn")
                                for i, g in enumerate(governors)])
    raid = factories.raid_event(None, now + dt.timedelta(days=1), title="Heroic Progression")
    players = Player.objects.bulk_create([Player(display_name=f"P{i}") for i in range(n)])
    statuses = ["accepted", "accepted", "tentative", "bench", "absence"]
    RaidAttendance.objects.bulk_create([RaidAttendance(event=raid, player=p, status=statuses[i % 5],
                                                       signed_up=i % 5 < 2) for i, p in enumerate(players)])
    santa_event = Event.objects.create(guild_id=GUILD, status="matched", signup_deadline=now,
                                       purchase_deadline=now + dt.timedelta(days=10),
                                       reveal_date=now + dt.timedelta(days=20))
    people = Participant.objects.bulk_create([Participant(event=santa_event, user_id=1000 + i, display_name=f"S{i}")
                                              for i in range(max(n, 3))])
    Pairing.objects.bulk_create([
        Pairing(event=santa_event, santa=p, recipient=people[(i + 1) % len(people)],
                last_error="DMs closed" if i < 2 else "", notified_at=None if i < 2 else now)
        for i, p in enumerate(people)])
    return {"started": started, "next": nxt, "raid": raid, "santa_event": santa_event}


def links(html: str) -> dict[str, str]:
    """Text → href of the dashboard's links."""
    block = html.split('id="content-main"', 1)[1].split('class="app-', 1)[0]
    return {unescape(re.sub(r"\s+", " ", text)).strip(): unescape(href)
            for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block)}


def test_dashboard_lists_what_needs_an_officer_and_links_to_filtered_lists(admin_client, settings):
    settings.DISCORD_TOKEN = ""
    world = build_world(30)
    html = admin_client.get("/admin/").content.decode()
    found = links(html)
    assert "DISCORD_TOKEN is not set: messages are queued but not sent." in found
    assert "30 messages failed for good" in found
    assert "50007: Cannot send messages to this user" in html  # why it failed
    assert "20 × Discord member with a guild role but no characters" in found  # plain words, not "orphan discord"
    assert "10 × In-game rank and Discord role differ" in found and "Blizzard lately" not in str(found)
    assert "1 started match awaiting a result" in found
    assert any("12/30 players, 8/15 subs" in text for text in found)
    assert any("12 accepted, 6 tentative, 6 bench, 6 absent" in text for text in found)
    assert "2 Santas could not be reached by DM" in found

    def count_on(url: str) -> int:
        page = admin_client.get(url)
        assert page.status_code == 200, url  # an invalid lookup would redirect to ?e=1
        return page.context["cl"].result_count

    assert count_on(found["30 messages failed for good"]) == 30
    assert count_on(found["20 × Discord member with a guild role but no characters"]) == 20
    assert count_on(found["1 started match awaiting a result"]) == 1
    assert count_on(found["Sign-ups of this raid"]) == 30
    assert count_on(found["2 Santas could not be reached by DM"]) == 2
    assert count_on(found["1 message waiting to be delivered"]) == 1
    assert found[next(t for t in found if t.startswith("Next: Osiris Guard"))] == \
        f"/admin/ark/match/{world['next'].pk}/change/"


def test_no_token_line_only_without_token(admin_client, settings):
    settings.DISCORD_TOKEN = "set"
    assert "messages are queued but not sent" not in admin_client.get("/admin/").content.decode()


def test_domains_first_with_descriptions_system_below_and_view_site_is_the_dashboard(admin_client):
    html = admin_client.get("/admin/").content.decode()
    order = list(re.findall(r'class="app-(\w+) module', html))
    system_at = html.index('id="system-heading"')
    assert order[:6] == ["guildsync", "raids", "ark", "ratmas", "economy", "bot"]
    for label in ("auth", "rest_framework_api_key", "django_celery_beat"):
        assert html.index(f'class="app-{label} module') > system_at
    assert "Raid seasons, weekly raid nights" in html and "Celery internals" in html
    assert re.search(r'<a href="/admin/">View site</a>', html)


def test_panels_follow_permissions(officer, client, settings):
    settings.DISCORD_TOKEN = ""
    build_world(3)
    client.force_login(officer("Raid officers"))
    html = client.get("/admin/").content.decode()
    assert 'id="panel-raids"' in html
    for hidden in ("outbox", "integrity", "ark", "ratmas"):
        assert f'id="panel-{hidden}"' not in html
    assert "messages are queued but not sent" in html  # the notice, without a link to the outbox
    assert "/admin/bot/outboxmessage/" not in html


@pytest.mark.slow
def test_dashboard_queries_bounded_at_10000_rows(admin_client, django_assert_max_num_queries, settings):
    settings.DISCORD_TOKEN = ""
    build_world(10_000)
    with django_assert_max_num_queries(11):  # 10, plus the System panel's one read of the heartbeats
        response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "10,000 messages failed for good" in response.content.decode()
