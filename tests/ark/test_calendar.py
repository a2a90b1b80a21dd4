"""The season calendar: cadence, per-alliance slots and close rule, the scheduler (exactly once,
even with two workers), /ark create_match's slots, and bans counted in Ark weekends."""

from __future__ import annotations

import datetime as dt

import pytest

from ark import services
from ark.models import ArkSettings, Match, MessageRef
from bot.models import OutboxMessage
from tests.ark.conftest import REG_CHANNEL, WEEKEND

UTC = dt.UTC


def at(y, m, d, h=12, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)


@pytest.fixture
def calendar(alliance):
    return services.save_calendar(alliance=alliance, slots=["Sat 12:00", "Sat 20:00", "Sun 04:00"], days_ahead=30)


@pytest.mark.django_db
def test_cadence_counts_every_second_weekend_from_the_anchor():
    cadence = services.get_cadence()
    assert (cadence.cadence_weekends, cadence.anchor_weekend) == (2, WEEKEND)
    assert services.is_ark_weekend(WEEKEND) and not services.is_ark_weekend(WEEKEND + dt.timedelta(days=7))
    assert services.next_ark_weekend(WEEKEND + dt.timedelta(days=1)) == WEEKEND  # a Sunday belongs to its Saturday
    assert services.next_ark_weekend(WEEKEND + dt.timedelta(days=2)) == WEEKEND + dt.timedelta(days=14)
    with pytest.raises(services.ArkError, match="Saturday"):
        services.save_cadence(cadence_weekends=2, anchor_weekend=dt.date(2026, 3, 8))
    with pytest.raises(services.ArkError, match="1 to 8"):
        services.save_cadence(cadence_weekends=0, anchor_weekend=WEEKEND)


@pytest.mark.django_db
def test_scheduler_creates_due_matches_across_the_end_of_a_year(calendar, deliver_outbox, fake_discord):
    # Ark weekends of this cadence around the new year: 2030-12-28, then 2031-01-11
    report = services.create_scheduled_matches(now=at(2030, 12, 20))
    matches = list(Match.objects.order_by("ark_weekend_date"))
    assert [m.ark_weekend_date for m in matches] == [dt.date(2030, 12, 28), dt.date(2031, 1, 11)]
    assert report.created == [m.pk for m in matches]
    first = matches[0]
    assert (first.match_day, first.match_time_utc, first.signup_close_utc) == ("Sat", at(2030, 12, 28), at(2030, 12, 27, 23))
    assert first.scheduled_by_calendar
    deliver_outbox()
    assert len([m for m in fake_discord.posted(REG_CHANNEL) if m["embeds"]]) == 2  # the registration posts
    # running again (or later the same day) creates nothing more
    assert services.create_scheduled_matches(now=at(2030, 12, 20, 13)).created == []
    assert Match.objects.count() == 2


@pytest.mark.django_db
def test_a_skipped_weekend_and_a_cancelled_match_are_not_created(alliance, calendar):
    services.save_calendar(alliance=alliance, slots=["Sat 12:00"], days_ahead=45, skipped_weekends=["2031-01-11"])
    services.create_scheduled_matches(now=at(2030, 12, 20))
    weekends = sorted(Match.objects.values_list("ark_weekend_date", flat=True))
    assert weekends == [dt.date(2030, 12, 28), dt.date(2031, 1, 25)]
    first = Match.objects.get(ark_weekend_date=dt.date(2030, 12, 28))
    services.cancel_match(match_id=first.pk, reason="server merge")
    services.create_scheduled_matches(now=at(2030, 12, 21))
    assert Match.objects.filter(ark_weekend_date=dt.date(2030, 12, 28)).count() == 1  # the officers' decision stands


@pytest.mark.django_db
def test_scheduler_leaves_closed_weekends_and_alliances_without_channels(alliance, calendar):
    alliance.registration_channel_id = None
    alliance.save()
    report = services.create_scheduled_matches(now=at(2030, 12, 20))
    assert report.created == [] and "registration channel" in report.skipped[0]
    alliance.registration_channel_id = REG_CHANNEL
    alliance.save()
    # Saturday morning of an Ark weekend: its signups closed last night, only the later ones are made
    services.create_scheduled_matches(now=at(2030, 12, 28, 8))
    assert sorted(Match.objects.values_list("ark_weekend_date", flat=True)) == [dt.date(2031, 1, 11), dt.date(2031, 1, 25)]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_create_each_scheduled_match_once(calendar, run_in_parallel):
    results = run_in_parallel(lambda i: services.create_scheduled_matches(now=at(2030, 12, 20)), 4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(len(r.created) for r in results) == 2
    assert Match.objects.count() == 2
    posts = OutboxMessage.objects.filter(topic="ark.registration")
    assert posts.count() == 2 and MessageRef.objects.count() == 2


@pytest.mark.django_db
def test_create_match_offers_only_calendar_slots_and_computes_the_close(alliance, calendar):
    weekend = dt.date(2030, 12, 28)
    assert services.slot_schedule(alliance, weekend, "Sun 04:00") == ("Sun", at(2030, 12, 29, 4), at(2030, 12, 27, 23))
    with pytest.raises(services.ArkError, match="allowed: Sat 12:00, Sat 20:00, Sun 04:00"):
        services.slot_schedule(alliance, weekend, "Sat 18:00")
    with pytest.raises(services.ArkError, match="not an Ark weekend.*2030-12-28"):
        services.slot_schedule(alliance, dt.date(2030, 12, 21), "Sat 12:00")


@pytest.mark.django_db
def test_calendar_validation(alliance):
    with pytest.raises(services.ArkError, match="like 'Sat 20:00'"):
        services.save_calendar(alliance=alliance, slots=["Saturday noon"])
    with pytest.raises(services.ArkError, match="starts before signups close"):
        services.save_calendar(alliance=alliance, slots=["Sat 12:00"], close_days_before=0, close_time_utc=dt.time(20))
    with pytest.raises(services.ArkError, match="by its Saturday"):
        services.save_calendar(alliance=alliance, slots=["Sat 12:00"], skipped_weekends=["2030-12-29"])


@pytest.mark.django_db
def test_a_ban_counts_ark_weekends_of_the_cadence():
    ArkSettings.objects.filter(pk=1).update(anchor_weekend=dt.date(2026, 3, 7), cadence_weekends=2)
    ban = services.add_ban(discord_user_id=5, reason="no-show", weekends=3, now=at(2026, 3, 7, 9))
    assert (ban.starts_weekend, ban.ends_on) == (dt.date(2026, 3, 7), dt.date(2026, 4, 5))
    assert services.get_active_ban_for(discord_user_id=5, ark_weekend_date=dt.date(2026, 4, 4)) == ban
    assert services.get_active_ban_for(discord_user_id=5, ark_weekend_date=dt.date(2026, 4, 18)) is None
    # banned in a week without Ark: counting starts at the next Ark weekend
    ban = services.add_ban(discord_user_id=6, reason="toxic", weekends=1, now=at(2026, 3, 10))
    assert (ban.starts_weekend, ban.ends_on) == (dt.date(2026, 3, 21), dt.date(2026, 3, 22))
