"""Results per governor (attendance, record, the no-show suggestion), retention (dry run and
totals kept), the daily fill nudge, and the officers' notice when someone withdraws after lock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from ark import services
from ark.models import AuditLog, Ban, GovernorRecord, Match, SentReminder, Signup
from bot.models import OutboxMessage
from tests.ark.conftest import CLOSE, CONF_CHANNEL, NOW, REG_CHANNEL, START, WEEKEND, sign, user

AFTER = START + dt.timedelta(hours=3)


def weekend_match(make_match, k: int, ally=None):
    """The k-th Ark weekend after WEEKEND (fortnightly)."""
    shift = dt.timedelta(days=14 * k)
    return make_match(ally, weekend=WEEKEND + shift, start=START + shift, close=CLOSE + shift)


@pytest.mark.django_db
def test_attendance_is_recorded_after_the_start_and_adds_up_in_the_record(match, governors):
    sign(match, 1)
    sign(match, 2)
    with pytest.raises(services.ArkError, match="once the match has started"):
        services.set_attendance(match_id=match.pk, governor_id=1, attendance="played", now=NOW)
    services.mark_checked_in(match_id=match.pk, discord_user_id=user(1), now=START - dt.timedelta(hours=1))
    services.set_attendance(match_id=match.pk, governor_id=1, attendance="played", now=AFTER)
    services.set_attendance(match_id=match.pk, governor_id=2, attendance="No-show", now=AFTER)
    with pytest.raises(services.ArkError, match="played, no_show or excused"):
        services.set_attendance(match_id=match.pk, governor_id=2, attendance="maybe", now=AFTER)
    with pytest.raises(services.NotFoundError):
        services.set_attendance(match_id=match.pk, governor_id=5, attendance="played", now=AFTER)
    g1, g2 = governors[0], governors[1]
    assert services.governor_record(g1) == services.GovernorStats(signed_up=1, checked_in=1, played=1)
    assert services.governor_record(g2) == services.GovernorStats(signed_up=1, no_show=1)
    assert AuditLog.objects.filter(action="attendance_set").count() == 2


@pytest.mark.django_db
def test_no_show_threshold_suggests_a_ban_and_never_bans(make_match, alliance, governors):
    alliance.no_show_threshold, alliance.no_show_window = 2, 3
    alliance.save()
    for k, outcome in enumerate(["no_show", "played", "no_show"]):
        m = weekend_match(make_match, k)
        sign(m, 4)
        sign(m, 5)
        shift = dt.timedelta(days=14 * k)
        services.set_attendance(match_id=m.pk, governor_id=4, attendance=outcome, now=AFTER + shift)
        services.set_attendance(match_id=m.pk, governor_id=5, attendance="played" if k else "no_show", now=AFTER + shift)
        if k == 1:  # one no-show is below the threshold
            assert services.no_show_suggestions(alliance, now=AFTER + shift) == []
    [suggestion] = services.no_show_suggestions(alliance, now=AFTER + dt.timedelta(days=28))
    assert suggestion.governor.governor_id == 4 and suggestion.no_shows == 2
    assert suggestion.reason == "2 no-shows in the last 3 Ark matches (Osiris Guard)"
    assert not Ban.objects.exists()  # a suggestion only
    services.add_ban(governor_id=4, reason=suggestion.reason, weekends=2, now=AFTER + dt.timedelta(days=28))
    assert services.no_show_suggestions(alliance, now=AFTER + dt.timedelta(days=28)) == []


@pytest.mark.django_db
def test_retention_dry_run_changes_nothing_and_the_real_run_keeps_totals(match, governors, capsys):
    sign(match, 1)
    sign(match, 2)
    services.set_attendance(match_id=match.pk, governor_id=1, attendance="played", now=AFTER)
    services.set_attendance(match_id=match.pk, governor_id=2, attendance="no_show", now=AFTER)
    later = AFTER + dt.timedelta(days=800)
    before = (Signup.objects.count(), AuditLog.objects.count())
    report = services.purge_old_records(now=later, dry_run=True)
    assert (report.signups, report.governors_archived) == (2, 2) and str(report).startswith("would delete 2 signup(s)")
    assert (Signup.objects.count(), AuditLog.objects.count()) == before
    call_command("ark_retention", "--dry-run")  # today: nothing is two years old
    assert "would delete 0 signup(s)" in capsys.readouterr().out
    record_before = services.governor_record(governors[1])
    report = services.purge_old_records(now=later)
    assert not Signup.objects.exists() and Match.objects.filter(pk=match.pk).exists()
    assert list(AuditLog.objects.values_list("action", flat=True)) == ["retention_purged"]  # the old rows went
    assert GovernorRecord.objects.count() == 2
    assert services.governor_record(governors[1]) == record_before == services.GovernorStats(signed_up=1, no_show=1)


@pytest.fixture
def nudging(alliance):
    return services.save_calendar(
        alliance=alliance, slots=["Sat 12:00"], nudge_time_utc=dt.time(18, 0),
        quiet_start_utc=dt.time(22, 0), quiet_end_utc=dt.time(8, 0),
    )


def nudges(fake_discord):
    return [m for m in fake_discord.posted(REG_CHANNEL) if m["content"] and "players" in m["content"]]


@pytest.mark.django_db
def test_daily_fill_post_once_a_day_edited_when_nothing_changed(nudging, match, governors, deliver_outbox, fake_discord):
    sign(match, 1)
    day1 = dt.datetime(2030, 3, 6, 18, 5, tzinfo=dt.UTC)
    assert services.post_fill_nudges(now=day1 - dt.timedelta(minutes=10)).posted == []  # not yet
    assert services.post_fill_nudges(now=day1).posted == [match.pk]
    assert services.post_fill_nudges(now=day1 + dt.timedelta(minutes=5)).posted == []  # once per day
    deliver_outbox()
    [post] = nudges(fake_discord)
    assert post["content"].startswith("**Ark of Osiris — Osiris Guard** · 1/3 players, 0 subs; closes <t:")
    # next day, same fill: the post is edited in place
    day2 = day1 + dt.timedelta(days=1)
    assert services.post_fill_nudges(now=day2).edited == [match.pk]
    deliver_outbox()
    [post2] = nudges(fake_discord)
    assert post2["id"] == post["id"] and post2.get("edited") == 1
    # the fill changed: a new post
    sign(match, 2)
    services.post_fill_nudges(now=day2 + dt.timedelta(days=1))
    deliver_outbox()
    assert len(nudges(fake_discord)) == 2 and "2/3 players" in nudges(fake_discord)[-1]["content"]
    assert SentReminder.objects.filter(reminder_type="fill_nudge").count() == 3


@pytest.mark.django_db
def test_no_nudge_in_quiet_hours_or_after_close(nudging, alliance, match):
    services.save_calendar(alliance=alliance, slots=["Sat 12:00"], nudge_time_utc=dt.time(23, 0),
                           quiet_start_utc=dt.time(22, 0), quiet_end_utc=dt.time(8, 0))
    assert services.post_fill_nudges(now=dt.datetime(2030, 3, 6, 23, 30, tzinfo=dt.UTC)).posted == []
    assert services.post_fill_nudges(now=CLOSE + dt.timedelta(hours=1)).posted == []
    assert not OutboxMessage.objects.filter(topic="ark.nudge").exists()


@pytest.mark.django_db
def test_withdraw_after_lock_tells_the_officers_who_left_and_who_moved_up(match, alliance, governors, deliver_outbox, fake_discord):
    for n in range(1, 6):
        sign(match, n)
    services.lock_match(match_id=match.pk, now=CLOSE)
    services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(2), now=CLOSE)
    deliver_outbox()
    [notice] = [m for m in fake_discord.posted(CONF_CHANNEL) if m["content"] and "withdrew" in m["content"]]
    assert "Gov2 withdrew" in notice["content"] and "Promoted: Gov4 (Sub → Player)" in notice["content"]
    assert "Fill now: 3/3 players, 1 subs" in notice["content"]
    assert "set Osiris Guard's officer channel in the admin" in notice["content"]  # no officer channel yet
    alliance.officer_channel_id = 123_456
    alliance.save()
    services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(3), now=CLOSE)
    deliver_outbox()
    [notice] = fake_discord.posted(123_456)
    assert "Gov3 withdrew" in notice["content"] and "officer channel" not in notice["content"]


@pytest.mark.django_db
def test_season_tasks_call_the_services_and_report(alliance):
    from ark.tasks import ark_calendar_task, ark_nudge_task

    services.save_calendar(alliance=alliance, slots=["Sat 12:00"], days_ahead=30)
    assert ark_calendar_task().startswith("created ")
    assert Match.objects.filter(alliance=alliance, scheduled_by_calendar=True).exists()  # today's calendar
    assert ark_nudge_task().endswith("edited in place")
