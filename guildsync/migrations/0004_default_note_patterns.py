from django.db import migrations

from guildsync.reference_data import NOTE_PATTERNS, SYNC_LOCKS


def load(apps, schema_editor):
    NotePattern = apps.get_model("guildsync", "NotePattern")
    SyncLock = apps.get_model("guildsync", "SyncLock")
    for name, kind, regex, priority in NOTE_PATTERNS:
        NotePattern.objects.get_or_create(name=name, defaults={"kind": kind, "regex": regex, "priority": priority})
    for name in SYNC_LOCKS:
        SyncLock.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("guildsync", "0003_audit_resolution_patterns_locks")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
