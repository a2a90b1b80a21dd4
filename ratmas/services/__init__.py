"""Ratmas operations: the only code that writes Ratmas tables.

Each public function is one ``transaction.atomic()`` block that locks the event row first
(``select_for_update``), validates, writes, and queues its Discord messages in the outbox in
the same transaction. Errors are :class:`RatmasError` with a message that can be shown to
an organiser or a member as is.

One module per job, re-exported here so callers keep writing ``services.<name>``: ``common``
(the error, topics, limits, the event lock, validators and formatters), ``events``,
``participants`` (and exclusions), ``pairings``, ``notifications`` (the Santa DMs and their
delivery), ``relay`` (anonymous messages) and ``schedule`` (reminders and the reveal).
The few private helpers ``ratmas.backup`` needs to import an event under the same rules are
re-exported too."""

from .common import (
    ERROR_SHOWN_CHARS,
    EXPORT_FORMAT,
    MARKDOWN_CHARS,
    MIN_PARTICIPANTS,
    RELAY_LIMIT,
    RELAY_MAX_CHARS,
    RELAY_WINDOW,
    REMINDERS,
    REVEAL_GRACE,
    TOPIC_ANNOUNCE,
    TOPIC_PREFIX,
    TOPIC_RELAY,
    TOPIC_RELAY_BOUNCE,
    TOPIC_REMINDER,
    TOPIC_SANTA_DM,
    TRANSITIONS,
    RatmasError,
    Status,
    _aware,
    _clean_name,
    _now,
    _validate_dates,
    md,
    parse_local_datetime,
    validate_timezone,
    validate_wishlist,
)
from .events import (
    _event_name,
    complete_event,
    create_event,
    describe_event,
    get_active_event,
    open_signups,
    set_status,
    update_event,
    validate_event_fields,
)
from .notifications import (
    NotifyReport,
    notify_santas,
    record_delivery,
    retry_failed_notifications,
)
from .pairings import (
    PairingPlan,
    _exclusion_map,
    generate_pairings,
    previous_pairs,
    replace_pairings,
)
from .participants import (
    SyncDiff,
    add_exclusion,
    join,
    leave,
    remove_exclusion,
    sync_participants_from_role,
    update_wishlist,
)
from .relay import (
    message_recipient,
    message_santa,
    send_relay_message,
)
from .schedule import (
    run_schedule,
    send_scheduled,
)

__all__ = [
    "ERROR_SHOWN_CHARS",
    "EXPORT_FORMAT",
    "MARKDOWN_CHARS",
    "MIN_PARTICIPANTS",
    "NotifyReport",
    "PairingPlan",
    "RELAY_LIMIT",
    "RELAY_MAX_CHARS",
    "RELAY_WINDOW",
    "REMINDERS",
    "REVEAL_GRACE",
    "RatmasError",
    "Status",
    "SyncDiff",
    "TOPIC_ANNOUNCE",
    "TOPIC_PREFIX",
    "TOPIC_RELAY",
    "TOPIC_RELAY_BOUNCE",
    "TOPIC_REMINDER",
    "TOPIC_SANTA_DM",
    "TRANSITIONS",
    "_aware",
    "_clean_name",
    "_event_name",
    "_exclusion_map",
    "_now",
    "_validate_dates",
    "add_exclusion",
    "complete_event",
    "create_event",
    "describe_event",
    "generate_pairings",
    "get_active_event",
    "join",
    "leave",
    "md",
    "message_recipient",
    "message_santa",
    "notify_santas",
    "open_signups",
    "parse_local_datetime",
    "previous_pairs",
    "record_delivery",
    "remove_exclusion",
    "replace_pairings",
    "retry_failed_notifications",
    "run_schedule",
    "send_relay_message",
    "send_scheduled",
    "set_status",
    "sync_participants_from_role",
    "update_event",
    "update_wishlist",
    "validate_event_fields",
    "validate_timezone",
    "validate_wishlist",
]
