"""The retention policy: nothing is kept longer than needed (docs/PRIVACY.md, "How long").

Each app declares its share as ``AppPart.retention(now, dry_run)`` in its ``privacy.py``; one
run (``core.tasks.privacy_retention_task``, daily; ``manage.py privacy_retention [--dry-run]``)
calls them all and stores its report as a ``RetentionRun``. Purges run in batches of
``RETENTION_BATCH_SIZE`` rows, each batch its own short transaction, so no table is locked for
long even at a million rows (``bench/privacy_purge.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.utils import timezone

from core.models import RetentionRun

from . import parts


def in_batches(queryset: models.QuerySet, work: Callable[[list[Any]], int], *, dry_run: bool,
               batch: int | None = None) -> int:
    """Apply ``work(pks)`` to the rows of ``queryset`` in pk order, ``batch`` rows per
    transaction (dry run: only count them). Returns the rows done (or that would be)."""
    if dry_run:
        return queryset.count()
    size = batch or settings.RETENTION_BATCH_SIZE
    done, last = 0, None
    while True:
        with transaction.atomic():
            page = queryset.order_by("pk")
            if last is not None:
                page = page.filter(pk__gt=last)
            pks = list(page.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:size])
            if not pks:
                return done
            done += work(pks)
            last = pks[-1]


def purge(queryset: models.QuerySet, *, dry_run: bool, batch: int | None = None) -> int:
    """Delete the rows of ``queryset`` in primary-key order, ``batch`` rows per short transaction:
    lock the next batch by an index-backed primary-key range (``id > last``, skipping rows a
    worker holds), set the references to it to NULL (what their ``on_delete=SET_NULL`` says),
    delete it by id. On PostgreSQL that is one statement per batch (a data-modifying WITH) in
    autocommit, so a batch's locks last exactly one statement; elsewhere 2 + R plain statements
    in one transaction per batch.

    Why not ``QuerySet.delete()``: Django's deletion collector loads every row whole (payloads
    included) and checks each reference twice, about 18 statements per batch; at a million
    outbox rows under load one batch held its locks for 1.46 s (bench/privacy_purge.py). A model
    with a reference that is not SET_NULL keeps the collector (its cascades are Django's)."""
    if dry_run:
        return queryset.count()
    model = queryset.model
    references = [f for f in model._meta.get_fields(include_hidden=True)
                  if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)]
    if any(ref.on_delete is not models.SET_NULL for ref in references):
        return in_batches(queryset, lambda pks: model._base_manager.filter(pk__in=pks).delete()[0], dry_run=False,
                          batch=batch)
    if connections[queryset.db].vendor == "postgresql":
        return _purge_in_one_statement_per_batch(queryset, references, batch or settings.RETENTION_BATCH_SIZE)

    def delete(pks: list[Any]) -> int:
        for ref in references:
            ref.related_model._base_manager.filter(**{f"{ref.field.name}__in": pks}).update(**{ref.field.name: None})
        return model._base_manager.filter(pk__in=pks)._raw_delete(queryset.db)

    return in_batches(queryset, delete, dry_run=False, batch=batch)


def _purge_in_one_statement_per_batch(queryset: models.QuerySet, references: list, size: int) -> int:
    """``WITH batch AS (SELECT id … WHERE id > last ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED),
    r1 AS (UPDATE ref1 SET fk = NULL WHERE fk IN (SELECT id FROM batch)), …  DELETE … RETURNING id``.
    The foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's), checked at commit, after the
    UPDATEs; every sub-statement of a WITH runs to completion whether read or not."""
    connection = connections[queryset.db]
    qn = connection.ops.quote_name
    model = queryset.model
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    clear = [f"r{i} AS (UPDATE {qn(ref.related_model._meta.db_table)} SET {qn(ref.field.column)} = NULL "  # noqa: S608
             f"WHERE {qn(ref.field.column)} IN (SELECT batch.pk FROM batch))" for i, ref in enumerate(references)]
    done, last = 0, None
    while True:
        page = queryset.order_by("pk") if last is None else queryset.filter(pk__gt=last).order_by("pk")
        with transaction.atomic(using=queryset.db):  # only to compile: Django writes FOR UPDATE in a transaction
            select, params = page.select_for_update(skip_locked=True, of=("self",)).values("pk")[:size] \
                .query.sql_with_params()
        # table and column names come from the models' _meta, quoted; the batch's one column is
        # named pk (values("pk")), always read as batch.pk: a bare column name inside
        # IN (SELECT …) would resolve to the outer table's
        sql = (f"WITH batch AS ({select}), " + "".join(c + ", " for c in clear)  # noqa: S608
               + f"gone AS (DELETE FROM {table} WHERE {pk} IN (SELECT batch.pk FROM batch) RETURNING {pk}) "  # noqa: S608
               + f"SELECT count(*), max({pk}) FROM gone")  # noqa: S608
        # run in autocommit (outside the caller's transaction, if there is none): the statement
        # is its own transaction, its locks end with it, not after a round trip back to Python
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            count, highest = cursor.fetchone()
        if not count:
            return done
        done, last = done + count, highest


def run(*, now: dt.datetime | None = None, dry_run: bool = False, triggered_by: str = "schedule") -> RetentionRun:
    """One run of the whole policy; its report is stored (a dry run's too)."""
    as_of = now or timezone.now()
    record = RetentionRun.objects.create(started_at=timezone.now(), as_of=as_of, dry_run=dry_run,
                                         triggered_by=triggered_by[:150])
    report: dict[str, Any] = {}
    for part in parts():
        if part.retention is not None:
            report[part.app] = part.retention(as_of, dry_run)
    record.report, record.finished_at = report, timezone.now()
    record.save(update_fields=["report", "finished_at"])
    return record


def describe(record: RetentionRun) -> str:
    verb = "would delete" if record.dry_run else "deleted"
    lines = [f"Retention as of {record.as_of:%Y-%m-%d %H:%M} UTC ({verb}):"]
    for app, counts in record.report.items():
        lines += [f"  {app}: {what}: {rows}" for what, rows in counts.items()]
    return "\n".join(lines)
