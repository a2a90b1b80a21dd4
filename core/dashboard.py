"""What needs an officer now: the data of the admin home page. Read-only (no writes here).

One function per domain, each shown only to officers who may view its rows, each a bounded
number of queries whatever the table sizes (the whole page stays ≤ 11 queries: tested at
10,000 rows). Every line links to the admin list filtered to exactly what it counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.i18n import number

LIST_LIMIT = 5  # lines per list on the dashboard; the link shows the rest


@dataclass(frozen=True)
class Line:
    text: str
    url: str = ""
    level: str = ""  # "", "warning" or "error": how loudly the line is shown
    detail: str = ""


@dataclass
class Panel:
    key: str
    title: str
    lines: list[Line] = field(default_factory=list)
    empty: str = gettext_lazy("Nothing to do here.")


def changelist(model_label: str, **filters) -> str:
    """The admin list of ``app.model`` filtered by ``filters`` (admin query-string lookups)."""
    app, model = model_label.split(".")
    url = reverse(f"admin:{app}_{model}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def change_page(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# -- bot: the outbox ---------------------------------------------------------------------------
def outbox_panel(now) -> Panel:
    from bot.failures import describe
    from bot.models import OutboxMessage

    status = OutboxMessage.Status
    panel = Panel("outbox", _("Discord outbox"), empty=_("No failed messages."))
    counts = OutboxMessage.objects.aggregate(failed=Count("pk", filter=Q(status=status.FAILED)),
                                             pending=Count("pk", filter=Q(status=status.PENDING)))
    if counts["failed"]:
        panel.lines.append(Line(ngettext("%(count)s message failed for good", "%(count)s messages failed for good",
                                         counts["failed"]) % {"count": number(counts["failed"])},
                                changelist("bot.outboxmessage", status__exact=status.FAILED), "error"))
        no_topic = _("no topic")
        for message in (OutboxMessage.objects.filter(status=status.FAILED)
                        .only("pk", "kind", "topic", "last_error", "channel_id", "user_id")
                        .order_by("-failed_at", "-pk")[:LIST_LIMIT]):
            panel.lines.append(Line(f"#{message.pk} {message.get_kind_display()} ({message.topic or no_topic})",
                                    change_page(message), "", detail=describe(message)[:160] or _("no reason recorded")))
    if counts["pending"]:
        panel.lines.append(Line(ngettext("%(count)s message waiting to be delivered", "%(count)s messages waiting to be delivered",
                                         counts["pending"]) % {"count": number(counts["pending"])},
                                changelist("bot.outboxmessage", status__exact=status.PENDING)))
    panel.lines += guard_lines()
    return panel


def guard_lines() -> list[Line]:
    """Discord's invalid-request guard (bot/guard.py): why delivery is paused, or how close it is."""
    from bot import guard

    state = guard.state()
    if state.paused:
        return [Line(state.reason, changelist("bot.outboxmessage", status__exact="pending"), "error")]
    if state.invalid:
        return [Line(ngettext("%(count)s invalid Discord request (401/403/429) in the last 10 minutes; delivery "
                              "pauses at %(limit)s",
                              "%(count)s invalid Discord requests (401/403/429) in the last 10 minutes; delivery "
                              "pauses at %(limit)s", state.invalid)
                     % {"count": number(state.invalid), "limit": number(state.limit)}, "", "warning")]
    return []


# -- guildsync: integrity issues ---------------------------------------------------------------
def integrity_panel(now) -> Panel:
    from guildsync.models import AuditIssue

    panel = Panel("integrity", _("Open integrity issues"), empty=_("No open issues."))
    for row in (AuditIssue.objects.filter(resolved_at__isnull=True).values("issue_type")
                .annotate(n=Count("pk")).order_by("-n", "issue_type")):
        labels = dict(AuditIssue.IssueType.choices)  # plain words ("Character in no player"), never the code
        label = labels.get(row["issue_type"], row["issue_type"].replace("_", " "))
        panel.lines.append(Line(f"{row['n']} × {label}",
                                changelist("guildsync.auditissue", open="null", issue_type=row["issue_type"]),
                                "warning"))
    return panel


# -- ark: matches ------------------------------------------------------------------------------
def ark_panel(now) -> Panel:
    from ark.models import Match, Signup

    open_statuses = ",".join(Match.OPEN_STATUSES)
    panel = Panel("ark", _("Ark of Osiris"), empty=_("No match awaiting a result and none scheduled."))
    awaiting = Match.objects.filter(status__in=Match.OPEN_STATUSES, match_time_utc__lte=now, result="")
    awaiting_list = list(awaiting.select_related("alliance").order_by("match_time_utc", "pk")[:LIST_LIMIT + 1])
    if awaiting_list:
        more = "+" if len(awaiting_list) > LIST_LIMIT else ""
        shown = min(len(awaiting_list), LIST_LIMIT)
        panel.lines.append(Line(ngettext("%(count)s started match awaiting a result",
                                         "%(count)s started matches awaiting a result", shown + len(more)) % {
                                    "count": f"{number(shown)}{more}"},
                                changelist("ark.match", status__in=open_statuses, result="",
                                           match_time_utc__lte=now.isoformat()), "warning"))
        panel.lines += [Line(f"{m.alliance.name} · {m.get_match_day_display()} {date_format(m.ark_weekend_date, 'd M')}",
                             change_page(m)) for m in awaiting_list[:LIST_LIMIT]]
    active = Q(signups__status=Signup.Status.ACTIVE)
    upcoming = (Match.objects.filter(status__in=Match.OPEN_STATUSES, match_time_utc__gt=now)
                .select_related("alliance").order_by("match_time_utc", "pk")
                .annotate(n_players=Count("signups", filter=active & Q(signups__slot=Signup.Slot.PLAYER)),
                          n_subs=Count("signups", filter=active & Q(signups__slot=Signup.Slot.SUB)))[:LIST_LIMIT])
    for m in upcoming:
        panel.lines.append(Line(
            _("Next: %(match)s — %(players)s players, %(subs)s subs") % {
                "match": f"{m.alliance.name} · {m.get_match_day_display()} {date_format(m.match_time_utc, 'd M H:i')} UTC",
                "players": f"{m.n_players}/{m.alliance.player_cap}", "subs": f"{m.n_subs}/{m.alliance.sub_cap}"},
            change_page(m), "warning" if m.n_players < m.alliance.player_cap else ""))
    return panel


# -- raids: the next raid ----------------------------------------------------------------------
def raids_panel(now) -> Panel:
    from raids.models import RaidAttendance, RaidEvent

    status = RaidAttendance.Status
    panel = Panel("raids", _("Next raid"), empty=_("No raid is booked: book next week from the last raid event."))
    event = (RaidEvent.objects.filter(start_time_utc__gt=now).order_by("start_time_utc", "pk")
             .annotate(**{key: Count("attendance", filter=Q(attendance__status=value))
                          for key, value in [("n_accepted", status.ACCEPTED), ("n_tentative", status.TENTATIVE),
                                             ("n_bench", status.BENCH), ("n_absence", status.ABSENCE)]})
             .first())
    if event is not None:
        panel.lines.append(Line(
            f"{event.title} · {date_format(event.start_time_utc, 'D d M H:i')} UTC — "
            + _("%(accepted)s accepted, %(tentative)s tentative, %(bench)s bench, %(absent)s absent") % {
                "accepted": number(event.n_accepted), "tentative": number(event.n_tentative),
                "bench": number(event.n_bench), "absent": number(event.n_absence)},
            change_page(event)))
        panel.lines.append(Line(_("Sign-ups of this raid"), changelist("raids.raidattendance", event__id__exact=event.pk)))
        if not event.raid_helper_event_id:
            panel.lines.append(Line(_("Not posted in Raid-Helper (booked here only)"), "", "warning"))
    return panel


# -- ratmas: the Secret Santa ------------------------------------------------------------------
def ratmas_panel(now) -> Panel:
    from ratmas.models import Event, Pairing, Participant

    panel = Panel("ratmas", "Ratmas", empty=_("No Secret Santa in progress."))

    def count(model, **filters) -> Subquery:
        rows = (model.objects.filter(event=OuterRef("pk"), **filters).order_by().values("event")
                .annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(rows), 0)

    events = (Event.objects.exclude(status__in=Event.FINISHED).order_by("signup_deadline", "pk")
              .annotate(n_participants=count(Participant),
                        n_unreachable=count(Pairing, notified_at__isnull=True, last_error__gt=""))[:LIST_LIMIT])
    for event in events:
        panel.lines.append(Line(ngettext("%(event)s — %(count)s participant", "%(event)s — %(count)s participants",
                                         event.n_participants) % {"event": event, "count": number(event.n_participants)},
                                change_page(event)))
        if event.status == Event.Status.LOCKED:
            panel.lines.append(Line(_("Sign-ups are locked: ready to draw the pairings"), change_page(event),
                                    "warning"))
        if event.n_unreachable:
            panel.lines.append(Line(ngettext("%(count)s Santa could not be reached by DM", "%(count)s Santas could not be reached by DM",
                                             event.n_unreachable) % {"count": number(event.n_unreachable)},
                                    changelist("ratmas.pairing", event__id__exact=event.pk,
                                               notified_at__isempty="1"), "error"))
    return panel


# -- core: the watched clocks ------------------------------------------------------------------
def _ago(seconds: int) -> str:
    if seconds < 120:
        return _("%(n)s s ago") % {"n": seconds}
    if seconds < 7200:
        return _("%(n)s min ago") % {"n": seconds // 60}
    return _("%(n)s h ago") % {"n": seconds // 3600}


def system_panel(now) -> Panel:
    """The same states as ``/healthz/deep`` (``core.heartbeats``), for every officer: a stopped
    clock means reminders, bookings, syncs or deliveries have stopped too."""
    from core import heartbeats

    panel = Panel("system", _("System"))
    for clock in heartbeats.clock_states(now).values():
        if clock.state == heartbeats.OK:
            text, level = _("%(clock)s: ok, last heartbeat %(ago)s") % {
                "clock": clock.label, "ago": _ago(clock.age_seconds or 0)}, ""
        elif clock.state == heartbeats.LATE:
            text, level = _("%(clock)s: LATE, last heartbeat %(ago)s (late after %(late)s s)") % {
                "clock": clock.label, "ago": _ago(clock.age_seconds or 0), "late": clock.late_after}, "error"
        elif clock.state == heartbeats.NEVER:
            text, level = _("%(clock)s: never seen; is it running?") % {"clock": clock.label}, "error"
        else:
            text, level = _("%(clock)s: disabled (DISCORD_TOKEN is not set)") % {"clock": clock.label}, ""
        detail = ""
        if clock.component == heartbeats.Component.BOT and clock.state in (heartbeats.OK, heartbeats.LATE):
            latency = clock.details.get("latency_seconds")
            event = clock.details.get("last_event")
            detail = ", ".join(part for part in (
                _("gateway latency %(ms)s ms") % {"ms": number(round(latency * 1000))}
                if isinstance(latency, int | float) else "",
                _("last event %(event)s %(ago)s") % {"event": event, "ago": _ago(clock.details["last_event_age_seconds"])}
                if event and "last_event_age_seconds" in clock.details else "") if part)
        panel.lines.append(Line(text, "", level, detail=detail))
    panel.lines.append(Line(_("Version %(version)s") % {"version": settings.GUILDOPS_VERSION}))
    return panel


PANELS: list[tuple[str | None, Callable]] = [
    ("bot.view_outboxmessage", outbox_panel),
    ("guildsync.view_auditissue", integrity_panel),
    ("ark.view_match", ark_panel),
    ("raids.view_raidevent", raids_panel),
    ("ratmas.view_event", ratmas_panel),
    (None, system_panel),  # every officer
]


@dataclass
class Dashboard:
    notices: list[Line]
    panels: list[Panel]


def build(request: HttpRequest) -> Dashboard:
    """The panels this officer may see, plus site-wide notices (no bot token)."""
    now = timezone.now()
    notices = []
    if not settings.DISCORD_TOKEN:
        notices.append(Line(_("DISCORD_TOKEN is not set: messages are queued but not sent."),
                            changelist("bot.outboxmessage", status__exact="pending")
                            if request.user.has_perm("bot.view_outboxmessage") else "", "error"))
    for line in guard_lines():  # a pause stops every Discord message: everyone sees it
        if line.level == "error":
            notices.append(line if request.user.has_perm("bot.view_outboxmessage") else Line(line.text, "", "error"))
    return Dashboard(notices, [panel(now) for perm, panel in PANELS if perm is None or request.user.has_perm(perm)])
