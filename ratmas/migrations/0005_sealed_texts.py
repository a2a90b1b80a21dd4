"""Encryption at rest (issue 25): wishlists and relay texts become SealedTextField, and the rows
written before are sealed in place, with the payloads of secret outbox DMs (the Santa DMs).

With FIELD_ENCRYPTION_KEY set the data step encrypts every plain value; without it, it changes
nothing (the texts stay plain, as docs/PRIVACY.md says) and ``manage.py privacy_seal`` does the
same work once a key is set. Reversing decrypts them again (with the key still set).
"""

from django.db import migrations, models

import core.privacy.sealed


def seal(apps, schema_editor, reverse=False):
    connection = schema_editor.connection
    for model, column in (("Participant", "wishlist_url"), ("RelayMessage", "text")):
        core.privacy.sealed.seal_rows(apps.get_model("ratmas", model)._meta.db_table, column, connection, reverse=reverse)
    core.privacy.sealed.seal_secret_payloads(apps.get_model("bot", "OutboxMessage"), reverse=reverse)


def unseal(apps, schema_editor):
    seal(apps, schema_editor, reverse=True)


class Migration(migrations.Migration):

    dependencies = [
        ('ratmas', '0004_event_name_exclusion_pairs'),
        ('bot', '0007_outbox_metrics_indexes'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='participant',
            name='ratmas_wishlist_http',
        ),
        migrations.AlterField(
            model_name='participant',
            name='wishlist_url',
            field=core.privacy.sealed.SealedTextField(blank=True, help_text='http(s) link only, 500 characters at most (ratmas.services.validate_wishlist). Encrypted at rest when FIELD_ENCRYPTION_KEY is set (core/privacy/sealed.py).'),
        ),
        migrations.AlterField(
            model_name='relaymessage',
            name='text',
            field=core.privacy.sealed.SealedTextField(help_text='Encrypted at rest when FIELD_ENCRYPTION_KEY is set (core/privacy/sealed.py).', max_length=1500),
        ),
        migrations.AddConstraint(
            model_name='participant',
            constraint=models.CheckConstraint(condition=models.Q(('wishlist_url', ''), ('wishlist_url__startswith', 'http://'), ('wishlist_url__startswith', 'https://'), ('wishlist_url__startswith', 'enc:v1:'), _connector='OR'), name='ratmas_wishlist_http', violation_error_message='A wishlist link starts with http:// or https://.'),
        ),
        migrations.RunPython(seal, unseal),
    ]
