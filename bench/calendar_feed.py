"""A member's calendar feed of 1,000 events (issue 26 target: ≤ 50 ms on the server).

Figure: the whole request through Django's test client — token lookup, rate-limit count, the
three feed queries (1,000 raid sign-ups here), the SEQUENCE check (one SELECT when nothing
changed), icalendar rendering and the ETag — median of 20 warm fetches (the first fetch, which
records 1,000 fresh sequences, is reported on its own). Anchor: a plain query of the same rows
(the member's 1,000 sign-ups with their raid, read into Python), median of 20.
Run: ``bench/run.sh calendar_feed`` (fresh PostgreSQL) or ``python -m bench.calendar_feed``.
"""

from __future__ import annotations

import datetime as dt
import time

from bench._setup import median_seconds, report, setup_django

N = 1_000
REPEATS = 20
TARGET_SECONDS = 0.050
MEMBER = 900_000_000_000_777_001


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from guildsync.models import DiscordUser, Player
    from members import services
    from raids.models import RaidAttendance, RaidEvent

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    settings.CALENDAR_FEED_RATE = (10**6, 3600)
    DiscordUser.objects.filter(discord_id=MEMBER).delete()
    RaidEvent.objects.filter(title__startswith="Bench raid").delete()
    user = DiscordUser.objects.create(discord_id=MEMBER, username="bench-member")
    player = Player.objects.create(display_name="Bench Member", discord_user=user)
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=1)
    events = RaidEvent.objects.bulk_create([
        RaidEvent(title=f"Bench raid {i}", event_date=(start + dt.timedelta(hours=i)).date(),
                  start_time_utc=start + dt.timedelta(hours=i), end_time_utc=start + dt.timedelta(hours=i + 3))
        for i in range(N)])
    RaidAttendance.objects.bulk_create([RaidAttendance(event=e, player=player, status="accepted") for e in events])
    path = "/" + services.issue_token(MEMBER).url.split("/", 3)[3]
    client = Client()

    first_start = time.perf_counter()
    first = client.get(path)
    first_time = time.perf_counter() - first_start
    assert first.status_code == 200 and first.content.count(b"BEGIN:VEVENT") == N, first.status_code

    def fetch() -> None:
        assert client.get(path).status_code == 200

    def plain() -> None:
        rows = list(RaidAttendance.objects.filter(player__discord_user__discord_id=MEMBER).select_related("event"))
        assert len(rows) == N

    feed_time = median_seconds(fetch, REPEATS)
    anchor = median_seconds(plain, REPEATS)
    report(f"calendar feed of {N:,} events (warm, whole request)", feed_time * 1000, anchor * 1000, "ms",
           anchor_name=f"plain query of the same {N:,} rows", higher_is_better=False)
    print(f"  target ≤ {TARGET_SECONDS * 1000:g} ms: {'MET' if feed_time <= TARGET_SECONDS else 'NOT MET'} "
          f"({feed_time * 1000:.1f} ms); first fetch (records {N:,} sequences): {first_time * 1000:.1f} ms",
          flush=True)
    services.revoke_token(MEMBER)
    RaidEvent.objects.filter(pk__in=[e.pk for e in events]).delete()
    Player.objects.filter(pk=player.pk).delete()
    user.delete()


if __name__ == "__main__":
    main()
