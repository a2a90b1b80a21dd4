"""raids.clients against the fake Raid-Helper: requests, errors, pacing, slots."""

from __future__ import annotations

import datetime as dt

import pytest

from raids.clients import Pacer, RaidHelperClient, RaidHelperError, slot_for
from tests.fakes.raid_helper_api import FakeRaidHelper

START = dt.datetime(2030, 3, 5, 19, 30, tzinfo=dt.UTC)


@pytest.fixture
def client(fake_raid_helper) -> RaidHelperClient:
    return RaidHelperClient(server_id=FakeRaidHelper.server_id, timezone="Europe/Paris")


def create(client, **overrides):
    kwargs = {"channel_id": 42, "leader_id": 7, "template_id": "wowretail2", "title": "Mythic", "description": "d",
              "start": START, "duration_minutes": 120}
    return client.create_event(**{**kwargs, **overrides})


@pytest.mark.parametrize("under_event", [True, False])
def test_create_event_reads_id_at_top_level_or_under_event(client, fake_raid_helper, under_event):
    fake_raid_helper.id_under_event = under_event
    fake_raid_helper.timezone = "Europe/Paris"
    created = create(client)
    [event] = fake_raid_helper.events.values()
    assert created.id == event["id"] and created.url == f"https://raid-helper.dev/event/{event['id']}"
    assert ("event" in created.payload) is under_event
    [call] = fake_raid_helper.calls("POST")
    assert call.path == f"/servers/{FakeRaidHelper.server_id}/channels/42/event"
    assert call.headers["Authorization"] == FakeRaidHelper.api_key  # no "Bearer"
    assert call.json["date"] == "2030-03-05" and call.json["time"] == "20:30"  # read in Raid-Helper's zone
    assert event["startTime"] == int(START.timestamp())


def test_answer_without_id_is_an_error(client, fake_raid_helper):
    fake_raid_helper.fail_next("POST", r"/event$", 200, {"status": "success"})
    with pytest.raises(RaidHelperError, match="no event id"):
        create(client)


@pytest.mark.parametrize("status, body, reason", [
    (401, {"reason": "invalid token"}, "invalid token"),
    (400, {"status": "failed", "reason": "Missing or invalid field: title"}, "Missing or invalid field: title"),
    (404, "Endpoint POST /servers/x not found.", "Endpoint POST /servers/x not found."),
    (500, "", "INTERNAL SERVER ERROR"),
    (403, {"message": "forbidden"}, "forbidden"),
])
def test_errors_carry_status_and_reason(client, fake_raid_helper, status, body, reason):
    fake_raid_helper.fail_next("POST", r"/event$", status, body)
    with pytest.raises(RaidHelperError) as info:
        create(client)
    assert info.value.status == status and info.value.reason == reason
    assert str(info.value) == f"Raid-Helper {status}: {reason}"


def test_real_refusals_of_the_fake(client, fake_raid_helper, settings):
    with pytest.raises(RaidHelperError) as info:
        create(client, title="")
    assert (info.value.status, info.value.reason) == (400, "Missing or invalid field: title")
    bearer = RaidHelperClient(api_key=f"Bearer {FakeRaidHelper.api_key}", server_id=FakeRaidHelper.server_id)
    with pytest.raises(RaidHelperError) as info:
        bearer.list_server_events()
    assert (info.value.status, info.value.reason) == (401, "invalid token")
    with pytest.raises(RaidHelperError) as info:
        client.add_signup("999", 5, "Tank", "Blood")
    assert (info.value.status, info.value.reason) == (404, "Event not found.")


def test_posts_are_never_retried(client, fake_raid_helper):
    fake_raid_helper.fail_next("POST", r"/event$", 502, "Bad Gateway")
    with pytest.raises(RaidHelperError):
        create(client)
    assert len(fake_raid_helper.calls("POST")) == 1 and not fake_raid_helper.events


def test_gets_are_retried_on_5xx(client, fake_raid_helper):
    fake_raid_helper.add_event("Raid", START)
    fake_raid_helper.fail_next("GET", r"/events$", 503, "busy", times=2)
    assert [e["title"] for e in client.list_server_events()] == ["Raid"]
    assert len(fake_raid_helper.calls("GET")) == 3


def test_timeout_has_no_status(fake_raid_helper):
    fake_raid_helper.stall_next("POST", r"/event$", 1.0, then_handle=False)
    client = RaidHelperClient(server_id=FakeRaidHelper.server_id, timeout=0.3)
    with pytest.raises(RaidHelperError) as info:
        create(client)
    assert info.value.status is None and info.value.no_answer and "no answer within 0.3 s" in info.value.reason


def test_default_timeout_is_15_seconds(settings):
    del settings.RAID_HELPER_HTTP_TIMEOUT
    assert RaidHelperClient(server_id="1").timeout == 15.0


def test_list_server_events_reads_every_page_after_start(client, fake_raid_helper):
    fake_raid_helper.page_size = 2
    for days in range(-1, 5):
        fake_raid_helper.add_event(f"Raid {days}", START + dt.timedelta(days=days))
    events = client.list_server_events(start_after=START)
    assert [e["title"] for e in events] == [f"Raid {d}" for d in range(5)]
    calls = fake_raid_helper.calls("GET", r"/servers/")
    assert [c.headers["Page"] for c in calls] == ["1", "2", "3"]
    assert all(c.headers["Starttimefilter"] == str(int(START.timestamp())) for c in calls)


def test_add_signup_and_get_event(client, fake_raid_helper):
    event = fake_raid_helper.add_event("Raid", START)
    answer = client.add_signup(event["id"], 777, "Healer", "Holy")
    client.add_signup(event["id"], 778, "Bench")
    [first, second] = client.get_event(event["id"])["signUps"]
    assert answer["signUp"]["id"] == first["id"]
    assert (first["userId"], first["className"], first["specName"]) == ("777", "Healer", "Holy")
    assert (second["className"], second["specName"]) == ("Bench", None)
    assert fake_raid_helper.calls("POST", r"/signups$")[1].json == {"userId": "778", "className": "Bench"}


def test_signups_are_paced_to_10_per_5_seconds():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    pacer = Pacer(clock=lambda: now[0], sleep=sleep)
    stamps = []
    for _ in range(25):
        pacer.wait()
        stamps.append(now[0])
        now[0] += 0.1
    assert slept[0] == 4.0  # the 11th call waits for the first to leave the window
    for i in range(len(stamps)):
        window = [t for t in stamps if stamps[i] <= t < stamps[i] + 5.0]
        assert len(window) <= 10


def test_add_signup_uses_the_pacer(fake_raid_helper):
    waits = []

    class Recording(Pacer):
        def wait(self):
            waits.append(1)

    client = RaidHelperClient(server_id=FakeRaidHelper.server_id, pacer=Recording())
    event = fake_raid_helper.add_event("Raid", START)
    for user in range(3):
        client.add_signup(event["id"], 100 + user, "Tentative")
    assert waits == [1, 1, 1]


@pytest.mark.parametrize("status, role, spec, expected", [
    ("accepted", "Tank", "Blood", ("Tank", "Blood")),
    ("accepted", "Healer", "Holy", ("Healer", "Holy")),
    ("accepted", "Melee DPS", "Havoc", ("Melee", "Havoc")),
    ("accepted", "Ranged DPS", "Shadow", ("Ranged", "Shadow")),
    ("tentative", "Tank", "Blood", ("Tentative", None)),
    ("bench", None, None, ("Bench", None)),
    ("absence", "Healer", "Holy", ("Absence", None)),
])
def test_slot_for(status, role, spec, expected):
    assert slot_for(status, role, spec) == expected


def test_every_specialization_maps_to_a_slot(db):
    from guildsync.models import Specialization

    for spec in Specialization.objects.select_related("default_role"):
        slot, name = slot_for("accepted", spec.default_role.name, spec.name)
        assert slot in {"Tank", "Healer", "Melee", "Ranged"} and name == spec.name


def test_accepted_without_spec_has_no_slot():
    with pytest.raises(ValueError):
        slot_for("accepted", None, None)


@pytest.mark.parametrize("body, headers, expected", [
    ("Too many requests. Try again in 3.5 s.", {}, 3.5),
    ({"status": "failed", "reason": "rate limited", "retry_after": 2}, {}, 2.0),
    ("slow down", {"Retry-After": "4"}, 4.0),
])
def test_429_carries_retry_after(client, fake_raid_helper, body, headers, expected):
    event = fake_raid_helper.add_event("Raid", START)
    fake_raid_helper.fail_next("POST", r"/signups$", 429, body, headers=headers)
    with pytest.raises(RaidHelperError) as info:
        client.add_signup(event["id"], 1, "Bench")
    assert info.value.status == 429 and info.value.retry_after == expected
    assert len(fake_raid_helper.calls("POST")) == 1  # not retried


def test_redis_pacer_shares_the_window_between_processes(settings):
    """Two pacers (two worker processes) on one Redis key: together never more than the limit
    in any window (the production limit is 10 per 5 s). Counted, not timed."""
    import threading
    import uuid

    from raids.clients import RedisPacer

    key = f"raids:test-pacer:{uuid.uuid4().hex}"
    # A window far longer than the test: whatever the machine's load, no place frees meanwhile,
    # so the count of places granted is exact.
    pacers = [RedisPacer(settings.REDIS_URL, key=key, max_calls=3, period=600) for _ in range(2)]
    barrier = threading.Barrier(10)
    answers: list[float] = []
    lock = threading.Lock()

    def attempt(pacer):
        barrier.wait()
        waited = pacer.try_acquire()
        with lock:
            answers.append(waited)

    threads = [threading.Thread(target=attempt, args=(pacers[i % 2],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    granted = [a for a in answers if a == 0]
    refused = sorted(a for a in answers if a > 0)
    assert len(answers) == 10 and len(granted) == 3, answers
    # Everyone refused is told to wait for the oldest place, which frees within the window.
    assert len(refused) == 7 and all(0 < a <= 600 for a in refused)


def test_redis_pacer_falls_back_to_the_process_when_redis_is_down(caplog):
    from raids.clients import Pacer, RedisPacer

    calls = []

    class Local(Pacer):
        def wait(self):
            calls.append(1)

    pacer = RedisPacer("redis://127.0.0.1:9/0", key="k", fallback=Local())
    pacer.wait()
    assert calls == [1] and "Redis unavailable" in caplog.text


def test_clients_share_the_redis_window_when_redis_is_configured(settings):
    from raids import clients

    settings.REDIS_URL = "redis://127.0.0.1:56379/2"
    assert isinstance(RaidHelperClient(server_id="1").pacer, clients.RedisPacer)
    settings.REDIS_URL = ""
    assert RaidHelperClient(server_id="1").pacer is clients.SIGNUP_PACER
