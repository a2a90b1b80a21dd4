"""Organisers type local times; daylight saving time is never guessed at (issue 20).

A time the clocks skip is refused with the valid minutes around the jump; a time the clocks
show twice is refused unless the UTC offset says which one is meant; any accepted time reads
back as the wall-clock time that was typed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ratmas import services
from ratmas.services import RatmasError

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "UTC", "Asia/Kolkata")


def refusal(text: str, zone: str = "Europe/Berlin") -> str:
    with pytest.raises(RatmasError) as refused:
        services.parse_local_datetime(text, zone)
    return str(refused.value)


def test_a_time_the_clocks_skip_is_refused_naming_the_times_around_it():
    assert refusal("2026-03-29 02:30") == (
        "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks go forward from 02:00 to 03:00 that "
        "night. The valid times around it are 01:59 (+01:00) and 03:00 (+02:00).")
    with pytest.raises(RatmasError, match=r"from 02:00 to 02:30 .* 01:59 \(\+10:30\) and 02:30 \(\+11:00\)"):
        services.parse_local_datetime("2026-10-04 02:10", "Australia/Lord_Howe")  # a half-hour jump
    with pytest.raises(RatmasError, match="does not exist"):
        services.parse_local_datetime("2026-03-29 02:30 +02:00", "Europe/Berlin")  # an offset does not help
    assert services.parse_local_datetime("2026-03-29 03:00", "Europe/Berlin") == dt.datetime(2026, 3, 29, 1, 0,
                                                                                          tzinfo=dt.UTC)


def test_a_time_the_clocks_show_twice_asks_which_one():
    assert refusal("2026-10-25 02:30") == (
        "2026-10-25 02:30 happens twice in Europe/Berlin: the clocks go back an hour that night. Write "
        "'2026-10-25 02:30 +02:00' for the first (before the change) or '2026-10-25 02:30 +01:00' for the second.")
    first = services.parse_local_datetime("2026-10-25 02:30 +02:00", "Europe/Berlin")
    second = services.parse_local_datetime("2026-10-25 02:30 +01:00", "Europe/Berlin")
    assert (first, second) == (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
                               dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC))
    with pytest.raises(RatmasError, match=r"is at \+02:00 or \+01:00 at 2026-10-25 02:30, not \+05:00"):
        services.parse_local_datetime("2026-10-25 02:30 +05:00", "Europe/Berlin")
    with pytest.raises(RatmasError, match="go back 30 minutes"):
        services.parse_local_datetime("2026-04-05 01:45", "Australia/Lord_Howe")


def test_ordinary_times_and_offsets():
    assert services.parse_local_datetime(" 2026-12-24  18:00 ", "Europe/Berlin") == dt.datetime(
        2026, 12, 24, 17, 0, tzinfo=dt.UTC)
    assert services.parse_local_datetime("2026-12-24 18:00 +01:00", "Europe/Berlin") == dt.datetime(
        2026, 12, 24, 17, 0, tzinfo=dt.UTC)
    with pytest.raises(RatmasError, match=r"is at \+01:00 at 2026-12-24 18:00, not \+02:00"):
        services.parse_local_datetime("2026-12-24 18:00 +02:00", "Europe/Berlin")
    for bad in ("24/12/2026", "2026-12-24 18:00 soon", "2026-12-24", "2026-12-24 18:00 +01:00 x"):
        with pytest.raises(RatmasError, match="YYYY-MM-DD HH:MM"):
            services.parse_local_datetime(bad, "UTC")


def test_opening_an_event_on_a_skipped_time_says_so(db):
    with pytest.raises(RatmasError, match="does not exist in Europe/Berlin"):
        services.open_signups(1, may_organise=lambda event: True, signup_deadline="2027-03-28 02:30",
                              purchase_deadline="2027-04-10 18:00", reveal_date="2027-04-20 18:00",
                              time_zone="Europe/Berlin")


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES),
       moment=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31)),  # noqa: DTZ001 (wall-clock times)
       offset_minutes=st.none() | st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_every_accepted_time_reads_back_as_typed(zone, moment, offset_minutes):
    moment = moment.replace(second=0, microsecond=0)
    text = f"{moment:%Y-%m-%d %H:%M}"
    if offset_minutes is not None:
        sign = "+" if offset_minutes >= 0 else "-"
        text += f" {sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    tz = zoneinfo.ZoneInfo(zone)
    try:
        parsed = services.parse_local_datetime(text, zone)
    except RatmasError as exc:
        assert moment.strftime("%Y-%m-%d %H:%M") in str(exc)
        return
    local = parsed.astimezone(tz)
    assert parsed.tzinfo is dt.UTC and local.replace(tzinfo=None) == moment
    if offset_minutes is not None:
        assert local.utcoffset() == dt.timedelta(minutes=offset_minutes)
    else:  # without an offset only a time with exactly one reading is accepted
        assert moment.replace(tzinfo=tz, fold=0).utcoffset() == moment.replace(tzinfo=tz, fold=1).utcoffset()
