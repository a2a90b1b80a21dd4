"""The Warcraft Logs answers are written by strangers (character names, servers, report
contents): the parsing never crashes on them and the import never half-writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raids import services
from raids.models import RaidAttendance, RaidEvent
from raids.warcraftlogs import (
    MAX_NAME,
    WarcraftLogsError,
    WarcraftLogsFormatError,
    parse_report_players,
    parse_reports,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
hostile_text = st.one_of(st.text(max_size=80), st.just(""), st.just("   "), st.just("Aeryn\x00"),
                         st.just("A" * 5000), st.just("Ærÿn‮"), st.just("'; DROP TABLE raids_raidevent; --"))
hostile_id = st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.booleans(), st.none(), st.floats(),
                       st.text(max_size=5), st.just("\x00"))
actor = st.fixed_dictionaries({"id": hostile_id, "name": st.one_of(hostile_text, st.integers(), st.none()),
                               "server": st.one_of(hostile_text, st.none(), st.just("Silvermoon")),
                               "type": st.sampled_from(["Player", "Pet", "NPC"])})
fight = st.fixed_dictionaries({"id": hostile_id, "friendlyPlayers": st.one_of(
    st.lists(hostile_id, max_size=6), st.lists(st.integers(min_value=0, max_value=8), max_size=8), st.none(),
    st.text(max_size=5))})


def _shape(data: object) -> dict:
    return {"reportData": {"report": data}}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_is_parsed_or_refused_cleanly(data):
    for payload in (data, _shape(data), _shape({"fights": data, "masterData": {"actors": data}})):
        try:
            result = parse_report_players("code", payload)
        except WarcraftLogsFormatError:
            continue
        for seen in result.seen:
            assert isinstance(seen.name, str) and 0 < len(seen.name) <= MAX_NAME
            assert isinstance(seen.server, str) and len(seen.server) <= MAX_NAME
        assert len(result.rejected) <= 200
    for payload in (data, {"reportData": {"reports": data}}, {"reportData": {"reports": {"data": data}}}):
        try:
            reports, more = parse_reports(payload)
        except WarcraftLogsFormatError:
            continue
        assert all(r.code.isalnum() and r.start_ms >= 0 for r in reports) and more in (True, False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actor, max_size=12), st.lists(fight, max_size=5))
def test_hostile_actors_and_fights_keep_only_readable_players(actors, fights):
    result = parse_report_players("code", _shape({"fights": fights, "masterData": {"actors": actors}}))
    readable = {a["id"] for a in actors if isinstance(a["id"], int) and not isinstance(a["id"], bool)}
    listed = {p for f in fights if isinstance(f["friendlyPlayers"], list) for p in f["friendlyPlayers"]}
    assert len(result.seen) <= len(readable & listed)
    for seen in result.seen:
        assert "\x00" not in seen.name and seen.name == seen.name.strip() and len(seen.name) <= MAX_NAME


@pytest.mark.django_db
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(actors=st.lists(actor, max_size=8), fights=st.lists(fight, max_size=4))
def test_a_hostile_report_imports_whole_or_not_at_all(fake_wcl, raid_night, make_event, make_player, actors, fights):

    with transaction.atomic():
        aeryn = make_player("Aeryn")  # the main is linked (tests/factories.raid_player)
        event = make_event(raid_night, timezone.now() - dt.timedelta(hours=4))
        RaidAttendance.objects.create(event=event, player=aeryn, status="accepted", signed_up=True)
        actors = [*actors, {"id": 1, "name": "Aeryn", "server": "Silvermoon", "type": "Player"}]
        fake_wcl.reports.clear()
        fake_wcl.add_report("hOsTiLe000000001", event.start_time_utc, event.end_time_utc, [],
                            raw_actors=actors, raw_fights=fights)
        try:
            result = services.import_wcl_attendance(event)
        except WarcraftLogsError:
            event.refresh_from_db()
            assert event.wcl_import_status == "" and event.wcl_claimed_until is None
            assert not RaidAttendance.objects.filter(event=event, attended=True).exists()
        else:
            assert result.status == "imported"
            event.refresh_from_db()
            assert event.wcl_import_status == "imported"
            # only the one linked player can ever be marked; everything else is listed, not written
            assert set(RaidAttendance.objects.filter(event=event).values_list("player_id", flat=True)) == {aeryn.pk}
            assert len(event.wcl_import_report["unplaced"]) == len(result.unplaced[:200])
        transaction.set_rollback(True)
    assert not RaidEvent.objects.exists()
