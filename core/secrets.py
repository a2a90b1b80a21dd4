"""Reading API keys and secrets: the environment first, then the encrypted admin setting.

Why: officers rotate the Raid-Helper key or the Blizzard/Warcraft Logs credentials in the
admin (``core.models.SecretSetting``) and the very next task must use them, without a restart.
So clients call ``get_secret`` when they are built (each task run builds its own) instead of
reading ``settings`` once at import. The environment variable of the same name still works and
takes precedence, so existing deployments change nothing.

Encryption: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived by
HKDF-SHA256 from ``FIELD_ENCRYPTION_KEY``; ``FIELD_ENCRYPTION_KEY_PREVIOUS`` (comma-separated)
still decrypts values written under an earlier key, so that key can be rotated too.
"""

from __future__ import annotations

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError

log = logging.getLogger(__name__)
HKDF_INFO = b"guildops secret settings v1"


class SecretsUnavailableError(DomainError):
    """No ``FIELD_ENCRYPTION_KEY``: secrets cannot be stored in the database."""


@functools.lru_cache(maxsize=8)
def _fernet(key_material: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(key_material.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def cipher() -> MultiFernet:
    """The current key first (it encrypts), earlier ones after (they still decrypt)."""
    current = getattr(settings, "FIELD_ENCRYPTION_KEY", "")
    if not current:
        raise SecretsUnavailableError(_("Set FIELD_ENCRYPTION_KEY in the environment before storing secrets here."))
    previous = [k for k in getattr(settings, "FIELD_ENCRYPTION_KEY_PREVIOUS", []) if k]
    return MultiFernet([_fernet(current), *(_fernet(k) for k in previous)])


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return cipher().decrypt(token.encode()).decode()


def get_secret(name: str) -> str:
    """The value of ``name`` now: the environment's when set, else the admin's (decrypted),
    else "". A value that cannot be decrypted (wrong key) is logged and treated as unset."""
    from_env = getattr(settings, name, "")
    if from_env:
        return str(from_env)
    from core.models import SecretSetting

    token = SecretSetting.objects.filter(name=name).values_list("ciphertext", flat=True).first()
    if not token:
        return ""
    try:
        return decrypt(token)
    except (InvalidToken, SecretsUnavailableError) as exc:
        log.error("Secret setting %s cannot be read (%s): set it again in the admin or restore "
                  "FIELD_ENCRYPTION_KEY", name, exc.__class__.__name__)
        return ""


def secret_source(name: str) -> str:
    """Where ``get_secret(name)`` comes from: "environment", "admin" or "" (unset)."""
    if getattr(settings, name, ""):
        return "environment"
    from core.models import SecretSetting

    return "admin" if SecretSetting.objects.filter(name=name).exists() else ""
