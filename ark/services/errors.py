"""Ark domain errors: every rule violation raises one of these, with a message shown to the member or officer as is."""

from __future__ import annotations

from core.errors import DomainError


class ArkError(DomainError):
    """An Ark rule was broken; the message is shown to the member or officer as is."""


class NotFoundError(ArkError):
    pass


class SignupClosedError(ArkError):
    pass


class RosterFullError(ArkError):
    pass


class BannedError(ArkError):
    pass


class NotAllowedError(ArkError):
    pass
