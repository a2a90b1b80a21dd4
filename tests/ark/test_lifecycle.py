"""The minute task: lock at close, reminders (at most once, late ones skipped), result
reminders; restart resilience and two workers at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from ark import services
from ark.models import AuditLog, Match, MessageRef, SentReminder
from ark.tasks import ark_lifecycle_task
from bot.delivery import claim_due
from bot.models import OutboxMessage
from tests.ark.conftest import CLOSE, CONF_CHANNEL, REG_CHANNEL, START, WEEKEND, sign, user

H = dt.timedelta(hours=1)


def reminders(**filters):
    return sorted((r.reminder_type, r.target_id, r.status) for r in SentReminder.objects.filter(**filters))


@pytest.mark.django_db
def test_registration_close_reminder_goes_to_the_channel(match, deliver_outbox, fake_discord):
    services.run_lifecycle(now=CLOSE - 2 * H)
    assert not SentReminder.objects.exists()
    services.run_lifecycle(now=CLOSE - H + dt.timedelta(minutes=1))
    assert reminders() == [("registration_close_1h", REG_CHANNEL, "queued")]
    deliver_outbox()
    texts = [m["content"] for m in fake_discord.posted(REG_CHANNEL) if m["content"]]
    assert len(texts) == 1 and "closes" in texts[0]


@pytest.mark.django_db
def test_dm_reminders_respect_prefs_and_fire_once(match, governors, deliver_outbox, fake_discord):
    for n in (1, 2, 3):
        sign(match, n)
    services.upsert_reminder_prefs(discord_user_id=user(2), dm_enabled=False)
    services.upsert_reminder_prefs(discord_user_id=user(3), disabled_types=["checkin_12h"])
    at = START - 12 * H + dt.timedelta(minutes=2)
    services.run_lifecycle(now=at)
    services.run_lifecycle(now=at + dt.timedelta(minutes=1))
    assert reminders(reminder_type="checkin_12h") == [("checkin_12h", user(1), "queued")]
    deliver_outbox()
    [dm] = fake_discord.dms_to(user(1))
    assert "Check-in is open" in dm["content"] and dm["components"][0]["components"][0][
        "custom_id"
    ].startswith("ark:checkin:")
    assert fake_discord.dms_to(user(2)) == [] and fake_discord.dms_to(user(3)) == []
    services.run_lifecycle(now=START - 4 * H)
    assert {r[1] for r in reminders(reminder_type="4h")} == {user(1), user(3)}


@pytest.mark.django_db
def test_late_reminders_are_skipped_not_sent(match, governors, deliver_outbox, fake_discord):
    sign(match, 1)
    # the workers were down from Friday until 3 hours before the start
    report = services.run_lifecycle(now=START - 3 * H)
    assert report.locked == 1
    assert reminders(status="skipped_late") == [
        ("4h", user(1), "skipped_late"),
        ("checkin_12h", user(1), "skipped_late"),
        ("registration_close_1h", REG_CHANNEL, "skipped_late"),
    ]
    assert not SentReminder.objects.filter(status="queued").exists()
    deliver_outbox()
    assert fake_discord.dms_to(user(1)) == []
    # within 20 minutes it is still sent
    services.run_lifecycle(now=START - H + dt.timedelta(minutes=19))
    assert reminders(reminder_type="1h") == [("1h", user(1), "queued")]


@pytest.mark.django_db
def test_reschedule_plans_new_reminders_and_never_repeats(match, governors, deliver_outbox, fake_discord):
    sign(match, 1)
    services.run_lifecycle(now=START - 4 * H)
    deliver_outbox()
    assert reminders(reminder_type="4h") == [("4h", user(1), "queued")]
    services.run_lifecycle(now=START - H)  # queued, not yet delivered
    later = START + 2 * H
    services.amend_match(match_id=match.pk, match_time_utc=later, actor_discord_id=1)
    # the 1h reminder for the old time was withdrawn before delivery: its outbox row is
    # kept, marked cancelled, and never delivered
    assert reminders(reminder_type="1h") == [("1h", user(1), "dropped")]
    withdrawn = SentReminder.objects.get(reminder_type="1h").outbox
    assert withdrawn.status == "cancelled" and "withdrawn" in withdrawn.last_error
    deliver_outbox()
    dms = [m["content"] for m in fake_discord.dms_to(user(1))]
    assert len(dms) == 2 and "starts" in dms[0]  # the 4h one for the old time
    assert f"moved to **<t:{int(later.timestamp())}:F>**" in dms[1]  # and the news
    assert OutboxMessage.objects.get(pk=withdrawn.pk).status == "cancelled"
    services.run_lifecycle(now=later - 4 * H + dt.timedelta(minutes=5))
    services.run_lifecycle(now=later - 4 * H + dt.timedelta(minutes=6))
    deliver_outbox()
    assert [
        r.scheduled_for for r in SentReminder.objects.filter(reminder_type="4h").order_by("scheduled_for")
    ] == [START - 4 * H, later - 4 * H]
    dms = [m["content"] for m in fake_discord.dms_to(user(1))]
    assert len(dms) == 3 and f"<t:{int(later.timestamp())}:F>" in dms[2]  # the new 4h reminder, once


@pytest.mark.django_db
def test_cancel_drops_pending_reminders(match, governors, deliver_outbox, fake_discord):
    sign(match, 1)
    services.run_lifecycle(now=START - 4 * H)
    services.cancel_match(match_id=match.pk)
    assert reminders(reminder_type="4h") == [("4h", user(1), "dropped")]
    assert SentReminder.objects.get(reminder_type="4h").outbox.status == "cancelled"  # kept, withdrawn
    assert AuditLog.objects.get(action="match_cancelled").details["reminders_dropped"] == 1
    deliver_outbox()
    assert [m["content"] for m in fake_discord.dms_to(user(1))] == [
        m["content"] for m in fake_discord.dms_to(user(1)) if "cancelled" in m["content"]
    ]
    services.run_lifecycle(now=START)
    assert not SentReminder.objects.filter(reminder_type="start").exists()


@pytest.mark.django_db
def test_result_reminder_to_officers_once(match, governors, deliver_outbox, fake_discord):
    services.run_lifecycle(now=CLOSE)
    services.run_lifecycle(now=START + H)
    assert not OutboxMessage.objects.filter(topic="ark.result_reminder").exists()
    services.run_lifecycle(now=START + 2 * H)
    services.run_lifecycle(now=START + 3 * H)
    deliver_outbox()
    texts = [
        m["content"] for m in fake_discord.posted(CONF_CHANNEL) if "no result yet" in (m["content"] or "")
    ]
    assert len(texts) == 1 and f"match_id:{match.pk}" in texts[0]
    services.set_match_result(match_id=match.pk, result="Loss", now=START + 4 * H)
    assert Match.objects.get(pk=match.pk).status == "Completed"


@pytest.mark.django_db
def test_restart_between_queue_and_delivery_sends_nothing_twice(
    match, governors, deliver_outbox, fake_discord
):
    for n in (1, 2):
        sign(match, n)
    at = START - 4 * H
    services.run_lifecycle(now=at)
    # a delivery worker claims the rows and dies before recording anything
    claimed = claim_due()
    assert claimed
    # restart: the lifecycle runs again (twice) and another worker delivers after the lease
    services.run_lifecycle(now=at + dt.timedelta(minutes=1))
    services.run_lifecycle(now=at + dt.timedelta(minutes=2))
    OutboxMessage.objects.filter(status="sending").update(next_attempt_at=timezone.now())  # lease lapsed
    deliver_outbox()
    deliver_outbox()
    assert len(fake_discord.posted(REG_CHANNEL)) == 1
    assert len(fake_discord.posted(CONF_CHANNEL)) == 1
    for n in (1, 2):
        contents = [m["content"] for m in fake_discord.dms_to(user(n))]
        assert sorted(contents) == sorted(set(contents)) and len(contents) == 1  # the 4h reminder, once
    assert SentReminder.objects.filter(reminder_type="4h").count() == 2


@pytest.mark.django_db
def test_task_runs_and_reports(db):
    assert "0 locked" in ark_lifecycle_task()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_do_the_work_once(make_match, governors, run_in_parallel, other_alliance):
    matches = [make_match(), make_match(other_alliance)]
    for m in matches:
        for n in (1, 2, 3) if m is matches[0] else (4, 5):
            sign(m, n)
    at = START - 4 * H  # past the close: lock + confirmation + reminders in one run
    results = run_in_parallel(lambda i: services.run_lifecycle(now=at), 4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r.locked for r in results) == 2
    assert OutboxMessage.objects.filter(topic="ark.confirmation").count() == 2
    assert AuditLog.objects.filter(action="match_locked").count() == 2
    assert SentReminder.objects.filter(reminder_type="4h", status="queued").count() == 5
    assert OutboxMessage.objects.filter(topic="ark.reminder").count() == 5
    assert matches[0].ark_weekend_date == WEEKEND


@pytest.mark.django_db
def test_reminder_types_are_configurable(match, governors, settings):
    settings.ARK_REMINDER_TYPES = "24h,1h"
    sign(match, 1)
    services.run_lifecycle(now=START - 24 * H + dt.timedelta(minutes=1))
    assert reminders() == [("24h", user(1), "queued")]
    settings.ARK_REMINDER_TYPES = "5h"
    with pytest.raises(ImproperlyConfigured, match="unknown"):
        services.run_lifecycle(now=START)


@pytest.mark.django_db
def test_missing_message_ref_is_reposted_once(match, deliver_outbox, fake_discord):
    deliver_outbox()
    [posted] = fake_discord.posted(REG_CHANNEL)
    MessageRef.objects.all().delete()  # as if the reference had never been stored
    assert services.run_lifecycle(now=CLOSE - 3 * H).reposted == 1
    assert services.run_lifecycle(now=CLOSE - 3 * H).reposted == 0
    deliver_outbox()
    # the outbox still knew the message: adopted and brought up to date, not posted twice
    assert len(fake_discord.posted(REG_CHANNEL)) == 1
    assert MessageRef.objects.get().message_id == int(posted["id"])
    # a post that failed for good is posted again under a new key
    fake_discord.messages[REG_CHANNEL].clear()
    services.repost_match_messages(match_id=match.pk)
    assert MessageRef.objects.get().posts == 2


@pytest.mark.django_db
def test_promotion_dm_to_closed_dms_fails_cleanly(match, governors, deliver_outbox, fake_discord):
    for n in (1, 2, 3, 4):
        sign(match, n)
    fake_discord.closed_dms.add(user(4))
    services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(1), now=CLOSE - H)
    report = deliver_outbox()
    assert report.failed == 1
    dm = OutboxMessage.objects.get(topic="ark.promoted")
    assert dm.status == "failed" and dm.last_error_code == 50007
    assert services.get_roster(match.pk)[2].governor.governor_id == 4


@pytest.mark.django_db
def test_no_closing_soon_reminder_for_a_match_locked_early(match, governors):
    sign(match, 1)
    services.lock_match(match_id=match.pk, now=CLOSE - 3 * H)
    services.run_lifecycle(now=CLOSE - H + dt.timedelta(minutes=1))
    assert not SentReminder.objects.filter(reminder_type="registration_close_1h").exists()
    services.run_lifecycle(now=START - 4 * H)
    assert reminders(reminder_type="4h") == [("4h", user(1), "queued")]


@pytest.mark.django_db
def test_grace_boundary(match, governors, settings):
    sign(match, 1)
    services.run_lifecycle(now=START - 4 * H + dt.timedelta(minutes=20))  # exactly 20 minutes late: sent
    assert reminders(reminder_type="4h") == [("4h", user(1), "queued")]
    services.run_lifecycle(now=START - H + dt.timedelta(minutes=20, seconds=1))  # a second more: skipped
    assert reminders(reminder_type="1h") == [("1h", user(1), "skipped_late")]
    settings.ARK_REMINDER_GRACE_MINUTES = 90.0
    services.run_lifecycle(now=START + dt.timedelta(minutes=30))
    assert reminders(reminder_type="start") == [("start", user(1), "queued")]


@pytest.mark.django_db
def test_closing_soon_reminder_is_never_posted_after_the_lock(match, settings):
    settings.ARK_REMINDER_GRACE_MINUTES = 90.0  # even within a generous grace
    services.run_lifecycle(now=CLOSE + dt.timedelta(minutes=1))  # the workers were down for the hour before
    assert reminders() == [("registration_close_1h", REG_CHANNEL, "skipped_late")]
    assert not OutboxMessage.objects.filter(topic="ark.reminder").exists()
