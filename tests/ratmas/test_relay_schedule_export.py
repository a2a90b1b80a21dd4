"""Anonymous relay, scheduled reminders, export/import."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from bot.models import OutboxMessage
from ratmas import backup, services
from ratmas.models import Event, Pairing, RelayMessage, ScheduledSend
from ratmas.services import RatmasError
from tests.ratmas.conftest import CHANNEL, GUILD, uid

pytestmark = pytest.mark.django_db


def pairing_of(event: Event, santa_user: int) -> Pairing:
    return Pairing.objects.select_related("santa", "recipient").get(event=event, santa__user_id=santa_user)


def test_relay_never_reveals_the_santa(make_event, fake_discord, deliver_outbox):
    event = make_event(4, status="matched")
    pairing = pairing_of(event, uid(1))
    relay = services.message_recipient(event, uid(1), "Do you like dragons?\nOr unicorns?")
    assert relay.direction == "to_recipient" and relay.pairing == pairing
    deliver_outbox()
    [dm] = fake_discord.dms_to(pairing.recipient.user_id)
    assert dm["content"].endswith(">>> Do you like dragons?\nOr unicorns?")
    for leak in (pairing.santa.display_name, str(pairing.santa.user_id)):
        assert leak not in json.dumps(dm)
        assert leak not in json.dumps(relay.outbox_message.payload)
    assert RelayMessage.objects.get(pk=relay.pk).delivered
    assert not fake_discord.dms_to(uid(1))

    answer = services.message_santa(event, pairing.recipient.user_id, "Dragons, always.")
    deliver_outbox()
    [back] = fake_discord.dms_to(uid(1))
    assert "Dragons, always." in back["content"] and answer.pairing == pairing


def test_relay_rules(make_event):
    event = make_event(3)
    with pytest.raises(RatmasError, match="once the pairings are drawn"):
        services.message_recipient(event, uid(1), "hi")
    services.set_status(event, "locked")
    services.generate_pairings(event)
    with pytest.raises(RatmasError, match="not a participant"):
        services.message_recipient(event, uid(9), "hi")
    with pytest.raises(RatmasError, match="empty"):
        services.message_santa(event, uid(1), "   ")
    with pytest.raises(RatmasError, match="too long"):
        services.message_santa(event, uid(1), "x" * 1501)


def test_relay_rate_limit(make_event):
    event = make_event(3, status="matched")
    for i in range(services.RELAY_LIMIT):
        services.message_recipient(event, uid(1), f"message {i}")
    with pytest.raises(RatmasError, match="per hour; try again <t:"):
        services.message_santa(event, uid(1), "one more")  # both directions count
    services.message_recipient(event, uid(2), "someone else is not limited")
    RelayMessage.objects.filter(pairing__santa__user_id=uid(1)).update(
        created_at=timezone.now() - dt.timedelta(minutes=61))
    services.message_recipient(event, uid(1), "the hour has passed")


@pytest.mark.django_db(transaction=True)
def test_relay_rate_limit_holds_under_parallel_sends(make_event, run_in_parallel):
    event = make_event(3, status="matched")
    results = run_in_parallel(lambda i: services.message_recipient(event, uid(1), f"m{i}"), 8)
    assert sum(isinstance(r, RelayMessage) for r in results) == services.RELAY_LIMIT
    assert sum(isinstance(r, RatmasError) for r in results) == 8 - services.RELAY_LIMIT
    assert RelayMessage.objects.count() == services.RELAY_LIMIT


def test_relay_to_closed_dms_bounces_to_the_sender(make_event, fake_discord, deliver_outbox):
    event = make_event(3, status="matched")
    pairing = pairing_of(event, uid(1))
    fake_discord.closed_dms.add(pairing.recipient.user_id)
    relay = services.message_recipient(event, uid(1), "hello?")
    deliver_outbox()
    deliver_outbox()
    assert not RelayMessage.objects.get(pk=relay.pk).delivered
    [bounce] = fake_discord.dms_to(uid(1))
    assert "could not be delivered" in bounce["content"] and pairing.recipient.display_name not in bounce["content"]


def reminder_rows(kind: str) -> int:
    return OutboxMessage.objects.filter(dedupe_key__contains=f":{kind}:").count()


def test_schedule_sends_each_reminder_once(make_event):
    event = make_event(3)
    signup = event.signup_deadline
    assert services.run_schedule(now=signup - dt.timedelta(hours=80)) == 0
    assert services.run_schedule(now=signup - dt.timedelta(hours=71)) == 1
    assert services.run_schedule(now=signup - dt.timedelta(hours=70)) == 0
    assert reminder_rows("signup_72h") == 4  # the channel post and three participant DMs
    assert services.run_schedule(now=signup - dt.timedelta(hours=23)) == 1
    assert services.run_schedule(now=signup - dt.timedelta(hours=1)) == 0
    assert ScheduledSend.objects.get(event=event, kind="signup_24h").recipients == 3

    services.set_status(event, "locked")
    services.generate_pairings(event)
    purchase = event.purchase_deadline
    assert services.run_schedule(now=purchase - dt.timedelta(hours=20)) == 1  # the 72 h one is skipped
    assert set(ScheduledSend.objects.filter(event=event).values_list("kind", flat=True)) == {
        "signup_72h", "signup_24h", "purchase_24h"}
    assert services.run_schedule(now=event.reveal_date + dt.timedelta(minutes=3)) == 1
    assert services.run_schedule(now=event.reveal_date + dt.timedelta(minutes=8)) == 0
    [reveal] = OutboxMessage.objects.filter(channel_id=CHANNEL, dedupe_key__contains=":reveal:")
    assert "reveal" in reveal.payload["content"].lower()
    assert reminder_rows("reveal") == 1  # with a channel, the reveal is one post, no DMs


@pytest.mark.django_db(transaction=True)
def test_schedule_is_safe_with_two_workers(make_event, run_in_parallel):
    event = make_event(5)
    now = event.signup_deadline - dt.timedelta(hours=23)
    results = run_in_parallel(lambda i: services.run_schedule(now=now), 3)
    assert sum(results) == 1, results
    assert reminder_rows("signup_24h") == 6


def test_schedule_task_runs(make_event):
    from ratmas.tasks import ratmas_schedule_task

    make_event(3)
    assert ratmas_schedule_task.apply().get() == 0


def test_export_import_round_trip(make_event, tmp_path):
    event = make_event(5)
    services.add_exclusion(event, uid(1), uid(2), both_ways=True)
    services.set_status(event, "locked")
    services.generate_pairings(event, seed=5)
    Pairing.objects.filter(event=event, santa__user_id=uid(3)).update(notified_at=timezone.now())
    Pairing.objects.filter(event=event, santa__user_id=uid(4)).update(last_error="DMs closed")
    path = tmp_path / "ratmas.json"
    call_command("ratmas_export", "--event", str(event.pk), "--output", str(path), stderr=io.StringIO())
    exported = json.loads(path.read_text())
    assert exported["format"] == services.EXPORT_FORMAT
    assert len(exported["participants"]) == 5 and len(exported["pairings"]) == 5 and exported["exclusions"] == [
        {"giver_user_id": uid(1), "receiver_user_id": uid(2), "both_ways": True}]

    with pytest.raises(CommandError, match="already has a Ratmas in progress"):
        call_command("ratmas_import", str(path), stdout=io.StringIO())
    event.delete()
    out = io.StringIO()
    call_command("ratmas_import", str(path), stdout=out)
    restored = Event.objects.get(guild_id=GUILD)
    assert "5 pairings" in out.getvalue()
    again = backup.export_event(restored)
    for data in (exported, again):
        data.pop("exported_at")
        data["event"].pop("id")
    assert again == exported


def test_export_command_to_stdout_and_errors(make_event):
    event = make_event(3)
    out = io.StringIO()
    call_command("ratmas_export", "--event", str(event.pk), stdout=out)
    assert json.loads(out.getvalue())["event"]["guild_id"] == GUILD
    with pytest.raises(CommandError, match="No Ratmas event"):
        call_command("ratmas_export", "--event", "999999")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format="other"), "not a Ratmas export"),
    (lambda d: d["event"].update(status="party"), "unknown status"),
    (lambda d: d["participants"][0].update(wishlist_url="javascript:x"), "http:// or https://"),
    (lambda d: d["pairings"][0].update(recipient_user_id=d["pairings"][0]["santa_user_id"]), "not a valid draw"),
    (lambda d: d["pairings"][0].update(santa_user_id=1), "not a valid draw"),
    (lambda d: d["exclusions"].append({"giver_user_id": 1, "receiver_user_id": 2}), "not among the participants"),
    (lambda d: d["event"].pop("guild_id"), "malformed"),
    (lambda d: d["event"].update(status="open"), "cannot have pairings yet"),
])
def test_import_refuses_bad_data(make_event, mutate, message):
    event = make_event(3, status="matched")
    data = backup.export_event(event)
    event.delete()
    mutate(data)
    with pytest.raises(RatmasError, match=message):
        backup.import_event(data)
    assert Event.objects.count() == 0


def test_purchase_reminders_and_reveal_without_a_channel(make_event, fake_discord, deliver_outbox):
    """Both purchase reminders go out in turn with Discord timestamps; without an
    announcement channel the reveal reaches every participant by DM, once."""
    event = make_event(3, status="matched", announcement_channel_id=None)
    purchase = event.purchase_deadline
    assert services.run_schedule(now=purchase - dt.timedelta(hours=71)) == 1
    assert services.run_schedule(now=purchase - dt.timedelta(hours=30)) == 0
    assert services.run_schedule(now=purchase - dt.timedelta(hours=23)) == 1
    assert services.run_schedule(now=event.reveal_date - dt.timedelta(minutes=1)) == 0
    assert services.run_schedule(now=event.reveal_date) == 1
    assert services.run_schedule(now=event.reveal_date + dt.timedelta(hours=1)) == 0
    deliver_outbox()
    stamp = f"<t:{int(purchase.timestamp())}:F>"
    for i in (1, 2, 3):
        dms = [m["content"] for m in fake_discord.dms_to(uid(i))]
        assert len(dms) == 3, dms
        assert sum(stamp in d for d in dms) == 2 and sum("reveal" in d for d in dms) == 1
    assert set(ScheduledSend.objects.filter(event=event).values_list("kind", flat=True)) == {
        "purchase_72h", "purchase_24h", "reveal"}


def test_reveal_missed_by_days_is_not_announced_late(make_event):
    event = make_event(3, status="matched")
    assert services.run_schedule(now=event.reveal_date + services.REVEAL_GRACE + dt.timedelta(minutes=1)) == 0
    assert not ScheduledSend.objects.filter(event=event).exists()


def test_archive_without_pairings_restores_an_open_event(make_event):
    event = make_event(3)
    services.add_exclusion(event, uid(1), uid(2))
    data = backup.export_event(event, include_pairings=False)
    event.delete()
    restored = backup.import_event(data)
    assert restored.status == "open" and restored.participants.count() == 3 and restored.exclusions.count() == 1
