"""Encryption at rest (issue 25, build item 7; core/privacy/sealed.py): Santa relay texts, wishlists and
the payloads of secret outbox DMs are stored encrypted when FIELD_ENCRYPTION_KEY is set.

The raw columns are read with a plain SQL cursor (no ORM field in between): they hold no
plaintext. The services, the relay, the DM delivery and export_member still read the texts;
forget still erases them; a row written before the migration is encrypted by it; without a key
the texts are stored plainly, as docs/PRIVACY.md says.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bot.models import OutboxMessage
from bot.outbox import payload_of
from core.privacy import export_member, forget_member, sealed
from ratmas import services
from ratmas.models import Pairing, Participant, RelayMessage
from tests.factories import ratmas_event
from tests.factories import ratmas_uid as uid

pytestmark = pytest.mark.django_db
KEY = "test-field-encryption-key-0123456789abcdef"
WISH = "https://wish.example/secret-list-of-player-1"
WORDS = "I found the perfect dragon plushie for you"


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT CAST("{column}" AS TEXT) FROM "{table}" WHERE id = %s', [pk])  # noqa: S608
        return cursor.fetchone()[0]


def raw_texts() -> str:
    """Every sealed column of every row, as the database stores it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(string_agg(wishlist_url, ' '), '') FROM ratmas_participant")
        out = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(string_agg(text, ' '), '') FROM ratmas_relaymessage")
        out += cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(string_agg(CAST(payload AS TEXT), ' '), '') FROM bot_outboxmessage "
                       "WHERE secret")
        return out + cursor.fetchone()[0]


@pytest.fixture
def key(settings):
    settings.FIELD_ENCRYPTION_KEY = KEY
    return KEY


@pytest.fixture
def no_key(settings):
    settings.FIELD_ENCRYPTION_KEY = ""


@pytest.fixture
def santas(db):
    """Three Santas, drawn and told; player 1 has a wishlist and wrote to their recipient."""
    event = ratmas_event(3, status="matched")
    services.update_wishlist(event, uid(1), WISH)
    services.notify_santas(event)
    services.message_recipient(event, uid(1), WORDS)
    return event


def test_the_database_holds_no_plaintext_and_the_services_read_it(key, santas, fake_discord, deliver_outbox):
    me = Participant.objects.get(event=santas, user_id=uid(1))
    relay = RelayMessage.objects.get(event=santas)
    assert raw("ratmas_participant", "wishlist_url", me.pk).startswith(sealed.PREFIX)
    assert raw("ratmas_relaymessage", "text", relay.pk).startswith(sealed.PREFIX)
    stored = raw_texts()
    for plain in (WISH, WORDS, "dragon", "Your recipient", "Player "):
        assert plain not in stored, plain
    santa_dm = OutboxMessage.objects.get(topic=services.TOPIC_SANTA_DM, user_id=Pairing.objects.get(
        event=santas, recipient=me).santa.user_id)
    assert set(santa_dm.payload) == {"sealed"}
    # the services read the text back
    assert me.wishlist_url == WISH and relay.text == WORDS
    assert f"wishlist: {WISH}" in services.describe_event(santas, uid(1))
    # the delivery sends the decrypted bodies: the Santa DM with the wishlist, the relayed words
    deliver_outbox()
    recipient = relay.pairing.recipient.user_id
    assert any(WORDS in dm.get("content", "") for dm in fake_discord.dms_to(recipient))
    assert any(WISH in dm.get("content", "") for dm in fake_discord.dms_to(santa_dm.user_id))
    assert OutboxMessage.objects.filter(secret=True).exclude(status="sent").count() == 0
    # export_member reads them too
    exported = json.dumps(export_member(uid(1)))
    assert WISH in exported and WORDS in exported


def test_forget_still_erases_encrypted_texts(key, santas):
    report = forget_member(uid(1), actor="officer:test")
    assert report["apps"]["ratmas"]["erased"]["relay_messages"] == 1
    assert not RelayMessage.objects.filter(event=santas).exists()
    assert not Participant.objects.filter(user_id=uid(1)).exists()
    # secret DMs that named the forgotten member (the Santa DM names its recipient) are redacted
    # although encrypted, and stay encrypted
    rows = list(OutboxMessage.objects.filter(secret=True))
    assert rows and all(set(row.payload) == {"sealed"} for row in rows)
    assert any("a forgotten member" in json.dumps(payload_of(row)) for row in rows)
    for row in rows:
        assert "Player 1" not in json.dumps(payload_of(row)), row.topic


def test_without_a_key_the_texts_are_stored_plainly(no_key, santas):
    me = Participant.objects.get(event=santas, user_id=uid(1))
    assert raw("ratmas_participant", "wishlist_url", me.pk) == WISH
    assert WORDS in raw_texts()
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEY is not set"):
        call_command("privacy_seal")


def test_setting_a_key_later_seals_what_was_written_before(no_key, santas, settings, capsys):
    assert WISH in raw_texts()
    settings.FIELD_ENCRYPTION_KEY = KEY
    call_command("privacy_seal")
    assert "ratmas.RelayMessage.text: 1 row(s) encrypted" in capsys.readouterr().out
    stored = raw_texts()
    assert WISH not in stored and WORDS not in stored and "Your recipient" not in stored
    assert RelayMessage.objects.get(event=santas).text == WORDS
    call_command("privacy_seal")  # again: nothing left to do
    assert "ratmas.RelayMessage.text: 0 row(s) encrypted" in capsys.readouterr().out
    call_command("privacy_seal", "--reverse")  # before removing the key
    assert WISH in raw_texts() and WORDS in raw_texts()


def test_a_lost_key_reads_as_unreadable_and_a_save_keeps_the_token(settings, key, santas):
    me = Participant.objects.get(event=santas, user_id=uid(1))
    token = raw("ratmas_participant", "wishlist_url", me.pk)
    settings.FIELD_ENCRYPTION_KEY = "another key entirely"
    again = Participant.objects.get(pk=me.pk)
    assert again.wishlist_url == sealed.UNREADABLE
    again.save()
    assert raw("ratmas_participant", "wishlist_url", me.pk) == token
    # a rotation keeps it readable: the old key as FIELD_ENCRYPTION_KEY_PREVIOUS
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = [KEY]
    assert Participant.objects.get(pk=me.pk).wishlist_url == WISH


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_rows_written_before_it(settings):
    settings.FIELD_ENCRYPTION_KEY = KEY
    executor = MigrationExecutor(connection)
    before = [("ratmas", "0004_event_name_exclusion_pairs")]
    executor.migrate(before)
    bot_leaf = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "bot"]
    old = executor.loader.project_state(before + bot_leaf).apps
    event = old.get_model("ratmas", "Event").objects.create(
        guild_id=1, signup_deadline="2026-12-01T00:00Z", purchase_deadline="2026-12-10T00:00Z",
        reveal_date="2026-12-24T00:00Z", status="matched")
    people = [old.get_model("ratmas", "Participant").objects.create(
        event=event, user_id=100 + i, display_name=f"Old {i}", wishlist_url=WISH if i == 0 else "") for i in range(2)]
    pairing = old.get_model("ratmas", "Pairing").objects.create(event=event, santa=people[0], recipient=people[1])
    relay = old.get_model("ratmas", "RelayMessage").objects.create(event=event, pairing=pairing,
                                                                    direction="to_recipient", text=WORDS)
    dm = old.get_model("bot", "OutboxMessage").objects.create(
        kind="dm", user_id=100, payload={"content": f"Your recipient: Old 1, wishlist {WISH}"}, secret=True,
        next_attempt_at="2026-12-01T00:00Z")
    assert WISH in raw_texts()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert raw("ratmas_relaymessage", "text", relay.pk).startswith(sealed.PREFIX)
    assert raw("ratmas_participant", "wishlist_url", people[0].pk).startswith(sealed.PREFIX)
    assert raw("ratmas_participant", "wishlist_url", people[1].pk) == ""
    assert WISH not in raw_texts() and WORDS not in raw_texts()
    assert RelayMessage.objects.get(pk=relay.pk).text == WORDS
    assert payload_of(OutboxMessage.objects.get(pk=dm.pk))["content"].endswith(WISH)

    # reversible: back to 0004 decrypts them (the key still set)
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert raw("ratmas_relaymessage", "text", relay.pk) == WORDS
    assert WISH in raw_texts()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_outbox_admin_shows_a_sealed_dm_decrypted_only_with_the_pairings_permission(key, santas,
                                                                                      django_user_model):
    from tests.bot.test_outbox_secret import outbox_viewer

    row = OutboxMessage.objects.filter(topic=services.TOPIC_SANTA_DM).first()
    assert set(row.payload) == {"sealed"}
    url = f"/admin/bot/outboxmessage/{row.pk}/change/"
    allowed = outbox_viewer(django_user_model, secrets=True).get(url).content.decode()
    assert "Your recipient" in allowed and sealed.PREFIX not in allowed
    blind = outbox_viewer(django_user_model, secrets=False).get(url).content.decode()
    assert "Your recipient" not in blind and "(secret: only people allowed" in blind


def test_a_dm_whose_key_is_lost_fails_clearly_instead_of_sending_a_placeholder(key, santas, settings, fake_discord,
                                                                               deliver_outbox):
    settings.FIELD_ENCRYPTION_KEY = "a different key: the old one was lost"
    deliver_outbox()
    secret = OutboxMessage.objects.filter(secret=True)
    assert secret.exists() and set(secret.values_list("status", flat=True)) == {"failed"}
    assert all("FIELD_ENCRYPTION_KEY" in row.last_error for row in secret)
    for user in range(1, 4):
        assert not any(sealed.UNREADABLE in dm.get("content", "") for dm in fake_discord.dms_to(uid(user)))
