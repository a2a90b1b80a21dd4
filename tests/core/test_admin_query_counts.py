"""Every changelist stays within 10 queries with 10,000 rows in its table: no query per row
(names, related rows and counts come in the page's one query).

The rows are cheap clones of a demo row, bulk-created: fields that a unique constraint covers
get a distinct value per clone (numbers, text, dates), and a unique foreign key gets a fresh
cloned parent per row."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.db.models.expressions import F
from django.urls import reverse

from core.constraints import CompositeForeignKey

ROWS = 10_000
MAX_QUERIES = 10
PREFERRED = ("user_id", "discord_id", "discord_user_id", "target_id", "governor_id", "name", "label", "title")


def _field_names(expression: Any) -> list[str]:
    if isinstance(expression, F):
        return [expression.name]
    return [name for source in getattr(expression, "get_source_expressions", list)() for name in _field_names(source)]


def unique_sets(model: type[models.Model], template: models.Model | None = None) -> list[list[models.Field]]:
    sets: list[list[str]] = [[f.name] for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    sets += [list(names) for names in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            if constraint.condition is not None and template is not None and not model._default_manager.filter(
                    constraint.condition, pk=template.pk).exists():
                continue  # a conditional unique that the cloned row is outside of: clones can't collide
            sets.append(list(constraint.fields) or [n for e in constraint.expressions for n in _field_names(e)])
    fields = [[model._meta.get_field(name) for name in names] for names in sets]
    if template is not None:  # a NULL never collides (NULLS DISTINCT): a set the template leaves NULL needs no variety
        fields = [f for f in fields if all(getattr(template, field.attname) is not None for field in f)]
    return fields


def fields_to_vary(model: type[models.Model], template: models.Model | None = None) -> set[models.Field]:
    """One field per unique set: a scalar one when there is one (preferring ids and names),
    else its first foreign key."""
    chosen: set[models.Field] = set()
    for fields in unique_sets(model, template):
        if chosen & set(fields):
            continue
        scalars = [f for f in fields if not f.is_relation]
        if scalars:
            scalars.sort(key=lambda f: (f.name not in PREFERRED, PREFERRED.index(f.name) if f.name in PREFERRED else 0))
            chosen.add(scalars[0])
        else:
            chosen.add(fields[0])
    return chosen


def varied(field: models.Field, base: Any, i: int) -> Any:
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.SmallIntegerField | models.PositiveSmallIntegerField):
        return 20_000 + i
    if isinstance(field, models.IntegerField | models.BigIntegerField | models.PositiveIntegerField):
        return 1_000_000_000 + i
    # dates far past the demo's own rows (a weekly raid night's next weeks are demo rows too)
    if isinstance(field, models.DateTimeField):
        return base + dt.timedelta(days=36_500, minutes=i + 1)
    if isinstance(field, models.DateField):
        return base + dt.timedelta(days=7 * (i + 5_000))  # a Saturday stays a Saturday
    if isinstance(field, models.CharField | models.TextField):
        suffix = f"~{i}"
        return str(base or "x")[: (field.max_length or 100) - len(suffix)] + suffix
    raise AssertionError(f"cannot vary {field!r}")


def first_row(label: str) -> None:
    """One row of a table the demo data leaves empty, to clone from."""
    from django.utils import timezone

    now = timezone.now()
    if label == "socialaccount.SocialAccount":
        from allauth.socialaccount.models import SocialAccount
        from django.contrib.auth.models import User

        SocialAccount.objects.create(user=User.objects.create_user("bench-officer"), provider="discord", uid="1")
    elif label == "rest_framework_api_key.APIKey":
        from rest_framework_api_key.models import APIKey

        APIKey.objects.create_key(name="bench")
    elif label.startswith("django_celery_beat."):
        from django_celery_beat.models import (
            ClockedSchedule,
            CrontabSchedule,
            IntervalSchedule,
            PeriodicTask,
            SolarSchedule,
        )

        interval = IntervalSchedule.objects.create(every=1, period="days")
        ClockedSchedule.objects.create(clocked_time=now)
        CrontabSchedule.objects.create(minute="0", hour="4")
        SolarSchedule.objects.create(event="sunrise", latitude=50, longitude=8)
        PeriodicTask.objects.create(name="bench", task="core.bench", interval=interval)
    elif label == "core.PrivacyRequest":
        from core.models import PrivacyRequest

        PrivacyRequest.objects.create(kind="export", source="officer", target_hash="0" * 64, status="done",
                                      received_at=now, processed_at=now, processed_by="bench-officer")
    elif label == "members.CalendarToken":
        from members.models import CalendarToken

        CalendarToken.objects.create(discord_user_id=10**15, token_hash="0" * 64, prefix="000000", rotated_at=now)
    elif label == "core.RetentionRun":
        from core.models import RetentionRun

        RetentionRun.objects.create(started_at=now, finished_at=now, as_of=now, triggered_by="schedule")
    elif label == "ark.GovernorRecord":
        from ark.models import Governor, GovernorRecord

        GovernorRecord.objects.create(governor=Governor.objects.order_by("pk").first(), signed_up=3, played=2)
    elif label == "guildsync.SyncLog":
        from guildsync.models import SyncLog

        SyncLog.objects.create(source="discord", started_at=now, status="success")
    elif label.startswith("ark."):
        from ark.models import Ban, Match, ReminderPrefs, SentReminder

        Ban.objects.create(discord_user_id=1, reason="bench", starts_weekend=now.date(), ends_on=now.date())
        ReminderPrefs.objects.create(discord_user_id=1)
        SentReminder.objects.create(match=Match.objects.order_by("pk").first(), reminder_type="1h", target_id=1,
                                    scheduled_for=now, status="queued")
    elif label.startswith("ratmas."):
        from ratmas.models import Event, Pairing, Participant, RelayMessage, ScheduledSend

        event = Event.objects.order_by("pk").first()
        santa, recipient = (Participant.objects.create(event=event, user_id=10**15 + n, display_name=f"P{n}")
                            for n in (1, 2))
        pairing = Pairing.objects.create(event=event, santa=santa, recipient=recipient)
        RelayMessage.objects.create(event=event, pairing=pairing, direction="to_santa", text="hi")
        ScheduledSend.objects.create(event=event, kind="reveal")


def clone_rows(model: type[models.Model], n: int) -> list[models.Model]:
    template = model._default_manager.order_by("pk").first()
    if template is None:
        first_row(model._meta.label)
        template = model._default_manager.order_by("pk").first()
    if template is None:
        raise LookupError(model._meta.label)
    vary = fields_to_vary(model, template)
    parents = {f: clone_rows(f.related_model, n) for f in vary if f.is_relation}
    rows = []
    for i in range(n):
        row = copy.copy(template)
        pk = model._meta.pk
        row.pk = None if isinstance(pk, models.AutoField | models.BigAutoField) else varied(pk, template.pk, i)
        row._state = copy.copy(template._state)
        row._state.adding = True
        for field in vary:
            if field.is_relation:
                setattr(row, field.attname, parents[field][i].pk)
            else:
                setattr(row, field.attname, varied(field, getattr(template, field.attname), i))
        for constraint in model._meta.constraints:  # a clone owns none of its template's rows (a main character)
            if isinstance(constraint, CompositeForeignKey):
                for name in constraint.fields:
                    if model._meta.get_field(name).null:
                        setattr(row, model._meta.get_field(name).attname, None)
        rows.append(row)
    return model._default_manager.bulk_create(rows, batch_size=2_000)


SINGLETONS = {"raids.RaidHelperSettings"}  # one row by design: its changelist redirects to the form
# Tables that cannot hold 10,000 rows by design: measured with the rows they can have.
BOUNDED = {"guildsync.GuildRank": "ten ranks at most (rank numbers 0-9, database-enforced)",
           "guildsync.RankRoleMapping": "one Discord role mapping per guild rank (one-to-one), so ten at most",
           "core.SecretSetting": "one row per known secret (database-enforced names)",
           "ark.ArkSettings": "the installation's one Ark cadence",
           "members.PublicFeed": "one public raid feed and one per Ark alliance (database-enforced)"}


def changelists() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return [(m, a) for m, a in admin.site._registry.items() if m._meta.label not in SINGLETONS]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), changelists(), ids=lambda v: getattr(v, "_meta", None)
                         and v._meta.label or "")
def test_changelist_queries_at_10000_rows(model, model_admin, admin_client, demo_data,
                                          django_assert_max_num_queries) -> None:
    bounded = model._meta.label in BOUNDED
    if not bounded:
        try:
            clone_rows(model, ROWS - model._default_manager.count())
        except LookupError as missing:
            pytest.fail(f"no row of {missing} to clone: add one to first_row()")
        assert model._default_manager.count() >= ROWS
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    admin_client.get(url)  # warm the session and the content-type cache
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(url)
    assert response.status_code == 200
    if not bounded:
        assert len(response.context["cl"].result_list) == model_admin.list_per_page
