"""The reference data through the one service that loads it (``services.reference``).

Migrations 0002/0004/0008 loaded it with code of their own for the schema of their day; from
here on a migration that changes the reference data calls ``load_reference_data(apps)``, the
same code the tests call on a flushed database. Running it now adds whatever of today's
reference data an installation lacks (it leaves officers' edits alone)."""

from django.db import migrations


def load(apps, schema_editor):
    from guildsync.services.reference import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("guildsync", "0013_rank_role_mappings")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
