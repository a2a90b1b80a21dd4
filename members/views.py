"""Calendar feed endpoints (thin: the services build the feed). A private feed is found by its
secret token alone; an unknown, revoked or malformed token gets the same bare 404 as a switched-off
public feed, so the answer reveals nothing. Conditional GETs (If-None-Match, If-Modified-Since)
get 304. Each token (or public feed) may fetch ``CALENDAR_FEED_RATE`` times per window."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from members import services
from members.models import PublicFeed


def _rate_limited(ident: str) -> int | None:
    """Seconds to wait when ``ident`` used up its fetches in the current window, else None."""
    count, seconds = settings.CALENDAR_FEED_RATE
    window = int(time.time()) // seconds
    key = f"calfeed:{hashlib.sha256(ident.encode()).hexdigest()[:24]}:{window}"
    cache.add(key, 0, timeout=seconds + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=seconds + 5)
        used = 1
    return seconds if used > count else None


def _answer(request: HttpRequest, feed: services.Feed, filename: str) -> HttpResponse:
    etag = f'"{feed.etag}"'
    modified = int(feed.last_modified.timestamp())
    match = request.headers.get("If-None-Match")
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    not_modified = (etag in [t.strip() for t in match.split(",")] or match.strip() == "*") if match else (
        since is not None and modified <= since)
    response = HttpResponse(status=304) if not_modified else HttpResponse(
        feed.body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = "private, max-age=300" if filename == "my-schedule.ics" else "public, max-age=300"
    if not not_modified:
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _too_many(retry: int) -> HttpResponse:
    response = HttpResponse(_("Too many calendar fetches; try again later.") + "\n", status=429,
                            content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry)
    return response


@require_safe
def member_feed(request: HttpRequest, token: str) -> HttpResponse:
    row = services.resolve(token)
    if row is None:
        raise Http404()
    retry = _rate_limited(f"token:{row.pk}")
    if retry:
        return _too_many(retry)
    return _answer(request, services.member_feed(row), "my-schedule.ics")


@require_safe
def public_raids(request: HttpRequest) -> HttpResponse:
    return _public(request, PublicFeed.Kind.RAIDS, None, "raid-nights.ics")


@require_safe
def public_ark(request: HttpRequest, alliance_id: int) -> HttpResponse:
    return _public(request, PublicFeed.Kind.ARK, alliance_id, f"ark-{alliance_id}.ics")


def _public(request: HttpRequest, kind: str, alliance_id: int | None, filename: str) -> HttpResponse:
    retry = _rate_limited(f"public:{kind}:{alliance_id}:{request.META.get('REMOTE_ADDR', '')}")
    if retry:
        return _too_many(retry)
    feed = services.public_feed(kind, alliance_id)
    if feed is None:
        raise Http404()
    return _answer(request, feed, filename)
