"""Ark domain errors: every rule violation raises one of these, with a message shown to the member or officer as is."""

from __future__ import annotations

from core.errors import DomainError


class ArkError(DomainError):
    """An Ark rule was broken; the message is shown to the member or officer as is."""


class NotFound(ArkError):
    pass


class SignupClosed(ArkError):
    pass


class RosterFull(ArkError):
    pass


class Banned(ArkError):
    pass


class NotAllowed(ArkError):
    pass
