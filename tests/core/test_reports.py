"""core.reports.RunReport: the plumbing every run report shares, derived from its fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from core.reports import RunReport


@dataclasses.dataclass
class Counts(RunReport):
    sent: int = 0
    failed: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Mixed(RunReport):
    """A report with fields that are no counters: a required date, a flag, a dict, a status."""

    LIST_LIMIT = 3
    COUNTED_LISTS = ("unplaced",)
    NOT_STORED = ("busy",)

    cutoff: dt.datetime
    status: str = "imported"
    busy: bool = False
    dry_run: bool = True
    created: int = 0
    by_source: dict[int, int] = dataclasses.field(default_factory=dict)
    unplaced: list[dict] = dataclasses.field(default_factory=list)
    pairs: list[tuple[int, int]] = dataclasses.field(default_factory=list)


CUTOFF = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)


def test_add_sums_counters_and_extends_lists():
    total = Counts(sent=2, failed=1, errors=["#1: boom"])
    part = Counts(sent=3, failed=0, errors=["#7: 503"])
    assert total.add(part) is total
    assert (total.sent, total.failed, total.errors) == (5, 1, ["#1: boom", "#7: 503"])
    assert part == Counts(sent=3, failed=0, errors=["#7: 503"])  # the part is left as it was


def test_add_counts_every_field_a_subclass_declares():
    # The bug a hand list invites: a counter added later that ``add`` forgets.
    @dataclasses.dataclass
    class Later(Counts):
        released: int = 0

    total = Later(released=1).add(Later(sent=1, released=2))
    assert (total.sent, total.released) == (1, 3)


def test_add_keeps_this_reports_flags_dates_and_dicts():
    total = Mixed(cutoff=CUTOFF, busy=False, created=1, by_source={1: 1}, unplaced=[{"n": 1}])
    other = Mixed(cutoff=CUTOFF + dt.timedelta(days=1), status="busy", busy=True, created=4, by_source={2: 2},
                  unplaced=[{"n": 2}])
    total.add(other)
    assert total.created == 5
    assert total.unplaced == [{"n": 1}, {"n": 2}]
    assert (total.cutoff, total.status, total.busy, total.by_source) == (CUTOFF, "imported", False, {1: 1})


def test_add_refuses_another_kind_of_report():
    with pytest.raises(TypeError, match="cannot add a Mixed to a Counts"):
        Counts().add(Mixed(cutoff=CUTOFF))


def test_counters_are_the_int_fields_not_the_flags():
    assert Counts(sent=1).counters() == {"sent": 1, "failed": 0}
    assert Mixed(cutoff=CUTOFF, created=2).counters() == {"created": 2}


def test_as_dict_cuts_lists_to_the_default_limit_of_50():
    report = Counts(sent=60, errors=[f"#{i}" for i in range(60)])
    data = report.as_dict()
    assert data == {"sent": 60, "failed": 0, "errors": [f"#{i}" for i in range(50)]}
    assert len(report.errors) == 60  # the report itself keeps them all


def test_as_dict_limit_can_be_given_per_call():
    assert Counts(errors=["a", "b", "c"]).as_dict(list_limit=1)["errors"] == ["a"]
    assert Counts(errors=["a", "b", "c"]).as_dict(list_limit=0)["errors"] == []


def test_as_dict_of_a_subclass_with_other_fields_is_json_safe():
    report = Mixed(cutoff=CUTOFF, busy=True, created=2, by_source={7: 3},
                   unplaced=[{"name": f"p{i}"} for i in range(5)], pairs=[(1, 2), (3, 4)])
    data = report.as_dict()
    assert data == {
        "cutoff": "2026-11-28T09:30:00+00:00",
        "status": "imported",
        "dry_run": True,
        "created": 2,
        "by_source": {"7": 3},
        "unplaced_count": 5,
        "unplaced": [{"name": "p0"}, {"name": "p1"}, {"name": "p2"}],
        "pairs": [[1, 2], [3, 4]],
    }
    assert "busy" not in data  # NOT_STORED
    assert json.loads(json.dumps(data)) == data


def test_as_dict_of_a_nested_report_is_its_as_dict():
    @dataclasses.dataclass
    class Outer(RunReport):
        inner: Counts = dataclasses.field(default_factory=Counts)

    assert Outer(inner=Counts(sent=1, errors=["x"])).as_dict() == {"inner": {"sent": 1, "failed": 0, "errors": ["x"]}}


def test_a_report_keeps_its_own_sentence():
    from bot.delivery import DeliveryReport

    report = DeliveryReport(claimed=3, sent=2, adopted=1, retrying=1)
    assert str(report) == "3 claimed, 2 sent (1 found already posted), 1 to retry, 0 failed, 0 given back unsent"
    assert report.add(DeliveryReport(claimed=1, released=1, errors=["token refused"])).as_dict() == {
        "claimed": 4, "sent": 2, "adopted": 1, "retrying": 1, "failed": 0, "released": 1,
        "errors": ["token refused"],
    }
