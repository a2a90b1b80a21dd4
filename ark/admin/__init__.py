"""The Ark officers' admin. Every write goes through ``ark.services``: forms call a service
once the form itself is valid (``ServiceFormMixin``), actions call services and report
each outcome with ``message_user``. Rows owned by members (signups, reminder preferences) and
the audit log are read-only here.

One module per page group (``matches``, ``signups``, ``bans``, ``records``, ``season``), sharing
``common``; importing the package registers every page, and the names below stay importable
from ``ark.admin`` as before."""

from .bans import BanAdmin, BanForm, BanStatusFilter
from .common import ServiceFormMixin, officer_context, run_service
from .matches import AllianceAdmin, MatchAdmin, SignupInline
from .records import AuditLogAdmin, ReminderPrefsAdmin, SentReminderAdmin
from .season import (
    ArkCalendarAdmin,
    ArkSettingsAdmin,
    CalendarForm,
    DraftConstraintAdmin,
    GovernorAdmin,
    GovernorRecordAdmin,
    StatsUploadForm,
    governor_record_html,
)
from .signups import SignupAddForm, SignupAdmin

__all__ = [
    "AllianceAdmin", "ArkCalendarAdmin", "ArkSettingsAdmin", "AuditLogAdmin", "BanAdmin", "BanForm",
    "BanStatusFilter", "CalendarForm", "DraftConstraintAdmin", "GovernorAdmin", "GovernorRecordAdmin",
    "MatchAdmin", "ReminderPrefsAdmin", "SentReminderAdmin", "ServiceFormMixin", "SignupAddForm", "SignupAdmin",
    "SignupInline", "StatsUploadForm", "governor_record_html", "officer_context", "run_service",
]
