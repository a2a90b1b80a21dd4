"""Removing a member from texts and JSON that quote them (outbox payloads, reports, notes).

A forgotten member's Discord id is replaced by ``TOMBSTONE_ID`` where a row must keep a member
(an economy transaction's other side, a DM's delivery record); their mentions (``<@id>``) and
names inside texts become ``FORGOTTEN``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# One account stands for every forgotten member. Not the economy's bank (0); Discord never
# issues ids this small, so it can never be a real member.
TOMBSTONE_ID = 1
FORGOTTEN = "a forgotten member"
MIN_NAME_LENGTH = 3  # shorter names ("Al") would blank unrelated words in other members' texts


@dataclass
class Needles:
    """What identifies the member inside free text."""

    member_id: int
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        names = sorted({n.strip() for n in self.names if len(n.strip()) >= MIN_NAME_LENGTH}, key=len, reverse=True)
        parts = [rf"<@!?{self.member_id}>", rf"(?<!\d){self.member_id}(?!\d)"]
        parts += [rf"(?<!\w){re.escape(name)}(?!\w)" for name in names]
        self._pattern = re.compile("|".join(parts), re.IGNORECASE)

    def found_in(self, text: str) -> bool:
        return bool(text) and bool(self._pattern.search(text))

    def text(self, text: str) -> str:
        return self._pattern.sub(FORGOTTEN, text) if text else text

    def json(self, value: Any) -> Any:
        """``value`` with the member removed from every string, and their id (as a number) replaced."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return TOMBSTONE_ID if value == self.member_id else value
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.json(v) for k, v in value.items()}
        return value

    def search_terms(self) -> list[str]:
        """Substrings a database filter can look for to find candidate rows."""
        return [str(self.member_id), *sorted(n for n in self.names if len(n.strip()) >= MIN_NAME_LENGTH)]
