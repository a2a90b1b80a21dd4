"""Languages end to end, through ``manage.py runbot`` and the fake gateway (issue #27): an
ephemeral answer in the member's Discord language (``interaction.locale``), a public Ark post
in the server language officers chose (French here) whoever triggered it, and a DM in the
language the member was last seen with (``pt-BR``), kept in the member directory."""

from __future__ import annotations

import time

import pytest
from django.utils import translation

from tests import factories
from tests.bot.conftest import People

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def speaking(payload: dict, locale: str) -> dict:
    """The same interaction from a Discord client set to ``locale``."""
    return {**payload, "locale": locale}


@pytest.fixture
def french_server():
    from core import services

    services.set_server_language("fr", actor="test")
    return "fr"


def test_a_german_member_gets_german_answers_and_an_english_one_english(bot):
    gw = bot.gateway
    result = bot.ask(speaking(gw.slash("ark governor list", member=People.alice), "de"))
    assert result.ephemeral and result.text == "Noch kein Statthalter eingetragen.", result
    result = bot.ask(gw.slash("ark governor list", member=People.alice))  # en-US
    assert result.text == "No governor registered yet.", result
    # discord.py's own refusals and the router's answers speak the member's language too
    result = bot.ask(speaking(gw.button("poll:vote:1", member=People.alice), "es-ES"))
    assert result.text == "Este botón ya no es válido. Usa el mensaje más reciente o el comando de barra.", result
    result = bot.ask(speaking(gw.slash("bytes balance", user=People.alice), "fr"))
    assert result.text == "Cette commande ne fonctionne que sur un serveur, pas en messages privés.", result


def test_the_public_ark_post_stays_in_the_server_language(bot, french_server):
    from ark import services
    from ark.models import Match
    from bot.models import OutboxMessage

    alliance = factories.bot_ark_alliance({1: People.alice, 2: People.bob})
    services.save_calendar(alliance=alliance, slots=["Sat 12:00"])
    # the officer's client is German: their own answer is German, the public post French
    command = bot.gateway.slash("ark create_match", {"alliance": "Osiris Guard", "weekend": "2030-03-16",
                                                     "slot": "Sat 12:00"}, member=People.officer)
    result = bot.ask(speaking(command, "de"))
    assert result.ephemeral and "erstellt" in result.text and "Anmeldenachricht" in result.text, result
    match = Match.objects.get()
    post = OutboxMessage.objects.get(topic="ark.registration", kind="channel_message")
    assert post.language == "fr"
    embed = post.payload["embeds"][0]
    assert embed["title"] == "Arche d'Osiris — Osiris Guard"
    assert embed["fields"][0]["name"].startswith("Joueurs (0/")
    labels = [b["label"] for b in post.payload["components"][0]["components"]]
    assert labels == ["Rejoindre comme joueur", "Rejoindre comme remplaçant", "Quitter", "Changer de gouverneur"]
    # a member whose client is Brazilian signs up: their answer in Portuguese, the post stays French
    result = bot.ask(speaking(bot.gateway.button(f"ark:join_player:{match.pk}", member=People.bob), "pt-BR"))
    with translation.override("pt-br"):  # the match's name in the member's words too ("Arca … Sábado …")
        expected = f"Gov2 está inscrito como **Jogador** para {match}."
    assert result.ephemeral and result.text == expected, result
    post.refresh_from_db()
    embed = post.payload["embeds"][0]
    assert embed["fields"][0]["name"].startswith("Joueurs (1/") and "Gov2" in embed["fields"][0]["value"]
    assert embed["title"] == "Arche d'Osiris — Osiris Guard" and post.language == "fr"


def test_a_dm_follows_the_language_the_member_was_last_seen_with(bot):
    from bot.models import OutboxMessage
    from guildsync.models import DiscordUser

    gw = bot.gateway
    bot.ask(speaking(gw.slash("ark governor list", member=People.bob), "pt-BR"))  # Bob's client is Brazilian
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not DiscordUser.objects.filter(discord_id=People.bob.id,
                                                                          locale="pt-BR").exists():
        time.sleep(0.05)
    assert DiscordUser.objects.get(discord_id=People.bob.id).locale == "pt-BR"
    # a moderator whose client is French warns Bob: the moderator reads French, Bob's DM is Portuguese
    result = bot.ask(speaking(gw.slash("warn", {"member": People.bob, "reason": "spam"}, member=People.moderator),
                              "fr"))
    assert result.ephemeral and result.text.startswith("Dossier `") and " : avertissement <@" in result.text, result
    dm = OutboxMessage.objects.get(kind="dm", user_id=People.bob.id, topic="economy.moderation_dm")
    assert dm.payload["content"] == "Você recebeu uma advertência. Motivo: spam"
    assert dm.language == "pt-br"
