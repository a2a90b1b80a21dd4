"""One way for a test to wait on another process (a bot, a worker, a fake server): poll a
condition with a bounded wait, and on timeout fail naming what was awaited plus whatever
context explains it (usually the tail of the process's log). Tests assert counts after it;
no test asserts a wall-clock window."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], seconds: float, what: str, *, every: float = 0.05,
               context: Callable[[], str] = lambda: "") -> T:
    """Call ``condition`` every ``every`` seconds until it returns something truthy (returned),
    for at most ``seconds``; then fail with ``what`` and ``context()``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = context()
            raise AssertionError(f"timed out waiting for {what}" + (f"\n{detail}" if detail else ""))
        time.sleep(every)
