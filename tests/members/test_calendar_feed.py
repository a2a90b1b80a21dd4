"""Members' calendar feeds (issue 26, Build 2): the feed holds exactly the member's events, parses
with icalendar, keeps UIDs and grows SEQUENCE on changes, answers 304 to conditional GETs, 404 to
revoked/unknown tokens and 429 past its rate; the token is hashed, rotatable, exported and forgotten."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from icalendar import Calendar

from ark import services as ark_services
from ark.models import Match
from core.privacy import export_member, forget_member
from members import services
from members.models import CalendarToken, PublicFeed
from raids.models import RaidAttendance
from raids.services.officer_edits import save_raid_event
from ratmas import services as ratmas_services
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    cache.clear()
    yield
    cache.clear()


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _fetch(url: str, **headers):
    return Client().get(_path(url), **headers)


def _events(body: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(body)
    return {str(c["UID"]): c for c in cal.walk("VEVENT")}


@pytest.fixture
def world():
    """Two raiders signed to raids, Ark signups and a Ratmas round; only ``me``'s rows must show."""
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    me, other = f.raid_player("Aelith"), f.raid_player("Borin", spec=("Protection", "Warrior"))
    night = f.raid_night()
    mine = f.raid_event(night, now + dt.timedelta(days=2))
    benched = f.raid_event(night, now + dt.timedelta(days=9))
    theirs = f.raid_event(night, now + dt.timedelta(days=16))
    RaidAttendance.objects.create(event=mine, player=me, status="accepted")
    RaidAttendance.objects.create(event=benched, player=me, status="bench")
    RaidAttendance.objects.create(event=mine, player=other, status="tentative")
    RaidAttendance.objects.create(event=theirs, player=other, status="accepted")
    uid = me.discord_user.discord_id
    alliance = f.ark_alliance()
    f.ark_governors()
    from ark.models import Governor
    Governor.objects.filter(governor_id=3).update(discord_user_id=uid)
    ahead = (5 - now.weekday()) % 7  # the next Saturday at least two days away
    start = now + dt.timedelta(days=ahead if ahead >= 2 else ahead + 7)
    match = f.ark_match(alliance, weekend=start.date(), start=start, close=start - dt.timedelta(hours=12),
                        now=now)
    ark_services.add_signup(match_id=match.pk, governor_id=3, discord_user_id=uid, actor_discord_id=uid, now=now)
    f.ark_sign(match, 4, now=now)
    santa = ratmas_services.create_event(f.RATMAS_GUILD, now + dt.timedelta(days=7), now + dt.timedelta(days=20),
                                         now + dt.timedelta(days=24))
    ratmas_services.join(santa, uid, "Aelith", "")
    ratmas_services.join(santa, other.discord_user.discord_id, "Borin", "")
    other_round = ratmas_services.create_event(f.RATMAS_GUILD + 1, now + dt.timedelta(days=8),
                                               now + dt.timedelta(days=21), now + dt.timedelta(days=25))
    ratmas_services.join(other_round, other.discord_user.discord_id, "Borin", "")
    return {"me": uid, "mine": mine, "benched": benched, "theirs": theirs, "match": match, "santa": santa,
            "alliance": alliance}


def test_feed_parses_and_holds_exactly_the_members_events(world):
    issued = services.issue_token(world["me"])
    response = _fetch(issued.url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    santa = world["santa"].pk
    assert set(events) == {f"raid-{world['mine'].pk}@guildops", f"raid-{world['benched'].pk}@guildops",
                           f"ark-{world['match'].pk}@guildops", f"ratmas-{santa}-signup@guildops",
                           f"ratmas-{santa}-purchase@guildops", f"ratmas-{santa}-reveal@guildops"}
    mine = events[f"raid-{world['mine'].pk}@guildops"]
    assert str(mine["STATUS"]) == "CONFIRMED" and "Your sign-up: accepted" in str(mine["DESCRIPTION"])
    assert str(events[f"raid-{world['benched'].pk}@guildops"]["STATUS"]) == "TENTATIVE"
    assert "Gov3" in str(events[f"ark-{world['match'].pk}@guildops"]["DESCRIPTION"])
    for event in events.values():  # UTC times, written as ...Z
        assert event["DTSTART"].dt.utcoffset() == dt.timedelta(0)
        assert event.to_ical().decode().count("DTSTART:") == 1 and "Z\r\n" in event.to_ical().decode()
    assert mine["DTSTART"].dt == world["mine"].start_time_utc


def test_rescheduled_raid_keeps_its_uid_with_a_higher_sequence(world):
    url = services.issue_token(world["me"]).url
    uid = f"raid-{world['mine'].pk}@guildops"
    before = _events(_fetch(url).content)[uid]
    moved = world["mine"].start_time_utc + dt.timedelta(hours=1)
    save_raid_event(world["mine"].pk, start_time_utc=moved, end_time_utc=moved + dt.timedelta(hours=3))
    after = _events(_fetch(url).content)[uid]
    assert after["DTSTART"].dt == moved
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    again = _events(_fetch(url).content)[uid]  # fetching again changes nothing
    assert int(again["SEQUENCE"]) == int(after["SEQUENCE"])


def test_cancelled_match_says_status_cancelled(world):
    url = services.issue_token(world["me"]).url
    _fetch(url)
    Match.objects.filter(pk=world["match"].pk).update(status="Cancelled")
    event = _events(_fetch(url).content)[f"ark-{world['match'].pk}@guildops"]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1


def test_conditional_get_answers_304(world):
    url = services.issue_token(world["me"]).url
    first = _fetch(url)
    assert first["ETag"] and first["Last-Modified"]
    same = _fetch(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert same.status_code == 304 and same.content == b"" and same["ETag"] == first["ETag"]
    assert _fetch(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    save_raid_event(world["mine"].pk, title="Mythic Progression")
    changed = _fetch(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert b"Mythic Progression" in changed.content


def test_revoked_rotated_and_unknown_tokens_get_a_bare_404(world):
    first = services.issue_token(world["me"])
    assert _fetch(first.url).status_code == 200
    second = services.issue_token(world["me"], rotate=True)
    old = _fetch(first.url)
    assert old.status_code == 404 and b"calendar" not in old.content.lower()
    assert _fetch(second.url).status_code == 200
    assert services.revoke_token(world["me"]) is True
    revoked, unknown = _fetch(second.url), Client().get("/calendar/nope.ics")
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.content == unknown.content
    assert services.revoke_token(world["me"]) is False


def test_only_a_hash_of_the_token_is_stored(world):
    issued = services.issue_token(world["me"])
    row = CalendarToken.objects.get(discord_user_id=world["me"])
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in str(CalendarToken.objects.values().get())


@override_settings(CALENDAR_FEED_RATE=(3, 3600))
def test_feeds_are_rate_limited_per_token(world):
    url = services.issue_token(world["me"]).url
    assert [_fetch(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = services.issue_token(f.raid_player("Cyra", spec=("Fire", "Mage")).discord_user.discord_id).url
    assert _fetch(other).status_code == 200


def test_public_feeds_are_off_until_an_officer_switches_them_on(world):
    assert Client().get("/calendar/public/raids.ics").status_code == 404
    services.set_public_feed("raids", enabled=True)
    events = _events(Client().get("/calendar/public/raids.ics").content)
    assert len(events) == 3 and all(str(e["STATUS"]) == "CONFIRMED" for e in events.values())
    ark = f"/calendar/public/ark-{world['alliance'].pk}.ics"
    assert Client().get(ark).status_code == 404
    services.set_public_feed("ark", enabled=True, alliance_id=world["alliance"].pk)
    assert set(_events(Client().get(ark).content)) == {f"ark-{world['match'].pk}@guildops"}
    services.set_public_feed("raids", enabled=False)
    assert Client().get("/calendar/public/raids.ics").status_code == 404
    assert PublicFeed.objects.count() == 2


def test_calendar_url_command_prints_a_working_url(world, capsys):
    call_command("calendar_url", str(world["me"]))
    url = capsys.readouterr().out.strip()
    assert url.startswith("http") and url.endswith(".ics")
    assert _fetch(url).status_code == 200
    call_command("calendar_url", str(world["me"]))
    captured = capsys.readouterr()
    assert "no longer works" in captured.err and _fetch(url).status_code == 404
    assert _fetch(captured.out.strip()).status_code == 200


def test_token_is_exported_and_forgotten(world):
    url = services.issue_token(world["me"]).url
    _fetch(url)
    exported = export_member(world["me"])["apps"]["members"]["calendar_feed"]
    assert exported["token_starts_with"] and "token_hash" not in exported
    forget_member(world["me"], actor="test")
    assert not CalendarToken.objects.exists() and _fetch(url).status_code == 404
