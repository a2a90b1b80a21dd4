"""The Blizzard client against the local fake Battle.net: token, roster, profiles, failures."""

from __future__ import annotations

import time

import pytest

from guildsync.clients import BlizzardAuthError, BlizzardClient, BlizzardError, _Pacer, realm_slug
from guildsync.models import SyncLog, WowCharacter
from guildsync.services import pipeline


def client(**kw) -> BlizzardClient:
    kw.setdefault("backoff", 0.01)
    return BlizzardClient(**kw)


def test_realm_slug_rule():
    assert realm_slug("Sen'jin") == "senjin"
    assert realm_slug("Twisting Nether") == "twisting-nether"
    assert realm_slug("Quel'Thalas") == "quelthalas"


def test_token_cached_and_sent_as_bearer(fake_blizzard):
    fake_blizzard.add_character("Thrall", class_id=7, spec=(262, "Elemental"))
    api = client()
    api.guild_roster("twisting-nether", "stormwatch")
    api.character_profile("twisting-nether", "Thrall")
    client().guild_roster("twisting-nether", "stormwatch")  # another client, same process: same token
    assert len(fake_blizzard.calls("POST", "/token")) == 1
    gets = fake_blizzard.calls("GET")
    [token] = fake_blizzard.tokens
    assert all(c.headers["Authorization"] == f"Bearer {token}" for c in gets)
    assert all(c.query["namespace"] == "profile-us" and c.query["locale"] == "en_US" for c in gets)
    assert gets[1].path == "/profile/wow/character/twisting-nether/thrall"


def test_expired_token_is_renewed(fake_blizzard):
    fake_blizzard.expires_in = 1  # renewed half-way through its life
    api = client()
    api.guild_roster("twisting-nether", "stormwatch")
    time.sleep(0.6)
    api.guild_roster("twisting-nether", "stormwatch")
    assert len(fake_blizzard.calls("POST", "/token")) == 2


def test_wrong_credentials(fake_blizzard):
    with pytest.raises(BlizzardAuthError):
        client(client_secret="nope").guild_roster("twisting-nether", "stormwatch")


def test_roster_and_profiles(fake_blizzard):
    fake_blizzard.add_character("Thrall", class_id=7, spec=(262, "Elemental"), rank=0)
    fake_blizzard.add_character("Kel", class_id=8, realm_slug="azjolnerub", realm_name="Azjol-Nerub")
    fetch = client().fetch_guild()
    by_name = {c["character_name"]: c for c in fetch.characters}
    assert by_name["Thrall"]["spec_id"] == 262 and by_name["Thrall"]["rank_index"] == 0
    assert by_name["Thrall"]["last_login_at"].year == 2025
    assert by_name["Kel"]["realm_slug"] == "azjolnerub"  # the API's slug, not the rule's "azjol-nerub"
    assert fetch.not_found == [] and fetch.errors == []


def test_429_backs_off_and_retries(fake_blizzard):
    fake_blizzard.add_character("Thrall")
    fake_blizzard.fail_next("GET", r"/roster", 429, {"code": 429, "detail": "Too Many Requests"},
                            headers={"Retry-After": "0.05"}, times=2)
    roster = client().guild_roster("twisting-nether", "stormwatch")
    assert len(roster["members"]) == 1
    assert len(fake_blizzard.calls("GET", r"/roster")) == 3


def test_5xx_retried_with_backoff_then_gives_up(fake_blizzard):
    fake_blizzard.fail_next("GET", r"/roster", 503, "Service Unavailable", times=2)
    assert client().guild_roster("twisting-nether", "stormwatch")["guild"]["name"] == "Stormwatch"
    fake_blizzard.fail_next("GET", r"/roster", 500, "boom", times=10)
    with pytest.raises(BlizzardError) as info:
        client(max_retries=2).guild_roster("twisting-nether", "stormwatch")
    assert info.value.status == 500


def test_404_for_one_character_is_recorded_and_the_run_goes_on(fake_blizzard):
    fake_blizzard.add_character("Thrall")
    fake_blizzard.add_character("Renamed", profile=False)
    fetch = client().fetch_guild()
    assert fetch.not_found == ["Renamed-twisting-nether"]
    assert {c["character_name"] for c in fetch.characters} == {"Thrall", "Renamed"}


def test_rate_is_kept_where_blizzard_counts_it(fake_blizzard):
    """The quota holds at the fake, on its own clock: 8 threads fetch 9 pages against a
    5-per-second quota and no one-second window sees more than 5 arrivals, so none is refused.
    Counted, not timed: the pacer guarantees it whatever the machine's load (an unpaced
    client sends all 9 at once and gets 429s)."""
    for i in range(8):
        fake_blizzard.add_character(f"C{i}")
    fake_blizzard.rate_limit, fake_blizzard.latency = 5, 0.02
    fetch = client(requests_per_second=5, workers=8).fetch_guild()
    assert len(fake_blizzard.arrivals) == fetch.requests == 9 and fetch.errors == []
    assert fake_blizzard.throttled == 0
    assert fake_blizzard.busiest_window(1.0) <= 5


class FakeTime:
    """A clock that only moves when someone sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


@pytest.mark.parametrize("answer_time", [0.0, 0.05, 0.08])
def test_pacer_spaces_sends_and_holds_a_place_until_a_second_after_the_answer(answer_time):
    """The schedule itself, on an injected clock: sends 1/(2 × rate) apart, and a send waits until
    the answer of the request ``limit`` places before it is a full second old (Blizzard counts
    a request somewhere between its send and its answer)."""
    t = FakeTime()
    pacer = _Pacer(5, clock=t.clock, sleep=t.sleep)
    sends, answers = [], []
    for _ in range(17):
        with pacer.slot():
            sends.append(t.now)
            t.now += answer_time
        answers.append(t.now)
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(sends, sends[1:], strict=False))
    assert all(sends[k] >= answers[k - 5] + 1.0 - 1e-9 for k in range(5, len(sends)))
    for k, start in enumerate(sends):  # no one-second window holds 6 requests' lifetimes
        assert sum(1 for s, a in zip(sends, answers, strict=True) if s < start + 1.0 and a >= start) <= 5, k


def test_pacer_below_one_request_per_second():
    t = FakeTime()
    pacer = _Pacer(0.5, clock=t.clock, sleep=t.sleep)
    sends = []
    for _ in range(3):
        with pacer.slot():
            sends.append(t.now)
    assert sends == [0.0, 2.0, 4.0]


def test_pacer_counts_requests_still_waiting_for_their_answer():
    """Places held by requests not yet answered count too: with all 3 places in flight the
    4th send waits (it looks again every 1/rate) until one is answered and a second old."""
    t = FakeTime()
    pacer = _Pacer(3, clock=t.clock, sleep=t.sleep)
    slots = [pacer.slot() for _ in range(3)]
    for s in slots:
        s.__enter__()
    assert (pacer.in_flight, pacer._delay(t.now)) == (3, pacer.interval)
    t.now = 5.0
    slots[0].__exit__(None, None, None)  # answered at 5.0
    assert pacer._delay(t.now) == pytest.approx(1.0)
    with pacer.slot():
        assert t.now == pytest.approx(6.0)


@pytest.mark.django_db
def test_blizzard_pipeline_writes_characters_and_log(fake_blizzard):
    fake_blizzard.add_character("Thrall", class_id=7, spec=(262, "Elemental"), rank=1)
    fake_blizzard.add_character("Gone", profile=False, class_id=1)
    result = pipeline.run_blizzard_pipeline("test")
    assert result.steps[:3] == ["sync", "match", "check"]
    log = SyncLog.objects.get(pk=result.sync_log_id)
    assert log.status == SyncLog.Status.PARTIAL and log.stats["not_found"] == ["Gone-twisting-nether"]
    thrall = WowCharacter.objects.get(character_name="Thrall")
    assert thrall.active_spec.name == "Elemental" and thrall.guild_rank.name == "Officer" and thrall.last_api_sync


@pytest.mark.django_db
def test_blizzard_pipeline_failure_is_logged(fake_blizzard):
    fake_blizzard.fail_next("GET", r"/roster", 500, "boom", times=20)
    with pytest.raises(Exception, match="Blizzard API"):
        pipeline.run_blizzard_pipeline("test", client=client(max_retries=1))
    log = SyncLog.objects.get(source="blizzard")
    assert log.status == SyncLog.Status.FAILED and "500" in log.error


def test_revoked_token_is_renewed_once(fake_blizzard):
    api = client()
    api.guild_roster("twisting-nether", "stormwatch")
    fake_blizzard.tokens.clear()  # Blizzard revoked it early
    api.guild_roster("twisting-nether", "stormwatch")
    assert len(fake_blizzard.calls("POST", "/token")) == 2


@pytest.mark.django_db
def test_real_shaped_roster_ranks_0_to_9_non_ascii_names_and_members_without_a_profile(fake_blizzard):
    """Issue #12: a roster as real ones look (all ten rank indexes, most members in 5–9, names
    outside ASCII, profiles that 404) syncs every member with a rank and its name intact."""
    added = fake_blizzard.add_real_shaped_guild()
    result = pipeline.run_blizzard_pipeline("test")
    log = SyncLog.objects.get(pk=result.sync_log_id)
    assert sorted(log.stats["not_found"]) == ["Bankalt-twisting-nether", "Transférée-azjolnerub"]
    chars = {c.character_name: c for c in WowCharacter.objects.select_related("guild_rank", "active_spec")}
    assert set(chars) == {a["name"] for a in added}
    for a in added:
        assert chars[a["name"]].guild_rank.blizzard_rank_index == a["rank"], a["name"]
    assert chars["Вейдер"].active_spec.name == "Blood" and chars["Nø"].guild_rank.name == "Officer"
    assert chars["Grünbart"].guild_rank.name == "Rank 5" and chars["Bankalt"].guild_rank.name == "Rank 8"
    assert chars["Transférée"].realm_slug == "azjolnerub" and chars["Bankalt"].active_spec is None
    low = sum(1 for a in added if a["rank"] >= 5)
    assert WowCharacter.objects.filter(guild_rank__blizzard_rank_index__gte=5).count() == low > len(added) / 2
