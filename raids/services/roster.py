"""The roster post in the raid channel: queued 24 hours before the start, edited in place.

A public post: written in the server language (``core.i18n.public``) when it is first posted;
every later edit (or rewrite of a still-queued post) keeps the language the post was created
in, unless officers changed the server language since (``core.i18n.for_post`` on the post's
outbox row, which records its language and creation time)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from bot import outbox
from core import i18n
from raids.models import RaidEvent, RaidHelperSettings

ROSTER_POST_BEFORE = dt.timedelta(hours=24)

def post_roster(event: RaidEvent, *, now: dt.datetime | None = None) -> str:
    """The roster post in the raid channel: queued once 24 hours before the start, then edited
    in place whenever the roster changed (a still-queued post or edit is rewritten instead).
    Returns "posted", "edited", "unchanged", "not_due", "no_channel" or "wait" (the post is
    being delivered: the next run edits it)."""
    from raids.roster import live_roster

    now = now or timezone.now()
    if not (event.start_time_utc - ROSTER_POST_BEFORE <= now < event.start_time_utc):
        return "not_due"
    channel = event.discord_channel_id or RaidHelperSettings.load().raid_channel_id
    if not channel:
        return "no_channel"
    key = f"raids:roster:{event.pk}"
    with transaction.atomic():
        locked = RaidEvent.objects.select_for_update(of=("self",)).select_related("recurring_event").get(pk=event.pk)
        number, repost = outbox.latest_in_series(f"{key}:post:", topic="raids")
        post = repost or outbox.find(key)  # a post that failed for good is posted again
        new_post = post is None or outbox.will_never_land(post)
        with i18n.public() if new_post else i18n.for_post(post) as language:
            text = live_roster(locked).text()
        if text == locked.roster_post_text:
            return "unchanged"
        if new_post:
            outbox.post_message(channel, content=text, dedupe_key=f"{key}:post:{number + 1}" if post else key,
                                topic="raids", language=language)
            outcome = "posted"
        elif not post.sent_message_id:
            if not outbox.rewrite_pending(post.pk, content=text):
                return "wait"
            outcome = "posted"
        else:
            number, last_edit = outbox.latest_in_series(f"{key}:edit:", topic="raids")
            if last_edit is not None and outbox.rewrite_pending(last_edit.pk, content=text):
                outcome = "edited"
            elif last_edit is not None and outbox.is_sending(last_edit.pk):
                return "wait"  # edits land in order: the next run sends this one
            else:
                outbox.edit_message(post.channel_id, post.sent_message_id, content=text,
                                    dedupe_key=f"{key}:edit:{number + 1}", topic="raids")
                outcome = "edited"
        locked.roster_post_text = text
        locked.save(update_fields=["roster_post_text"])
    return outcome
