"""Governor stats: the CSV import with its per-row report (bad rows refused, the rest applied),
fuzzed parser, and the alliance's minimum city hall with the audited officer override."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ark import services
from ark.models import AuditLog, Governor
from tests.ark.conftest import NOW, OFFICER, sign, user

# The shape of a community tool's export (ROK stats sheets: "Governor ID, Name, Power, Kill Points,
# City Hall"), with thousands separators as spreadsheets write them.
CSV = """Governor ID,Name,Power,Kill Points,City Hall
1,Gov1,"45,210,334",1200000000,25
2,Gov2,38000000,,24
999,Stranger,1000,1,10
3,Gov3,12abc,5,20
4,Gov4,1000,5,30
1,Gov1 again,1,1,1
5,Gov5,38000000,900,22
"""


@pytest.mark.django_db
def test_csv_import_reports_every_row_and_applies_the_good_ones(governors):
    Governor.objects.filter(governor_id=5).update(power=38_000_000, kill_points=900, city_hall=22)
    report = services.import_governor_stats(data=CSV.encode(), actor_discord_id=OFFICER, now=NOW)
    by_line = {r.line: (r.outcome, r.message) for r in report.rows}
    assert by_line[2] == ("updated", "Gov1: power — → 45,210,334, kill points — → 1,200,000,000, city hall — → 25")
    assert by_line[3][0] == "updated" and "city hall — → 24" in by_line[3][1]
    assert by_line[4] == ("refused", "unknown governor 999 (Stranger): register it first")
    assert by_line[5][0] == "refused" and "bad number" in by_line[5][1] and "12abc" in by_line[5][1]
    assert by_line[6][0] == "refused" and "city hall 30 is outside 1–25" in by_line[6][1]
    assert by_line[7] == ("refused", "duplicate: governor 1 is also on line 2")
    assert by_line[8] == ("unchanged", "Gov5: no change")
    assert str(report) == "2 updated, 1 unchanged, 4 refused"
    g1 = Governor.objects.get(governor_id=1)
    assert (g1.power, g1.kill_points, g1.city_hall, g1.stats_updated_at) == (45_210_334, 1_200_000_000, 25, NOW)
    assert Governor.objects.get(governor_id=3).power is None  # the refused row changed nothing
    assert not Governor.objects.filter(governor_id=999).exists()
    assert AuditLog.objects.get(action="stats_imported").details["refused"] == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "empty"),
        (b"name,power\nA,1\n", "No governor id column"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_csv_import_refuses_unreadable_files(data, error):
    with pytest.raises(services.ArkError, match=error):
        services.import_governor_stats(data=data)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_stats_parser_takes_any_text_and_either_parses_or_refuses_clearly(text):
    try:
        columns, rows = services.parse_stats_csv(text)
    except services.ArkError as exc:
        assert str(exc)
        return
    assert "governor_id" in columns
    assert all(isinstance(line, int) for line, _ in rows)


@pytest.mark.django_db
def test_minimum_city_hall_refuses_and_an_officer_override_is_audited(match, alliance, governors):
    alliance.min_city_hall = 22
    alliance.save()
    Governor.objects.filter(governor_id=1).update(city_hall=25)
    Governor.objects.filter(governor_id=2).update(city_hall=20)
    sign(match, 1)
    with pytest.raises(services.ArkError, match="requires city hall 22 for Ark; Gov2 has city hall 20"):
        sign(match, 2)
    with pytest.raises(services.ArkError, match="no city hall level on record"):
        sign(match, 3)
    with pytest.raises(services.ArkError, match="Use the city hall override"):
        sign(match, 2, as_officer=True)
    signup = services.add_signup(
        match_id=match.pk, governor_id=2, discord_user_id=user(2), actor_discord_id=OFFICER,
        as_officer=True, override_city_hall=True, now=NOW,
    )
    row = AuditLog.objects.get(action="signup_added", signup=signup)
    assert row.is_override and row.details["city_hall_overridden"] == 20
