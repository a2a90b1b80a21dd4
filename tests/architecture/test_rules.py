"""The house rules hold over the whole code base, and the checker catches a breach."""

from __future__ import annotations

import textwrap

from tests.architecture import rules

BAD_ADMIN = textwrap.dedent('''
    from django.contrib import admin
    from ark.models import Match

    class MatchAdmin(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            obj.save()

        @admin.action(permissions=["change"])
        def lock(self, request, queryset):
            queryset.filter(status="open").update(status="locked")
            Match.objects.create(alliance_id=1)
            Match.objects.bulk_create([])
            queryset.first().delete()
''')

HARMLESS = textwrap.dedent('''
    def build(payload, session, formset):
        payload.update({"a": 1})
        session.headers.update({"x": "y"})
        formset.save(commit=False)
        seen = set(); seen.update([1])
''')


def test_no_orm_write_outside_services():
    found = rules.check_orm_writes()
    assert not found, "ORM writes outside services (call a service instead):\n" + "\n".join(map(str, found))


def test_services_never_import_entry_points():
    found = rules.check_service_imports()
    assert not found, "services importing admin/api/discord_commands/tasks (queue by name: core.jobs):\n" + "\n".join(map(str, found))


def test_the_checker_catches_writes_in_an_admin():
    found = rules.orm_writes(BAD_ADMIN, "ark/admin.py")
    assert [v.line for v in found] == [7, 11, 12, 13, 14], [str(v) for v in found]


def test_the_checker_leaves_dicts_headers_and_uncommitted_forms_alone():
    assert rules.orm_writes(HARMLESS) == []


def test_the_checker_catches_a_service_importing_an_entry_point():
    source = ("from ark import discord_commands\nfrom ark.admin import MatchAdmin\nimport raids.api\nfrom ark import models\n"
              "def later():\n    from guildsync.tasks import addon_upload_task\n    from core import jobs\n"
              "from guildsync import tasks\n")
    assert sorted(v.line for v in rules.entry_point_imports(source)) == [1, 2, 3, 6, 8]


def test_every_writer_outside_services_is_still_there():
    """An exemption outlives its module only by mistake."""
    missing = [path for path in rules.WRITERS if not (rules.ROOT / path).exists()]
    assert not missing
