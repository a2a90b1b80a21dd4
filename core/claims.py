"""How a periodic job claims its work, so that two runs overlapping is harmless.

Beat fires the minute task again while the last run is still busy, a deploy starts a second
worker, an officer presses "run now" while the schedule runs: every periodic job must expect a
twin working beside it. Rather than preventing overlaps (a global lock, a "running" flag that a
dead worker never clears), each job claims its unit of work atomically, so that of two workers
exactly one gets each row and the other skips it. The claim is one database statement, never a
read followed by a write (check-then-update): between the two another worker can read the same
"still free" answer and both do the work.

Two shapes, both tested with real parallel PostgreSQL connections (``tests/core/test_claims.py``):

- ``claim_rows`` / ``claim_row``: ``SELECT … FOR UPDATE SKIP LOCKED`` inside the caller's
  transaction. The row stays locked until the transaction ends; a second worker does not wait,
  it simply does not see the row. For work done inside one transaction (a match locked at close,
  a reminder queued, a sign-up pushed). Only the claimed table's rows are locked
  (``of=("self",)``), not the rows ``select_related`` joins.
- ``claim_lease``: one conditional ``UPDATE`` that takes a lease when it is free or has lapsed.
  For a long run that cannot hold a transaction open (minutes of HTTP): the lease ends by
  itself if the worker dies, and the holder releases it when done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

M = TypeVar("M", bound=models.Model)


def claim_rows(queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """The rows of ``queryset`` that no other worker holds, locked for this worker until its
    transaction ends (evaluate it inside ``transaction.atomic()``; Django refuses otherwise).
    Rows another worker holds are skipped, not waited for."""
    return queryset.select_for_update(skip_locked=True, of=("self",))


def claim_row(queryset: models.QuerySet[M], pk: Any, **still: Any) -> M | None:
    """Lock the row ``pk`` of ``queryset`` for this worker if it still matches ``still`` (e.g.
    ``status=SCHEDULED``): the row, or None when another worker holds it or it has moved on.
    Call it inside the transaction that does the row's work."""
    return claim_rows(queryset.filter(pk=pk, **still)).first()


def claim_lease(queryset: models.QuerySet[Any], *, until: dt.datetime, now: dt.datetime,
                field: str = "locked_until", **values: Any) -> int:
    """Take the lease ``field`` (a datetime, null when free) of the rows of ``queryset`` whose
    lease is free or lapsed (``<= now``): set it to ``until`` and write ``values`` (the holder's
    token) in one conditional UPDATE. Returns how many rows were taken (0: another worker holds
    the lease). Of two workers, the second's UPDATE waits for the first's row lock and then
    re-checks the condition, so it finds the lease taken."""
    free = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now})
    return queryset.filter(free).update(**{field: until}, **values)
