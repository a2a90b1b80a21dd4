"""``/privacy info|export|forget`` through ``manage.py runbot`` and the fake gateway: every
answer private, the export a JSON file attached to the answer, forgetting only after the
member's own press of the confirmation button, with a receipt (issue 25)."""

from __future__ import annotations

import json

import pytest

from tests.bot.conftest import People
from tests.factories import ECONOMY_GUILD, bytes_config

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_info_export_and_forget(bot, settings):
    from core.models import PrivacyRequest
    from economy import services as economy
    from economy.models import BytesBalance, BytesTransaction

    gw, rest = bot.gateway, bot.rest
    alice, bob = People.alice, People.bob
    bytes_config(starting_balance=100, transfer_cooldown_hours=0)
    economy.transfer(ECONOMY_GUILD, alice.id, "alice", bob.id, "bob", 7, "pizza for Alice's birthday")

    info = bot.ask(gw.slash("privacy info", member=alice))
    assert info.ephemeral and info.text.startswith("🔒 **Your data in Guild Ops**"), info
    assert "30 days" in info.text and "/privacy forget" in info.text

    export = bot.ask(gw.slash("privacy export", member=alice))
    assert export.ephemeral and export.text.startswith("📦 Everything Guild Ops stores about you"), export
    [upload] = [c for c in rest.calls("PATCH", r"/webhooks/\d+/.+/messages/@original") if c.files]
    [(name, body)] = upload.files.items()
    data = json.loads(body)
    assert name == "guildops-my-data.json" and data["discord_user_id"] == str(alice.id)
    assert data["apps"]["economy"]["transactions"][0]["reason"] == "pizza for Alice's birthday"
    assert PrivacyRequest.objects.get().kind == "export"

    ask = bot.ask(gw.slash("privacy forget", member=alice))
    assert ask.ephemeral and ask.text.startswith("⚠️ **Forget me**"), ask
    # the button, in the answer (or in the edit of a deferred one)
    [row] = next(a.data.get("data", a.data).get("components") for a in ask.answers
                 if a.data.get("data", a.data).get("components"))
    custom_id = row["components"][0]["custom_id"]
    assert custom_id == f"privacy:forget:{alice.id}"
    # somebody else's press does nothing
    refused = bot.ask(gw.button(f"privacy:forget:{alice.id}", member=bob))
    assert refused.ephemeral and "belongs to the member who asked" in refused.text
    assert BytesBalance.objects.filter(user_id=alice.id).exists()

    receipt = bot.ask(gw.button(f"privacy:forget:{alice.id}", member=alice))
    assert receipt.ephemeral and receipt.text.startswith("🧾 Done."), receipt
    assert not BytesBalance.objects.filter(user_id=alice.id).exists()
    assert BytesBalance.objects.filter(user_id=bob.id).exists()
    assert BytesTransaction.objects.get().reason == ""
    forgotten = PrivacyRequest.objects.get(kind="forget")
    assert forgotten.source == "member" and forgotten.status == "done"
