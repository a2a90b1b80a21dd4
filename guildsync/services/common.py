"""What every guild-sync service shares: the app's error, run locks and the sync log.

Locks are rows of ``SyncLock``: a long run (a Blizzard sync that spends minutes on HTTP)
*claims* its row with one conditional UPDATE and a lease, so a second worker sees the claim
and skips; a short run inside one transaction *locks* the row with ``select_for_update`` so
concurrent runs queue behind each other instead of interleaving.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core.claims import claim_lease
from core.errors import DomainError
from guildsync.models import SyncLock, SyncLog


class GuildSyncError(DomainError):
    """A guild-sync rule was broken; the message is shown to the officer as is."""


def _ensure_lock_row(name: str) -> None:
    # The data migration creates the rows; this covers a flushed test database.
    SyncLock.objects.bulk_create([SyncLock(name=name)], ignore_conflicts=True)


def lock_for_update(name: str) -> SyncLock:
    """Serialise short runs of ``name``: call inside ``transaction.atomic()``."""
    _ensure_lock_row(name)
    return SyncLock.objects.select_for_update().get(name=name)


def claim(name: str, lease_seconds: int = 1800) -> str | None:
    """Claim a long run. Returns a token, or None when another live run holds the lease."""
    _ensure_lock_row(name)
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = claim_lease(SyncLock.objects.filter(name=name), now=now,
                          until=now + timedelta(seconds=lease_seconds), holder=token)
    return token if claimed else None


def release(name: str, token: str) -> None:
    SyncLock.objects.filter(name=name, holder=token).update(locked_until=None, holder="")


def start_log(source: str, triggered_by: str = "", api_key_id: str | None = None) -> SyncLog:
    with transaction.atomic():
        return SyncLog.objects.create(source=source, started_at=timezone.now(), triggered_by=triggered_by[:150],
                                      api_key_id=api_key_id)


def finish_log(log: SyncLog, status: str, stats: dict[str, Any] | None = None, error: str = "") -> SyncLog:
    with transaction.atomic():
        log.finished_at = timezone.now()
        log.status = status
        log.stats = stats or {}
        log.error = error[:4000]
        log.save(update_fields=["finished_at", "status", "stats", "error"])
    return log


def skipped_log(source: str, triggered_by: str = "") -> SyncLog:
    """A run that found another one in progress still leaves a trace."""
    now = timezone.now()
    with transaction.atomic():
        return SyncLog.objects.create(source=source, started_at=now, finished_at=now, status=SyncLog.Status.SKIPPED,
                                      triggered_by=triggered_by[:150], error=_("Another run was in progress."))


def _validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
                         for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def save_settings_row(obj: models.Model) -> models.Model:
    """Officers' and superusers' edits of configuration rows (guild ranks, note patterns,
    reference data): validated with the model's own rules (``full_clean``: a note pattern's
    regex must compile and capture the name) and written in one transaction, so a bad row
    never reaches matching or the rank checks."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise GuildSyncError(_("%(row)s not saved: %(error)s") % {"row": capfirst(obj._meta.verbose_name),
                                                                    "error": _validation_message(exc)}) from exc
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise GuildSyncError(_("%(row)s not saved: it clashes with another row.")
                             % {"row": capfirst(obj._meta.verbose_name)}) from exc
    return obj


def delete_settings_row(obj: models.Model) -> None:
    """Delete a configuration row (rows pointing at it keep working: their FKs are nullable)."""
    with transaction.atomic():
        obj.delete()
