"""Ark of Osiris operations: the only code that writes the ark tables.

Each public function is one ``transaction.atomic()`` block that validates, writes, records
one ``AuditLog`` row and queues any Discord output through ``bot.outbox`` in the same
transaction. Rule violations raise ``ArkError`` with a message shown to the member or officer
as is. Functions that depend on the clock take ``now`` (default: the current time) so the
scheduler and the tests can say which moment they act at.

Concurrency: every roster change locks the match row (``SELECT … FOR UPDATE``), so caps are
checked and applied one signup at a time; the database's conditional unique constraints are
the backstop (one active signup per governor and weekend, one live match per alliance and
weekend, one reminder per match/target/type/time).

The package is split by job (one module each); this ``__init__`` re-exports the public API,
so callers write ``from ark import services`` and ``services.add_signup(...)``.
"""

from .alliances import (
    get_alliance,
    governor_for,
    list_alliances,
    list_governors,
    register_governor,
    save_alliance,
)
from .attendance import (
    BanSuggestion,
    GovernorStats,
    governor_record,
    match_attendance,
    no_show_suggestions,
    set_attendance,
)
from .bans import (
    add_ban,
    ark_weekend_of,
    ban_coverage_note,
    change_reminder_prefs,
    get_active_ban_for,
    get_reminder_prefs,
    list_bans,
    preview_ban,
    revoke_ban,
    signups_covered_by,
    upsert_reminder_prefs,
)
from .calendar import (
    CalendarSlot,
    ScheduleReport,
    ark_weekends,
    calendar_slots,
    create_scheduled_matches,
    get_cadence,
    get_calendar,
    is_ark_weekend,
    next_ark_weekend,
    parse_slot,
    save_cadence,
    save_calendar,
    signup_close_for,
    slot_schedule,
)
from .common import (
    OPEN,
    MatchStatus,
    SignupStatus,
    Slot,
    acting_as,
    get_match,
    get_roster,
    insert_audit_log,
    roster_counts,
)
from .discord_sync import (
    record_message_delivery,
)
from .draft import (
    DraftInfeasibleError,
    DraftPlan,
    Rule,
    add_draft_constraint,
    draft_teams,
    move_to_team,
    publish_draft,
    remove_draft_constraint,
    split_teams,
    team_totals,
)
from .errors import (
    ArkError,
    BannedError,
    NotAllowedError,
    NotFoundError,
    RosterFullError,
    SignupClosedError,
)
from .lifecycle import (
    LifecycleReport,
    run_lifecycle,
)
from .matches import (
    amend_match,
    cancel_match,
    create_match,
    list_open_matches,
    lock_match,
    repost_match_messages,
    set_match_result,
)
from .nudges import NudgeReport, in_quiet_hours, post_fill_nudges
from .retention import RetentionReport, purge_old_records
from .signups import (
    add_signup,
    find_active_signup_for_weekend,
    mark_checked_in,
    mark_emergency_withdraw,
    move_signup_slot,
    remove_signup,
    switch_signup_governor,
    withdraw,
)
from .stats import MAX_IMPORT_BYTES, ImportReport, RowReport, import_governor_stats, parse_stats_csv

__all__ = [
    "ArkError",
    "NotFoundError",
    "SignupClosedError",
    "RosterFullError",
    "BannedError",
    "NotAllowedError",
    "Slot",
    "SignupStatus",
    "MatchStatus",
    "OPEN",
    "acting_as",
    "get_match",
    "get_roster",
    "roster_counts",
    "insert_audit_log",
    "record_message_delivery",
    "list_alliances",
    "get_alliance",
    "save_alliance",
    "register_governor",
    "governor_for",
    "list_governors",
    "create_match",
    "amend_match",
    "cancel_match",
    "list_open_matches",
    "lock_match",
    "repost_match_messages",
    "set_match_result",
    "find_active_signup_for_weekend",
    "add_signup",
    "remove_signup",
    "switch_signup_governor",
    "move_signup_slot",
    "mark_checked_in",
    "mark_emergency_withdraw",
    "withdraw",
    "ark_weekend_of",
    "add_ban",
    "revoke_ban",
    "ban_coverage_note",
    "signups_covered_by",
    "list_bans",
    "preview_ban",
    "get_active_ban_for",
    "get_reminder_prefs",
    "change_reminder_prefs",
    "upsert_reminder_prefs",
    "LifecycleReport",
    "run_lifecycle",
    "CalendarSlot",
    "ScheduleReport",
    "ark_weekends",
    "calendar_slots",
    "create_scheduled_matches",
    "get_cadence",
    "get_calendar",
    "is_ark_weekend",
    "next_ark_weekend",
    "parse_slot",
    "save_cadence",
    "save_calendar",
    "signup_close_for",
    "slot_schedule",
    "DraftInfeasibleError",
    "DraftPlan",
    "Rule",
    "add_draft_constraint",
    "draft_teams",
    "move_to_team",
    "publish_draft",
    "remove_draft_constraint",
    "split_teams",
    "team_totals",
    "BanSuggestion",
    "GovernorStats",
    "governor_record",
    "match_attendance",
    "no_show_suggestions",
    "set_attendance",
    "MAX_IMPORT_BYTES",
    "ImportReport",
    "RowReport",
    "import_governor_stats",
    "parse_stats_csv",
    "NudgeReport",
    "in_quiet_hours",
    "post_fill_nudges",
    "RetentionReport",
    "purge_old_records",
]
