"""Raid operations: auto-booking next week's event, Raid-Helper sign-ups, attendance.

Every state change of the raids app is a function here. The names of the seed
(``check_and_auto_book``, ``book_next_occurrence``, ``build_signups``) are kept.

Exactly-once booking, by construction:
1. the source event's row is locked with ``SELECT … FOR UPDATE SKIP LOCKED``: a second worker
   polling at the same moment skips it instead of waiting, and sees it booked afterwards;
2. inside that lock Raid-Helper is first asked for an event with the same title and start
   (a create whose answer was lost earlier is adopted, never made twice), then the event is
   created, and the new ``RaidEvent``, its attendance rows, the source's "booked" mark and the
   announcement are written in the same transaction — if Raid-Helper fails nothing is written;
3. ``UniqueConstraint(recurring_event, event_date)`` is the last line if anything slips past.
The per-player sign-ups are sent after that commit, each recorded on its attendance row
(sent / failed with the reason): a failure midway loses nothing and is retried by the next poll.

The functions live in one module per job and are re-exported here, so callers keep writing
``services.<name>``: ``common`` (the domain error, configuration, the Raid-Helper event
helpers), ``booking``, ``push`` (sign-ups to Raid-Helper, events booked here pushed later),
``signups`` (Raid-Helper's sign-ups imported, live sync), ``roster`` (the roster post),
``warcraftlogs`` (attendance from Warcraft Logs), ``attendance`` (officers' attendance edits)
and ``officer_edits`` (seasons, raid nights, events, settings)."""

from .attendance import (
    AttendanceChange,
    edit_attendance,
    mark_accepted_attended,
    remove_attendance,
    set_attendance,
    set_recurring_active,
)
from .booking import (
    BOOKING_WINDOW_MAX,
    BOOKING_WINDOW_MIN,
    BookingResult,
    BookingRun,
    Signup,
    book_first_event,
    book_next_occurrence,
    booking_candidates,
    build_signups,
    check_and_auto_book,
    first_start,
    next_start,
    signup_status,
)
from .common import (
    ANNOUNCEMENT,
    EVENT_DESCRIPTION,
    FALLBACK_TEMPLATE,
    MAX_SIGNUP_ATTEMPTS,
    NOT_CONFIGURED_SKIP,
    AttendedSource,
    Push,
    RaidsError,
    Source,
    Status,
    current_season,
    get_client,
    is_configured,
    said,
    shown,
    shown_text,
    stored,
)
from .officer_edits import (
    EVENT_FIELDS,
    RECURRING_FIELDS,
    SEASON_FIELDS,
    SETTINGS_FIELDS,
    DeleteReport,
    delete_raid_events,
    delete_recurring_events,
    delete_seasons,
    save_raid_event,
    save_recurring_event,
    save_season,
    save_settings,
)
from .push import (
    NOT_CONFIGURED_NOTE,
    PushLaterResult,
    PushLaterRun,
    PushReport,
    push_booked_here_events,
    push_event_to_raid_helper,
    push_later_candidates,
    push_signups,
    retry_signups,
)
from .roster import (
    ROSTER_POST_BEFORE,
    post_roster,
)
from .signups import (
    CLASS_ALIASES,
    RAID_HELPER_SPECS,
    SLOT_ROLES,
    STATUS_CLASSES,
    SYNC_AHEAD,
    ImportReport,
    Placement,
    import_finished_events,
    import_signups,
    map_signup,
    signup_list,
    sync_upcoming_signups,
)
from .warcraftlogs import (
    WCL_CLAIM,
    WCL_REPORT_MARGIN,
    WCL_UNPLACED_KEPT,
    WclImport,
    import_wcl_attendance,
    import_wcl_finished_events,
    place_characters,
    wcl_guild,
    wcl_is_configured,
)

__all__ = [
    "ANNOUNCEMENT",
    "AttendanceChange",
    "AttendedSource",
    "BOOKING_WINDOW_MAX",
    "BOOKING_WINDOW_MIN",
    "BookingResult",
    "BookingRun",
    "CLASS_ALIASES",
    "DeleteReport",
    "EVENT_DESCRIPTION",
    "EVENT_FIELDS",
    "FALLBACK_TEMPLATE",
    "ImportReport",
    "MAX_SIGNUP_ATTEMPTS",
    "NOT_CONFIGURED_NOTE",
    "NOT_CONFIGURED_SKIP",
    "Placement",
    "Push",
    "PushLaterResult",
    "PushLaterRun",
    "PushReport",
    "RAID_HELPER_SPECS",
    "RECURRING_FIELDS",
    "ROSTER_POST_BEFORE",
    "RaidsError",
    "SEASON_FIELDS",
    "SETTINGS_FIELDS",
    "SLOT_ROLES",
    "STATUS_CLASSES",
    "SYNC_AHEAD",
    "Signup",
    "Source",
    "Status",
    "WCL_CLAIM",
    "WCL_REPORT_MARGIN",
    "WCL_UNPLACED_KEPT",
    "WclImport",
    "book_first_event",
    "book_next_occurrence",
    "booking_candidates",
    "build_signups",
    "check_and_auto_book",
    "current_season",
    "delete_raid_events",
    "delete_recurring_events",
    "delete_seasons",
    "edit_attendance",
    "first_start",
    "get_client",
    "import_finished_events",
    "import_signups",
    "import_wcl_attendance",
    "import_wcl_finished_events",
    "is_configured",
    "map_signup",
    "mark_accepted_attended",
    "next_start",
    "place_characters",
    "post_roster",
    "push_booked_here_events",
    "push_event_to_raid_helper",
    "push_later_candidates",
    "push_signups",
    "remove_attendance",
    "retry_signups",
    "save_raid_event",
    "save_recurring_event",
    "save_season",
    "save_settings",
    "set_attendance",
    "set_recurring_active",
    "shown",
    "shown_text",
    "said",
    "stored",
    "signup_list",
    "signup_status",
    "sync_upcoming_signups",
    "wcl_guild",
    "wcl_is_configured",
]
