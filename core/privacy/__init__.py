"""The registry of members' personal data: export it, erase it, say what is kept and why.

Discord's Developer Terms (§5) oblige whoever runs the bot to let members get and delete their
data. Every app declares its part in ``<app>/privacy.py`` beside its models, as one
``AppPart`` named ``PART``:

- ``holds``: each model and field holding a member's Discord id, name or text, and what erasing
  does to it (``erased``, ``anonymised`` or ``kept``) with the reason, which the privacy
  statement (docs/PRIVACY.md) prints; ``tests/architecture/test_privacy_registry.py`` walks every
  model and fails on a personal field no entry covers (or the reviewed allow-list excuses);
- ``export(discord_user_id) -> dict`` and ``forget(discord_user_id, ctx) -> dict`` (a report).

``export_member`` and ``forget_member`` below are the two services other code calls. Forgetting
runs every app's part in one transaction, core first (it refuses a superuser's own account
before anything changes), so it either happens entirely or not at all, and is idempotent:
forgetting someone already forgotten finds nothing left and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError

from .redact import FORGOTTEN, TOMBSTONE_ID, Needles  # noqa: F401  (re-exported for the apps' parts)

ERASED, ANONYMISED, KEPT = "erased", "anonymised", "kept"
OUTCOMES = (ERASED, ANONYMISED, KEPT)


class PrivacyError(DomainError):
    """A privacy request cannot be carried out (e.g. the target is a superuser's own login)."""


@dataclass(frozen=True)
class Holds:
    """One model's personal fields and what erasing a member does to them."""

    model: str  # "app_label.ModelName"
    fields: tuple[str, ...]
    outcome: str  # ERASED, ANONYMISED or KEPT
    why: str  # what happens and, for what is kept, why; printed in docs/PRIVACY.md

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"{self.model}: outcome must be one of {OUTCOMES}")


@dataclass
class ForgetContext:
    """What every app's ``forget`` receives besides the id: who asked, why, when, and the
    member's names as the apps found them (collected first, so that every app can scrub texts
    that quote them after another app has erased its own copy)."""

    actor: str
    reason: str
    now: dt.datetime
    needles: Needles


@dataclass(frozen=True)
class AppPart:
    app: str
    holds: tuple[Holds, ...]
    export: Callable[[int], dict[str, Any]]
    forget: Callable[[int, ForgetContext], dict[str, Any]]
    names: Callable[[int], set[str]] = field(default=lambda _id: set())  # the member's names this app knows
    order: int = 50  # forget order: lower first (core 0 refuses superusers before anything changes)
    # The app's share of the retention policy: ``retention(now, dry_run) -> {what: rows}``
    # (core/privacy/retention.py runs every app's, each in short batches).
    retention: Callable[[dt.datetime, bool], dict[str, int]] | None = None
    retention_rules: tuple[str, ...] = ()  # the policy in words, for docs/PRIVACY.md


def parts() -> list[AppPart]:
    """Every installed app's ``PART`` from its ``privacy`` module, in forget order."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.privacy"
        if config.name == "core":
            name = "core.privacy.core_part"
        if find_spec(config.name) is None or find_spec(name) is None:
            continue
        part = getattr(import_module(name), "PART", None)
        if isinstance(part, AppPart):
            found.append(part)
    return sorted(found, key=lambda p: (p.order, p.app))


def registered_fields() -> dict[str, set[str]]:
    """model label → fields some registry entry covers."""
    covered: dict[str, set[str]] = {}
    for part in parts():
        for holds in part.holds:
            covered.setdefault(holds.model, set()).update(holds.fields)
    return covered


def _snowflake(discord_user_id: Any) -> int:
    try:
        value = int(str(discord_user_id).strip())
    except ValueError:
        raise PrivacyError(_("%(id)s is not a Discord user id (digits only).") % {"id": repr(discord_user_id)}) from None
    if value <= TOMBSTONE_ID or value >= 2**63:
        raise PrivacyError(_("%(id)s is not a Discord user id.") % {"id": discord_user_id})
    return value


def member_names(discord_user_id: int) -> set[str]:
    """Every name of the member any app stores (Discord username, display names, …)."""
    names: set[str] = set()
    for part in parts():
        names |= {n for n in part.names(discord_user_id) if n and n.strip()}
    return names


def export_member(discord_user_id: int) -> dict[str, Any]:
    """Everything stored about the member, per app, as JSON-serialisable data."""
    member = _snowflake(discord_user_id)
    data: dict[str, Any] = {
        "discord_user_id": str(member),
        "exported_at": timezone.now().isoformat(),
        "about": _("Guild Ops' data about this Discord account, per app. What each part means: docs/PRIVACY.md."),
        "apps": {},
    }
    for part in parts():
        data["apps"][part.app] = part.export(member)
    return data


def forget_member(discord_user_id: int, *, actor: str, reason: str = "") -> dict[str, Any]:
    """Erase or anonymise the member's data in every app (one transaction); returns a report of
    what was erased, anonymised and kept, per app. Idempotent."""
    member = _snowflake(discord_user_id)
    if not actor:
        raise PrivacyError(_("Say who processes the request (actor)."))
    now = timezone.now()
    report: dict[str, Any] = {"discord_user_id": str(member), "actor": actor, "reason": reason,
                              "processed_at": now.isoformat(), "apps": {}}
    with transaction.atomic():
        ctx = ForgetContext(actor=actor, reason=reason, now=now, needles=Needles(member, member_names(member)))
        for part in parts():
            report["apps"][part.app] = part.forget(member, ctx)
    return report


def counts(report: dict[str, Any]) -> dict[str, int]:
    """Totals of a forget report by outcome (what a privacy request record keeps)."""
    totals = dict.fromkeys(OUTCOMES, 0)
    for app_report in report.get("apps", {}).values():
        for outcome in OUTCOMES:
            totals[outcome] += sum(v for v in app_report.get(outcome, {}).values() if isinstance(v, int))
    return totals
