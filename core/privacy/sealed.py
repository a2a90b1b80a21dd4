"""Encryption at rest for the most sensitive member text (issue 25, Discord's Developer Terms §5).

Sealed: Secret Santa relay texts (``ratmas.RelayMessage.text``), wishlists
(``ratmas.Participant.wishlist_url``) and the payloads of outbox DMs marked ``secret`` (the Santa
DMs that name a recipient, relayed texts, wishlist changes). They are encrypted with the one
field-encryption mechanism the project already has (``core.secrets``: Fernet under a key derived
from ``FIELD_ENCRYPTION_KEY``; ``FIELD_ENCRYPTION_KEY_PREVIOUS`` still decrypts after a rotation),
so a database dump, a backup file or a look at the table shows ``enc:v1:`` and a token, never the
words. The services read them through ``SealedTextField`` (decrypted when a row is loaded) and
``bot.outbox.payload_of``.

Without ``FIELD_ENCRYPTION_KEY`` nothing is encrypted: the texts are stored as plain text, exactly
as before (docs/PRIVACY.md and the README say so). Once the key is set, new writes are sealed and
``manage.py privacy_seal`` (also run by the migration ``ratmas 0005_sealed_texts``) seals the rows
written before; ``--reverse`` decrypts them again. A sealed value whose key is gone reads as ``UNREADABLE`` and is never overwritten
by a save of the row it is in.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

from core import secrets

log = logging.getLogger(__name__)
PREFIX = "enc:v1:"
UNREADABLE = "(encrypted: this server no longer has the key it was written with)"
PAYLOAD_KEY = "sealed"  # a sealed outbox payload is {"sealed": "enc:v1:..."}
UNREADABLE_PAYLOAD = {"content": UNREADABLE}  # what it reads as without its key: never delivered


def enabled() -> bool:
    """Is a field-encryption key configured (so new writes are encrypted)?"""
    return bool(getattr(settings, "FIELD_ENCRYPTION_KEY", ""))


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class Unreadable(str):
    """What a sealed value whose key is missing reads as: it remembers the token, so saving the
    row again writes the token back instead of the placeholder."""

    token: str

    def __new__(cls, token: str) -> Unreadable:
        value = super().__new__(cls, UNREADABLE)
        value.token = token
        return value


def seal(text: str) -> str:
    """``text`` encrypted when the key is set (empty stays empty; sealed stays as it is)."""
    if not text or is_sealed(text) or not enabled():
        return text
    return PREFIX + secrets.encrypt(text)


def unseal(value: str) -> str:
    """The text of a stored value: plain text as it is, a sealed one decrypted."""
    if isinstance(value, Unreadable):
        return value
    if not is_sealed(value):
        return value
    try:
        return secrets.decrypt(value[len(PREFIX):])
    except (InvalidToken, secrets.SecretsUnavailableError) as exc:
        log.error("A sealed member text cannot be decrypted (%s): restore FIELD_ENCRYPTION_KEY "
                  "(or add the old key to FIELD_ENCRYPTION_KEY_PREVIOUS)", exc.__class__.__name__)
        return Unreadable(value)


def seal_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox payload stored as ``{"sealed": token}`` when the key is set."""
    if not payload or not enabled() or PAYLOAD_KEY in payload:
        return payload
    return {PAYLOAD_KEY: seal(json.dumps(payload, ensure_ascii=False))}


def unseal_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as Discord expects it (``{}`` plus a note when the key is gone)."""
    if not isinstance(payload, dict) or set(payload) != {PAYLOAD_KEY} or not is_sealed(payload[PAYLOAD_KEY]):
        return payload
    text = unseal(payload[PAYLOAD_KEY])
    if isinstance(text, Unreadable):
        return dict(UNREADABLE_PAYLOAD)
    return json.loads(text)


class SealedTextField(models.TextField):
    """A text column encrypted at rest when ``FIELD_ENCRYPTION_KEY`` is set, plain otherwise.

    Exact lookups work only against "" (each encryption differs); nothing searches these texts.
    """

    description = gettext_lazy("Text encrypted at rest (FIELD_ENCRYPTION_KEY)")

    def from_db_value(self, value, expression, connection):
        return value if value is None else unseal(value)

    def to_python(self, value):
        return value if value is None or isinstance(value, str) else str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, Unreadable):
            return value.token
        return value if value is None else seal(value)


def seal_rows(table: str, column: str, connection, *, reverse: bool = False, batch: int = 500) -> int:
    """Encrypt (``reverse``: decrypt) every plain (sealed) value of ``table.column`` in place, by raw
    SQL so it serves a migration as well as ``manage.py privacy_seal``. Returns the rows changed."""
    if not enabled():
        return 0
    qn = connection.ops.quote_name
    pattern = PREFIX + "%"
    where = f"{qn(column)} LIKE %s" if reverse else f"{qn(column)} <> '' AND {qn(column)} NOT LIKE %s"
    done, last = 0, 0
    with connection.cursor() as cursor:
        while True:
            # table and column names come from the models' _meta, quoted
            select = f"SELECT id, {qn(column)} FROM {qn(table)} WHERE id > %s AND {where} ORDER BY id LIMIT %s"  # noqa: S608
            cursor.execute(select, [last, pattern, batch])
            rows = cursor.fetchall()
            if not rows:
                return done
            for pk, value in rows:
                new = unseal(value) if reverse else seal(value)
                if reverse and isinstance(new, Unreadable):
                    continue
                cursor.execute(f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE id = %s", [new, pk])  # noqa: S608
                done += 1
            last = rows[-1][0]


def seal_secret_payloads(outbox_model, *, reverse: bool = False) -> int:
    """Seal (``reverse``: unseal) the payloads of outbox rows marked ``secret``."""
    if not enabled():
        return 0
    done = 0
    for pk, payload in outbox_model.objects.filter(secret=True).values_list("pk", "payload").iterator():
        new = unseal_payload(payload) if reverse else seal_payload(payload)
        if new != payload and not (reverse and new == UNREADABLE_PAYLOAD):
            outbox_model.objects.filter(pk=pk).update(payload=new)
            done += 1
    return done


def seal_everything(*, reverse: bool = False) -> dict[str, int]:
    """Every ``SealedTextField`` of every model and the secret outbox payloads, sealed (or
    unsealed): what ``manage.py privacy_seal`` runs once a key is set. Returns rows per column."""
    from django.apps import apps
    from django.db import connection, transaction

    done: dict[str, int] = {}
    with transaction.atomic():
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, SealedTextField):
                    done[f"{model._meta.label}.{field.name}"] = seal_rows(
                        model._meta.db_table, field.column, connection, reverse=reverse)
        done["bot.OutboxMessage.payload (secret DMs)"] = seal_secret_payloads(apps.get_model("bot", "OutboxMessage"),
                                                                             reverse=reverse)
    return done
