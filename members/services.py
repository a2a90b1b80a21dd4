"""Calendar feed services: the member's secret token (issue, rotate, revoke, resolve) and the feed
itself (which events, their SEQUENCE, the feed's ETag and Last-Modified). The only writers of
members' models."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import i18n
from core.errors import DomainError
from members import feeds
from members.models import CalendarToken, FeedItemVersion, FeedState, PublicFeed


class CalendarError(DomainError):
    """A calendar request that cannot be carried out (e.g. a bad Discord id)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_user(discord_user_id: int) -> int:
    try:
        value = int(discord_user_id)
    except (TypeError, ValueError):
        raise CalendarError(_("%(value)s is not a Discord user id (digits only).") % {"value": repr(discord_user_id)}) from None
    if not 0 < value < 2**63:
        raise CalendarError(_("%(value)s is not a Discord user id.") % {"value": discord_user_id})
    return value


def feed_url(token: str) -> str:
    """The feed's absolute URL (``SITE_URL`` + ``/calendar/<token>.ics``)."""
    return f"{settings.SITE_URL.rstrip('/')}/calendar/{token}.ics"


def public_url(kind: str, alliance_id: int | None = None) -> str:
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/calendar/public/raids.ics" if kind == "raids" else f"{base}/calendar/public/ark-{alliance_id}.ics"


@dataclass(frozen=True)
class IssuedToken:
    token: str  # the secret: shown to its owner now, never stored
    url: str
    created: bool


def issue_token(discord_user_id: int, *, rotate: bool = False) -> IssuedToken:
    """Give the member a fresh token (the old URL, if any, stops working). Only hashes are stored, so
    an existing token cannot be shown again: asking for the URL makes a new one (``rotate``) or, when
    the member has none, the first one. Concurrent calls leave exactly one token per member."""
    member = _check_user(discord_user_id)
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        _, created = CalendarToken.objects.select_for_update().update_or_create(
            discord_user_id=member,
            defaults={"token_hash": _hash(token), "prefix": token[:6], "rotated_at": now},
        )
    return IssuedToken(token=token, url=feed_url(token), created=created and not rotate)


def revoke_token(discord_user_id: int) -> bool:
    """Delete the member's token; its URL then answers 404. True if there was one."""
    member = _check_user(discord_user_id)
    with transaction.atomic():
        token = CalendarToken.objects.filter(discord_user_id=member).first()
        if token is None:
            return False
        FeedItemVersion.objects.filter(key__startswith=f"t{token.pk}:").delete()
        FeedState.objects.filter(key=f"t{token.pk}").delete()
        token.delete()
    return True


def token_info(discord_user_id: int) -> CalendarToken | None:
    return CalendarToken.objects.filter(discord_user_id=_check_user(discord_user_id)).first()


def resolve(token: str) -> CalendarToken | None:
    """The token's row, or None for an unknown/revoked/malformed one (the view answers 404 alike)."""
    if not token or len(token) > 64:
        return None
    return CalendarToken.objects.filter(token_hash=_hash(token)).first()


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: dt.datetime


def _versions(scope: str, items: list[feeds.Item], now: dt.datetime) -> dict[str, tuple[int, dt.datetime]]:
    """uid → (SEQUENCE, DTSTAMP), the sequence growing by one wherever an item's fingerprint changed
    since it was last recorded for this feed. One SELECT when nothing changed; else one INSERT … ON
    CONFLICT that increments only rows whose fingerprint differs (PostgreSQL and SQLite both speak
    it), so racing fetches of one feed bump once. Keyed per feed (``scope``) because a member's raid
    shows their own sign-up status, which differs from another member's."""
    keys = {f"{scope}:{i.uid}": i for i in items}
    known = dict(FeedItemVersion.objects.filter(key__in=keys).values_list("key", "fingerprint"))
    stale = [(k, i) for k, i in keys.items() if known.get(k) != i.fingerprint]
    if stale:
        table = FeedItemVersion._meta.db_table
        rows = ", ".join(["(%s, %s, 0, %s)"] * len(stale))
        params: list = []
        for key, item in stale:
            params += [key, item.fingerprint, now]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (key, fingerprint, sequence, changed_at) VALUES {rows} "  # noqa: S608
                f"ON CONFLICT (key) DO UPDATE SET sequence = {table}.sequence + 1, "
                f"fingerprint = excluded.fingerprint, changed_at = excluded.changed_at "
                f"WHERE {table}.fingerprint <> excluded.fingerprint", params)
    prefix = len(scope) + 1
    return {key[prefix:]: (sequence, changed) for key, sequence, changed in
            FeedItemVersion.objects.filter(key__in=keys).values_list("key", "sequence", "changed_at")}


def _digest(name: str, items: list[feeds.Item]) -> str:
    """What the feed's body depends on: its name and each item's uid and fingerprint (the sequences
    follow from those). Equal digest, equal body."""
    text = "\n".join([name, *(f"{i.uid} {i.fingerprint}" for i in items)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _render(key: str, name: str, items: list[feeds.Item]) -> Feed:
    """The feed's body, rendered again only when its items changed since the last fetch."""
    digest = _digest(name, items)
    state = FeedState.objects.filter(key=key).first()
    if state is not None and state.etag == digest:
        return Feed(body=bytes(state.body), etag=digest, last_modified=state.changed_at)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        versions = _versions(key, items, now) if items else {}
        body = feeds.render(name, items, versions)
        FeedState.objects.update_or_create(key=key, defaults={"etag": digest, "body": body, "changed_at": now})
    return Feed(body=body, etag=digest, last_modified=now)


def member_feed(token: CalendarToken) -> Feed:
    """The member's feed: raids they signed up for, Ark matches they are in, their Ratmas deadlines."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        CalendarToken.objects.filter(pk=token.pk).update(last_used_at=now)
    with i18n.for_member(token.discord_user_id):  # the member's calendar app sends no language: theirs
        items = feeds.member_items(token.discord_user_id)
        return _render(f"t{token.pk}", _("Guild Ops: my schedule"), items)


def public_feed(kind: str, alliance_id: int | None = None) -> Feed | None:
    """A public feed an officer switched on, or None (the view answers 404)."""
    switch = PublicFeed.objects.filter(kind=kind, alliance_id=alliance_id, enabled=True).select_related(
        "alliance").first()
    if switch is None:
        return None
    with i18n.public():  # anyone may subscribe: the server language
        if kind == PublicFeed.Kind.RAIDS:
            return _render("public-raids", _("Guild Ops: raid nights"), feeds.public_raid_items())
        name = _("Guild Ops: Ark matches of %(alliance)s") % {"alliance": switch.alliance}
        return _render(f"public-ark{alliance_id}", name, feeds.public_ark_items(alliance_id))


def set_public_feed(kind: str, *, enabled: bool, alliance_id: int | None = None) -> PublicFeed:
    """Switch a public feed on or off (officers, from the admin)."""
    if kind not in PublicFeed.Kind.values:
        raise CalendarError(_("Unknown feed kind %(kind)s.") % {"kind": repr(kind)})
    if (kind == PublicFeed.Kind.ARK) != (alliance_id is not None):
        raise CalendarError(_("An Ark feed names an alliance; a raid feed none."))
    with transaction.atomic():
        feed, _created = PublicFeed.objects.update_or_create(kind=kind, alliance_id=alliance_id,
                                                      defaults={"enabled": enabled})
    return feed
