"""Hostile input against Discord's limits: the longest display names, wishlists, budgets and
relayed texts the services accept, with markdown and mass mentions in them, must still make
messages Discord takes (≤ 2000 characters, no pings), through the real delivery to the fake
Discord — and a long error from Discord must not break the organisers' report."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.models import OutboxMessage
from ratmas import services
from ratmas.models import Pairing
from tests.ratmas.conftest import CHANNEL, uid

pytestmark = pytest.mark.django_db

HOSTILE_NAME = ("@everyone **𝕭𝖔𝖑𝖉** `x` <@1> " * 10)[:100]  # non-BMP letters: 2 UTF-16 units each
LONG_WISHLIST = "https://wish.example/" + "%F0%9F%8E%81" * 39 + "a" * 11  # 500 characters
LONG_BUDGET = ("@here 20 € **max** " * 20)[:200]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_within_limits() -> None:
    rows = list(OutboxMessage.objects.exclude(kind__in=["add_role", "remove_role"]))
    assert rows
    for row in rows:
        content = row.payload.get("content") or ""
        assert 0 < utf16_len(content) <= 2000, (row.topic, utf16_len(content))
        assert row.payload["allowed_mentions"] == {"parse": []}
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
    assert not failed.exists(), list(failed.values_list("topic", "last_error"))


def walk_with_the_longest_input(event, deliver_outbox, before_join=lambda user_id: None) -> None:
    """Every message of an event's life (reminders, Santa DMs, wishlist news, relayed texts both
    ways, reveal, completion) with the longest input the services accept, delivered; then checks
    Discord's limits. ``before_join(user_id)`` prepares each member (e.g. their language)."""
    for i in range(1, 5):
        before_join(uid(i))
        services.join(event, uid(i), f"{i}{HOSTILE_NAME}"[:100], LONG_WISHLIST)
    assert max(len(p.display_name) for p in event.participants.all()) == 100
    assert len(LONG_WISHLIST) == 500
    services.run_schedule(now=event.signup_deadline - dt.timedelta(hours=23))
    services.set_status(event, "locked")
    services.generate_pairings(event, seed=3)
    services.notify_santas(event)
    deliver_outbox()
    deliver_outbox()
    assert Pairing.objects.filter(event=event, notified_at__isnull=True).count() == 0
    services.update_wishlist(event, uid(2), LONG_WISHLIST.replace("a", "b"))
    # the longest relayed text, as many lines as possible (each line gets quoted)
    hostile_text = "\n".join(["@everyone"] + ["a"] * 745)[: services.RELAY_MAX_CHARS]
    services.message_recipient(event, uid(1), hostile_text)
    services.message_santa(event, uid(1), "x" * services.RELAY_MAX_CHARS)
    services.run_schedule(now=event.purchase_deadline - dt.timedelta(hours=23))
    services.run_schedule(now=event.reveal_date + dt.timedelta(minutes=1))
    services.complete_event(event)
    deliver_outbox()
    assert_within_limits()


def test_longest_accepted_input_fits_every_message(make_event, fake_discord, deliver_outbox):
    event = make_event(0, budget=LONG_BUDGET)
    walk_with_the_longest_input(event, deliver_outbox)
    status = services.describe_event(event, uid(1))
    assert utf16_len(status) <= 2000
    pairing = Pairing.objects.select_related("recipient").get(event=event, santa__user_id=uid(1))
    [santa_dm] = [m for m in fake_discord.dms_to(uid(1)) if "Secret Santa!" in m["content"]]
    assert pairing.recipient.wishlist_url in santa_dm["content"]  # never cut: a cut link is useless
    assert "a\na\na" in "".join(m["content"] for m in fake_discord.dms_to(pairing.recipient.user_id))


def test_names_cannot_break_the_dm_formatting(make_event, fake_discord, deliver_outbox):
    event = make_event(0)
    services.join(event, uid(1), "**Bold** _it_ ~~s~~ `c` ||spoiler|| > quote", None)
    services.join(event, uid(2), "Two", None)
    services.join(event, uid(3), "Three", None)
    services.set_status(event, "locked")
    services.generate_pairings(event, seed=1)
    services.notify_santas(event)
    deliver_outbox()
    santa = Pairing.objects.get(event=event, recipient__user_id=uid(1)).santa
    [dm] = fake_discord.dms_to(santa.user_id)
    assert r"\*\*Bold\*\* \_it\_ \~\~s\~\~ \`c\` \|\|spoiler\|\| \> quote" in dm["content"]


def test_a_long_discord_error_still_reports_the_unreachable_santa(make_event, fake_discord, deliver_outbox):
    event = make_event(3, status="matched")
    deliver_outbox()  # the announcements so far
    fake_discord.fail_next("POST", r"/channels/\d+/messages", 403,
                           {"code": 50001, "message": "Missing Access " + "because " * 400})
    services.notify_santas(event)
    deliver_outbox()
    deliver_outbox()
    failed = Pairing.objects.get(event=event, notified_at__isnull=True)
    assert "Missing Access" in failed.last_error
    reports = [m["content"] for m in fake_discord.posted(CHANNEL) if "could not DM" in m["content"]]
    assert len(reports) == 1 and len(reports[0]) <= 2000
    assert Pairing.objects.filter(event=event, notified_at__isnull=False).count() == 2
