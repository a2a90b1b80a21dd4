"""The registration and confirmation messages in Discord: one ``MessageRef`` per (match, kind), kept in step with the roster through the outbox (post, coalesced edits, adoption of a post whose id arrived later, repost of a lost one)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import translation

from bot import outbox
from bot.models import OutboxMessage
from core import i18n

from ..messages import render
from ..models import (
    Match,
    MessageRef,
)
from .common import MatchStatus, _audit, _lock_match, get_roster


def _bump(match: Match) -> None:
    """A change visible in the Discord messages: bump the version and refresh them."""
    Match.objects.filter(pk=match.pk).update(roster_version=F("roster_version") + 1)
    match.refresh_from_db(fields=["roster_version", "status", "updated_at"])
    for kind in MessageRef.Kind.values:
        _sync_message(match, kind)


# --- Discord messages (registration / confirmation) ------------------------------------------


def _channel_for(match: Match, kind: str) -> int | None:
    if kind == MessageRef.Kind.REGISTRATION:
        return match.alliance.registration_channel_id
    return match.alliance.confirmation_channel_id


def _update_pending(row_id: int | None, body: dict[str, Any]) -> bool:
    """Coalescing: rewrite a queued, not yet claimed outbox row instead of queuing another."""
    return outbox.rewrite_pending(row_id, content=body.get("content"), embeds=body.get("embeds"),
                                  components=body.get("components"))


def _latest_post(match: Match, kind: str) -> tuple[int, OutboxMessage | None]:
    """The last post of this message queued in the outbox, and its number."""
    return outbox.latest_in_series(f"ark:{kind}:{match.pk}:", topic=f"ark.{kind}")


def _adopt_post(match: Match, kind: str) -> MessageRef | None:
    posts, row = _latest_post(match, kind)
    if outbox.will_never_land(row):
        return None
    return MessageRef.objects.create(
        match=match,
        kind=kind,
        channel_id=row.sent_channel_id or row.channel_id,
        message_id=row.sent_message_id if row.status == OutboxMessage.Status.SENT else None,
        post_outbox=row,
        rendered_version=0,
        posts=posts,
    )


def _sync_message(match: Match, kind: str, *, repost: bool = False) -> MessageRef | None:
    """Bring one Discord message of the match up to date, with at most one queued edit at a time.

    No message yet (or ``repost``, or the last post failed) → post (again) and remember it;
    posted but not delivered → rewrite the queued post; delivered → rewrite the queued edit,
    or queue one unless an edit is being delivered (edits never overtake each other; the
    delivery receiver queues the next). The confirmation message exists only once the match locked.
    """
    ref = (
        MessageRef.objects.select_for_update(of=("self",))
        .select_related("post_outbox")
        .filter(match=match, kind=kind)
        .first()
    )
    if kind == MessageRef.Kind.CONFIRMATION and ref is None and not repost and match.status != MatchStatus.LOCKED:
        return None  # posted when the match locks; a locked match's lost one is adopted or reposted below
    if kind == MessageRef.Kind.DRAFT and ref is None and not repost and match.draft_published_at is None:
        return None  # posted by publish_draft(); afterwards every change edits it
    channel = _channel_for(match, kind)
    if not channel:
        return ref
    version = match.roster_version
    if ref is not None and ref.rendered_version == version and not repost:
        return ref
    # A public post: the server language; an edit keeps the post's own unless officers changed it since.
    language = i18n.post_language(None if ref is None or repost else ref.post_outbox)
    with translation.override(language):
        body = render(match, get_roster(match.pk), kind)
    post_failed = (
        ref is not None
        and ref.message_id is None
        and outbox.will_never_land(ref.post_outbox)
    )
    if ref is None and not repost:
        ref = _adopt_post(match, kind)  # the reference was lost but the outbox still knows the post
        if ref is not None:
            return _sync_message(match, kind)
    if ref is None or repost or post_failed:
        posts = max(ref.posts if ref else 0, _latest_post(match, kind)[0]) + 1
        if ref is not None and ref.message_id:
            outbox.delete_message(
                ref.channel_id,
                ref.message_id,
                reason="Ark message reposted",
                dedupe_key=f"ark:{kind}:delete:{match.pk}:{ref.posts}",
                topic=f"ark.{kind}_delete",
            )
        row = outbox.post_message(
            channel,
            content=body["content"],
            embeds=body["embeds"],
            components=body["components"],
            dedupe_key=f"ark:{kind}:{match.pk}:{posts}",
            topic=f"ark.{kind}",
            language=language,
        )
        ref, _ = MessageRef.objects.update_or_create(
            match=match,
            kind=kind,
            defaults={
                "channel_id": channel,
                "message_id": None,
                "post_outbox": row,
                "pending_edit": None,
                "rendered_version": version,
                "posts": posts,
            },
        )
        return ref
    if ref.message_id is None:
        if _update_pending(ref.post_outbox_id, body):
            ref.rendered_version = version
            ref.save(update_fields=["rendered_version", "updated_at"])
        # else the post is on its way: record_message_delivery() catches up once it landed
        return ref
    if not _update_pending(ref.pending_edit_id, body):
        if outbox.is_sending(ref.pending_edit_id):
            return ref  # one edit on its way at a time, so they land in order; the receiver catches up
        ref.pending_edit = outbox.edit_message(
            ref.channel_id,
            ref.message_id,
            content=body["content"],
            embeds=body["embeds"],
            components=body["components"],
            dedupe_key=f"ark:{kind}:edit:{match.pk}:{ref.posts}:{version}",
            topic=f"ark.{kind}_edit",
        )
    ref.rendered_version = version
    ref.save(update_fields=["pending_edit", "rendered_version", "updated_at"])
    return ref


def record_message_delivery(message: OutboxMessage) -> None:
    """Receiver of the outbox signals (connected in ArkConfig.ready): store the message id
    Discord gave a registration/confirmation post, catch up with roster changes made while it
    was in flight, and forget a message Discord no longer knows (the next sync reposts it)."""
    if not message.topic.startswith(("ark.registration", "ark.confirmation", "ark.draft")):
        return
    with transaction.atomic():  # a savepoint inside the delivery's transaction
        found = (
            MessageRef.objects.filter(Q(post_outbox=message) | Q(pending_edit=message))
            .values_list("pk", "match_id")
            .first()
        )
        if found is None:
            return
        match = _lock_match(found[1])  # the match first, then the ref: the services' lock order
        ref = MessageRef.objects.select_for_update().filter(pk=found[0]).first()
        if ref is None:
            return
        if message.status == OutboxMessage.Status.SENT and ref.post_outbox_id == message.pk:
            ref.message_id = message.sent_message_id
            ref.channel_id = message.sent_channel_id or ref.channel_id
            ref.save(update_fields=["message_id", "channel_id", "updated_at"])
            _audit("message_posted", None, match=match, kind=ref.kind, message_id=ref.message_id)
        elif (
            message.status == OutboxMessage.Status.FAILED
            and message.last_error_code in (10003, 10008)
            and ref.pending_edit_id == message.pk
        ):  # the message is gone (a failed *post* stays recorded: no repost storm into a bad channel)
            ref.message_id = None
            ref.post_outbox = None
            ref.rendered_version = 0
            ref.save(update_fields=["message_id", "post_outbox", "rendered_version", "updated_at"])
            _audit("message_lost", None, match=match, kind=ref.kind, error=message.last_error)
            return
        if ref.message_id and ref.rendered_version < match.roster_version:
            _sync_message(match, ref.kind)
