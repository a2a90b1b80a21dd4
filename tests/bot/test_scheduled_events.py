"""Raid events and Ark matches mirrored as Discord scheduled events (issue 26), delivered by the
real delivery code against the fake Discord: created, edited, cancelled exactly once, in
order, through races, Discord's 429 and 5xx, and a lost answer. (A worker killed -9 between
Discord's answer and the record: test_scheduled_events_worker.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot import outbox
from bot.delivery import deliver_due
from bot.models import OutboxMessage, ScheduledEvent
from tests.fakes.discord_api import EVENT_CANCELED

GUILD = 424_242_000_000_000_001
Status = OutboxMessage.Status
Kind = OutboxMessage.Kind
pytestmark = pytest.mark.django_db
EVENTS = r"/guilds/\d+/scheduled-events"


def soon(hours: float = 48) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def mirror(source: str = "test:1", name: str = "Raid night", start: dt.datetime | None = None,
           hours: float = 3) -> OutboxMessage | None:
    start = start or soon()
    with transaction.atomic():
        return outbox.mirror_event(source, guild_id=GUILD, name=name, description=f"{name}, be there",
                                   location="World of Warcraft", start=start, end=start + dt.timedelta(hours=hours),
                                   topic="test")


def cancel(source: str = "test:1", **kwargs) -> OutboxMessage | None:
    with transaction.atomic():
        return outbox.cancel_event(source, topic="test", **kwargs)


# -- raids ------------------------------------------------------------------------------------
@pytest.fixture
def raids_mirrored(settings):
    from tests.factories import raid_config

    return raid_config(GUILD, discord_events=True)


def test_a_raid_booked_moved_and_cancelled_is_one_event_created_edited_cancelled(fake_discord, raids_mirrored):
    from raids import services

    start = soon(72)
    event = services.save_raid_event(None, title="Heroic Progression", event_date=start.date(),
                                     start_time_utc=start, end_time_utc=start + dt.timedelta(hours=3))
    assert deliver_due().sent == 1
    [created] = fake_discord.events_of(GUILD)
    assert created["name"] == "Heroic Progression" and created["entity_type"] == 3 and created["privacy_level"] == 2
    assert created["entity_metadata"] == {"location": "World of Warcraft"} and created["channel_id"] is None
    assert dt.datetime.fromisoformat(created["scheduled_start_time"]) == start
    assert ScheduledEvent.objects.get().discord_event_id == int(created["id"])

    later = start + dt.timedelta(hours=1)
    services.save_raid_event(event.pk, start_time_utc=later, end_time_utc=later + dt.timedelta(hours=3),
                             title="Heroic Progression (moved)")
    assert deliver_due().sent == 1
    [moved] = fake_discord.events_of(GUILD)
    assert moved["id"] == created["id"] and moved["name"] == "Heroic Progression (moved)"
    assert dt.datetime.fromisoformat(moved["scheduled_start_time"]) == later and fake_discord.event_edits[int(moved["id"])] == 1

    services.delete_raid_events([event.pk])
    assert deliver_due().sent == 1
    [cancelled] = fake_discord.events_of(GUILD)
    assert cancelled["id"] == created["id"] and cancelled["status"] == EVENT_CANCELED
    assert len(fake_discord.calls("POST", EVENTS)) == 1  # exactly one event, ever
    assert [c.json for c in fake_discord.calls("PATCH", EVENTS)][-1] == {"status": EVENT_CANCELED}
    assert list(OutboxMessage.objects.order_by("pk").values_list("kind", "status")) == [
        (Kind.EVENT_CREATE, Status.SENT), (Kind.EVENT_EDIT, Status.SENT), (Kind.EVENT_CANCEL, Status.SENT)]


def test_a_raid_night_booked_by_the_booking_service_is_mirrored(fake_discord, raids_mirrored):
    """The first event of a raid night booked here (Raid-Helper not configured): one scheduled
    event with the night's name and the booked start and end."""
    from raids import services
    from tests.factories import raid_night

    night = raid_night("Mythic Tuesday")
    result = services.book_first_event(night)
    assert deliver_due().sent == 1
    [event] = fake_discord.events_of(GUILD)
    assert event["name"] == "Mythic Tuesday" and event["entity_metadata"] == {"location": "World of Warcraft"}
    assert dt.datetime.fromisoformat(event["scheduled_start_time"]) == result.event.start_time_utc
    assert dt.datetime.fromisoformat(event["scheduled_end_time"]) == result.event.end_time_utc


def test_switched_off_by_default_nothing_is_mirrored(fake_discord, settings):
    from raids import services
    from tests.factories import raid_config

    raid_config(GUILD)
    start = soon()
    services.save_raid_event(None, title="Normal", event_date=start.date(), start_time_utc=start,
                             end_time_utc=start + dt.timedelta(hours=2))
    assert not OutboxMessage.objects.exists() and not ScheduledEvent.objects.exists()


def test_a_raid_officer_switches_it_on_in_the_admin(client, officer):
    from raids.models import RaidHelperSettings

    client.force_login(officer("Raid officers"))
    form = {"server_id": str(GUILD), "raid_channel_id": "5", "leader_discord_id": "6",
            "default_template_id": "wowretail2", "timezone": "UTC"}
    assert client.post("/admin/raids/raidhelpersettings/add/", form).status_code == 302
    assert RaidHelperSettings.load().discord_events is False  # off by default
    page = client.get("/admin/raids/raidhelpersettings/1/change/").content.decode()
    assert "Mirror raids as Discord events" in page and "Manage Events" in page
    assert client.post("/admin/raids/raidhelpersettings/1/change/", {**form, "discord_events": "on"}).status_code == 302
    assert RaidHelperSettings.load().discord_events is True


def test_an_ark_officer_switches_it_on_in_the_admin(client, officer):
    from ark.models import ArkSettings
    from tests.factories import ark_cadence

    ark_cadence()
    client.force_login(officer("Ark officers"))
    url = f"/admin/ark/arksettings/{ArkSettings.objects.get().pk}/change/"
    assert "Mirror matches as Discord events" in client.get(url).content.decode()
    form = {"cadence_weekends": 2, "anchor_weekend": "2030-03-09"}
    assert client.post(url, {**form, "discord_events": "on"}).status_code == 302
    assert ArkSettings.objects.get().discord_events is True
    assert client.post(url, form).status_code == 302
    assert ArkSettings.objects.get().discord_events is False


def test_edits_queued_before_the_create_was_answered_follow_it(fake_discord):
    """A create tried once already (rate limited), two moves and a cancel queued before the next
    delivery: the moves become one whole-state edit, the cancel withdraws it, and one run sends
    the create and then the cancel of what it created (an event's rows go out in queue order)."""
    start = soon()
    create = mirror(start=start)
    OutboxMessage.objects.filter(pk=create.pk).update(attempts=1)  # tried before: no longer rewritten
    first = mirror(start=start + dt.timedelta(hours=1))
    second = mirror(start=start + dt.timedelta(hours=2), name="Raid night, later")
    assert first.kind == Kind.EVENT_EDIT and second.pk == first.pk
    cancel()
    assert list(OutboxMessage.objects.order_by("pk").values_list("kind", "status")) == [
        (Kind.EVENT_CREATE, Status.PENDING), (Kind.EVENT_EDIT, Status.CANCELLED), (Kind.EVENT_CANCEL, Status.PENDING)]
    report = deliver_due()
    assert (report.sent, report.failed) == (2, 0)
    [event] = fake_discord.events_of(GUILD)
    assert event["status"] == EVENT_CANCELED
    assert [c.method for c in fake_discord.calls(path_regex=EVENTS)] == ["POST", "PATCH"]


def test_an_edit_waits_for_its_create_and_targets_what_it_created(fake_discord):
    start = soon()
    create = mirror(start=start)
    OutboxMessage.objects.filter(pk=create.pk).update(attempts=1)  # tried before: the edit is its own row
    edit = mirror(start=start + dt.timedelta(hours=1))
    assert edit.kind == Kind.EVENT_EDIT
    report = deliver_due()
    assert (report.sent, report.failed) == (2, 0)
    [event] = fake_discord.events_of(GUILD)
    assert dt.datetime.fromisoformat(event["scheduled_start_time"]) == start + dt.timedelta(hours=1)
    edit.refresh_from_db()
    assert edit.sent_message_id == int(event["id"])


def test_a_create_never_tried_takes_the_changes_and_a_cancel_withdraws_it(fake_discord):
    start = soon()
    create = mirror(start=start)
    assert mirror(start=start + dt.timedelta(hours=1)).pk == create.pk  # rewritten: one create, no edit
    assert cancel() is None
    create.refresh_from_db()
    assert create.status == Status.CANCELLED
    assert deliver_due().claimed == 0 and fake_discord.calls(path_regex=EVENTS) == []


def test_nothing_is_mirrored_once_the_event_started(fake_discord):
    start = timezone.now() - dt.timedelta(minutes=5)
    assert mirror(start=start) is None and not ScheduledEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_create_none_twice(fake_discord, run_in_parallel, settings):
    """12 events, each a create and an edit queued behind it, delivered by two workers at once
    in small claims: every event is created once and then edited once, never the other way."""
    settings.OUTBOX_BATCH_SIZE = 3
    for i in range(12):
        create = mirror(source=f"race:{i}", name=f"Raid {i}", start=soon(24 + i))
        OutboxMessage.objects.filter(pk=create.pk).update(attempts=1)  # so the move is an edit of its own
        mirror(source=f"race:{i}", name=f"Raid {i}", start=soon(24 + i) + dt.timedelta(minutes=30))
    reports = run_in_parallel(lambda i: deliver_due(), 2)
    assert all(not isinstance(r, BaseException) for r in reports), reports
    assert sum(r.sent for r in reports) == 24
    events = fake_discord.events_of(GUILD)
    assert sorted(e["name"] for e in events) == sorted(f"Raid {i}" for i in range(12))
    assert all(fake_discord.event_edits[int(e["id"])] == 1 for e in events)
    assert len(fake_discord.calls("POST", EVENTS)) == 12


def test_discord_429_is_waited_out_and_5xx_retried(fake_discord, settings):
    """A 429 on the create is waited out in the call; a 502 comes back to the outbox like a
    message's (backoff, uncertain), and the retry looks first, finds nothing, creates once."""
    fake_discord.rate_limit_next("POST", EVENTS, retry_after=0.2)
    mirror()
    assert deliver_due().sent == 1
    assert len(fake_discord.events_of(GUILD)) == 1

    fake_discord.fail_next("POST", EVENTS, 502, {"message": "Bad Gateway"})
    row = mirror(source="test:2", name="Second raid")
    report = deliver_due()
    assert (report.sent, report.retrying) == (0, 1)
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.uncertain_since is not None and "502" in row.last_error
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    report = deliver_due()
    assert (report.sent, report.adopted) == (1, 0)
    assert sorted(e["name"] for e in fake_discord.events_of(GUILD)) == ["Raid night", "Second raid"]
    assert fake_discord.calls("GET", EVENTS + "$")  # it looked before creating again


def test_a_lost_answer_is_adopted_not_created_twice(fake_discord, settings):
    """Discord created the event but its answer timed out: the retry finds the bot's event with
    the create's name, start, end, location and description and records it."""
    fake_discord.hold_answer_next("POST", EVENTS, 3.0)  # carried out at once, answered too late
    settings.DISCORD_HTTP_TIMEOUT = 1.0
    row = mirror()
    assert deliver_due().retrying == 1
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    report = deliver_due()
    assert (report.sent, report.adopted) == (1, 1)
    [event] = fake_discord.events_of(GUILD)
    row.refresh_from_db()
    assert row.sent_message_id == int(event["id"]) == ScheduledEvent.objects.get().discord_event_id
    assert len(fake_discord.calls("POST", EVENTS)) == 1


def test_an_officer_deleted_event_counts_as_cancelled(fake_discord):
    mirror()
    deliver_due()
    [event] = fake_discord.events_of(GUILD)
    with fake_discord.lock:
        fake_discord.scheduled_events[GUILD].clear()
    cancel()
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 0)


def test_a_permanent_refusal_is_not_retried_and_the_next_change_creates_again(fake_discord):
    fake_discord.fail_next("POST", EVENTS, 403, {"code": 50013, "message": "Missing Permissions"})
    row = mirror()
    assert deliver_due().failed == 1
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.last_error_code == 50013
    again = mirror(start=soon(50))  # the officer granted Manage Events, then changed the raid
    assert again.kind == Kind.EVENT_CREATE and again.pk != row.pk
    assert deliver_due().sent == 1 and len(fake_discord.events_of(GUILD)) == 1


# -- ark --------------------------------------------------------------------------------------
def test_an_ark_match_created_moved_and_cancelled(fake_discord, settings):
    from ark import services
    from ark.models import ArkSettings
    from tests.factories import ARK_START, ark_alliance, ark_cadence, ark_match

    settings.DISCORD_GUILD_ID = GUILD
    ark_cadence()
    ArkSettings.objects.filter(pk=1).update(discord_events=True)
    match = ark_match(ark_alliance())
    deliver_due()
    [event] = fake_discord.events_of(GUILD)
    assert event["name"] == "Ark of Osiris · Osiris Guard (Saturday)"
    assert dt.datetime.fromisoformat(event["scheduled_start_time"]) == ARK_START
    assert dt.datetime.fromisoformat(event["scheduled_end_time"]) == ARK_START + dt.timedelta(hours=1)
    services.amend_match(match_id=match.pk, match_time_utc=ARK_START + dt.timedelta(hours=2),
                         actor_discord_id=1, now=ARK_START - dt.timedelta(days=3))
    deliver_due()
    [event] = fake_discord.events_of(GUILD)
    assert dt.datetime.fromisoformat(event["scheduled_start_time"]) == ARK_START + dt.timedelta(hours=2)
    services.cancel_match(match_id=match.pk, actor_discord_id=1, reason="not enough players")
    deliver_due()
    [event] = fake_discord.events_of(GUILD)
    assert event["status"] == EVENT_CANCELED
    assert len(fake_discord.calls("POST", EVENTS)) == 1
    assert OutboxMessage.objects.filter(scheduled_event__isnull=False, status=Status.SENT).count() == 3


# -- the fake answers like Discord ------------------------------------------------------------
def _post(fake_discord, body: dict):
    import requests

    return requests.post(f"{fake_discord.base_url}/guilds/{GUILD}/scheduled-events", json=body, timeout=5,
                         headers={"Authorization": f"Bot {fake_discord.token}"})


def _valid(**changes) -> dict:
    start = soon()
    body = outbox.event_body("Raid", "Be there", "World of Warcraft", start, start + dt.timedelta(hours=2))
    return {**body, **changes}


@pytest.mark.parametrize("changes, field", [
    ({"scheduled_end_time": None}, "scheduled_end_time"),
    ({"entity_metadata": {}}, "entity_metadata"),
    ({"name": "x" * 101}, "name"),
    ({"name": ""}, "name"),
    ({"description": "x" * 1001}, "description"),
    ({"privacy_level": 1}, "privacy_level"),
    ({"scheduled_start_time": (timezone.now() - dt.timedelta(minutes=1)).isoformat()}, "scheduled_start_time"),
    ({"channel_id": "123"}, "channel_id"),
])
def test_the_fake_refuses_invalid_fields_like_discord(fake_discord, changes, field):
    answer = _post(fake_discord, _valid(**changes))
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert field in body["errors"] and (body["errors"][field].get("_errors") or body["errors"][field]["location"])


def test_the_fake_holds_a_guild_to_100_live_events(fake_discord):
    for i in range(100):
        assert _post(fake_discord, _valid(name=f"Event {i}")).status_code == 200
    refused = _post(fake_discord, _valid(name="Event 100"))
    assert refused.status_code == 400 and refused.json()["code"] == 30038


def test_the_outbox_refuses_what_discord_would(db):
    start = soon()
    with pytest.raises(outbox.OutboxError, match="end after"):
        outbox.event_body("Raid", "x", "here", start, start)
    assert len(outbox.event_body("R" * 300, "d" * 5000, "l" * 300, start, start + dt.timedelta(hours=1))["name"]) == 100


# -- Discord's list as a stranger could shape it ------------------------------------------------
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=4), max_leaves=12)
event_like = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(min_value=0, max_value=2**63).map(str), json_values),
    "creator_id": json_values | st.just("1000"), "name": json_values | st.just("Raid night"),
    "description": json_values, "entity_metadata": json_values | st.just({"location": "World of Warcraft"}),
    "scheduled_start_time": json_values, "scheduled_end_time": json_values})


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.one_of(json_values, st.lists(st.one_of(event_like, json_values), max_size=6)))
def test_the_lookup_reads_any_answer_without_crashing(answer):
    """Whatever Discord's list holds, the look-before-create returns one of its events or None."""
    import asyncio

    from bot.scheduled_events import find_earlier_create

    class Listed:
        user_id = 1000

        async def list_scheduled_events(self, guild_id):
            return answer

    start = dt.datetime(2031, 1, 1, 20, tzinfo=dt.UTC)
    row = OutboxMessage(kind=Kind.EVENT_CREATE, guild_id=GUILD, uncertain_since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                        payload=outbox.event_body("Raid night", "x", "World of Warcraft", start,
                                                  start + dt.timedelta(hours=3)))
    found = asyncio.run(find_earlier_create(Listed(), row, set()))
    assert found is None or (isinstance(answer, list) and found in answer)
