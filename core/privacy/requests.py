"""Privacy requests: carry one out (export or forget) and keep the proof that it was honoured.

The record (``core.models.PrivacyRequest``) keeps a keyed hash of the Discord id, never the id:
HMAC-SHA256 keyed with ``SECRET_KEY``, so the same id always gives the same hash (an officer
can find the record of an id they are asked about) while the table alone does not say whose
requests it holds. Counts only: what was erased, anonymised and kept, per app.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from core.models import PrivacyRequest

from . import PrivacyError, _snowflake, export_member, forget_member

HASH_SALT = "guildops.privacy.request"


def target_hash(discord_user_id: int) -> str:
    return salted_hmac(HASH_SALT, str(_snowflake(discord_user_id)), algorithm="sha256").hexdigest()


def _counts(report: dict[str, Any]) -> dict[str, Any]:
    """Numbers only, per app and outcome (never ids or names)."""
    out: dict[str, Any] = {}
    for app, parts in report.get("apps", {}).items():
        out[app] = {outcome: {k: v for k, v in values.items() if isinstance(v, int)}
                    for outcome, values in parts.items() if isinstance(values, dict)}
    return out


def process(discord_user_id: int, *, kind: str, source: str, actor: str, reason: str = "",
            received_at=None) -> tuple[PrivacyRequest, dict[str, Any]]:
    """Carry out the request and record it; returns (record, the export or the forget report).
    A refusal (a superuser's own account) is recorded as refused and raised."""
    if kind not in PrivacyRequest.Kind.values or source not in PrivacyRequest.Source.values:
        raise PrivacyError(_("Unknown kind of request or source."))
    hashed = target_hash(discord_user_id)
    now = timezone.now()
    fields = {"kind": kind, "source": source, "target_hash": hashed, "received_at": received_at or now,
              "processed_by": actor[:150]}
    try:
        with transaction.atomic():
            if kind == PrivacyRequest.Kind.EXPORT:
                result = export_member(discord_user_id)
                counts = {app: sum(len(v) if isinstance(v, list) else int(v is not None) for v in data.values())
                          for app, data in result["apps"].items()}
            else:
                result = forget_member(discord_user_id, actor=actor, reason=reason)
                counts = _counts(result)
            record = PrivacyRequest.objects.create(status=PrivacyRequest.Status.DONE, processed_at=timezone.now(),
                                                   counts=counts, **fields)
    except PrivacyError as exc:
        PrivacyRequest.objects.create(status=PrivacyRequest.Status.REFUSED, processed_at=timezone.now(),
                                      refusal=str(exc)[:500], **fields)
        raise
    return record, result
