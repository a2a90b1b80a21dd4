"""Every ``/ratmas`` subcommand through ``manage.py runbot`` (one process for this module) with
real gateway payloads, a whole event's life from signups to the draw, the anonymous messages
and its completion, then a second event synced from a role the bot knows from GUILD_CREATE and cancelled;
organiser commands refused to a member's payload (issue #10)."""

from __future__ import annotations

import pytest

from tests.bot.conftest import MOD_ROLE, People
from tests.fakes.discord_gateway import RoleRef

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DATES = {"signup_deadline": "2030-12-01 20:00", "purchase_deadline": "2030-12-15 20:00",
         "reveal_date": "2030-12-24 18:00"}
NOT_ORGANISER = "Only Ratmas organisers (the managing role or Manage Server) can do that."


def test_an_event_from_signups_to_the_draw_to_its_end(bot, settings):
    from bot.delivery import deliver_due
    from ratmas.models import Event, Exclusion, Pairing, Participant, RelayMessage

    gw = bot.gateway

    def members() -> set[int]:
        return set(Participant.objects.values_list("user_id", flat=True))

    result = bot.ask(gw.slash("ratmas open", DATES, member=People.officer))
    assert result.text.startswith("🎄 Ratmas created"), result
    for person in (People.alice, People.bob, People.moderator):
        assert bot.ask(gw.slash("ratmas join", member=person)).text.startswith("🎄 You're in!")
    result = bot.ask(gw.slash("ratmas leave", member=People.bob))
    assert result.text == "You have left this Ratmas." and result.ephemeral
    assert members() == {People.alice.id, People.moderator.id}
    result = bot.ask(gw.slash("ratmas leave", member=People.bob))
    assert result.text == "You are not signed up for this Ratmas.", result
    bot.ask(gw.slash("ratmas join", member=People.bob))
    result = bot.ask(gw.slash("ratmas wishlist", {"url": "https://example.org/alice"}, member=People.alice))
    assert result.text == "Wishlist set to https://example.org/alice.", result
    assert Participant.objects.get(user_id=People.alice.id).wishlist_url == "https://example.org/alice"
    result = bot.ask(gw.slash("ratmas wishlist", {"url": "javascript:alert(1)"}, member=People.alice))
    assert result.ephemeral and "http:// or https://" in result.text

    # exclusions: member refused; organiser adds and removes (member options)
    exclude = {"giver": People.alice, "receiver": People.bob}
    assert bot.ask(gw.slash("ratmas exclude", exclude, member=People.bob)).text == NOT_ORGANISER
    result = bot.ask(gw.slash("ratmas exclude", {**exclude, "both_ways": True}, member=People.officer))
    assert result.text == "Exclusion saved: Alice ↮ Bobby.", result
    assert Exclusion.objects.count() == 1
    result = bot.ask(gw.slash("ratmas exclude", {**exclude, "remove": True}, member=People.officer))
    assert result.text == "Exclusion Alice → Bobby removed.", result
    assert not Exclusion.objects.exists()

    # the draw: only once locked; a dry run stores nothing
    result = bot.ask(gw.slash("ratmas match", member=People.officer))
    assert result.text == "Cannot draw pairings: signups are still open (that needs locked signups or drawn pairings).", result
    assert bot.ask(gw.slash("ratmas lock", member=People.officer)).text.startswith("🔒 Signups locked.")
    assert Event.objects.get().status == "locked"
    assert bot.ask(gw.slash("ratmas match", member=People.alice)).text == NOT_ORGANISER
    result = bot.ask(gw.slash("ratmas match", {"dry_run": True}, member=People.officer))
    assert result.text.startswith("A valid draw exists: 3 Santas"), result
    assert not Pairing.objects.exists()
    result = bot.ask(gw.slash("ratmas match", member=People.officer))
    assert result.text.startswith("Pairings drawn: 3 Santas") and result.text.endswith("`/ratmas notify`."), result
    assert Pairing.objects.count() == 3 and Event.objects.get().status == "matched"

    # anonymous messages both ways
    result = bot.ask(gw.slash("ratmas message-recipient", {"text": "Any allergies?"}, member=People.alice))
    assert result.text == "📨 Sent anonymously to your recipient.", result
    result = bot.ask(gw.slash("ratmas message-santa", {"text": "Thank you!"}, member=People.bob))
    assert result.text == "📨 Sent to your Secret Santa.", result
    assert RelayMessage.objects.count() == 2

    # notify queues the DMs; completing needs them delivered (the outbox run, against the
    # same fake Discord the bot talks to)
    assert bot.ask(gw.slash("ratmas notify", member=People.bob)).text == NOT_ORGANISER
    result = bot.ask(gw.slash("ratmas notify", member=People.officer))
    assert result.text.startswith("🎅 Notifications: 3 DM(s) queued"), result
    result = bot.ask(gw.slash("ratmas complete", member=People.officer))
    assert result.ephemeral and result.text == "Cannot complete the event: the pairings are already drawn.", result
    settings.DISCORD_API_BASE, settings.DISCORD_TOKEN = bot.rest.base_url, bot.rest.token
    report = deliver_due()
    assert report.sent >= 3, report
    assert Event.objects.get().status == "notified"
    assert bot.ask(gw.slash("ratmas complete", member=People.alice)).text == NOT_ORGANISER
    result = bot.ask(gw.slash("ratmas complete", member=People.officer))
    assert result.text == "🎁 Ratmas completed.", result
    assert Event.objects.get().status == "completed"


def test_participants_synced_from_the_participant_role(bot):
    from ratmas.models import Event, Participant

    gw = bot.gateway
    # Moderators (only People.moderator holds it) are the participants; Bob joined by hand
    result = bot.ask(gw.slash("ratmas open", {**DATES, "participant_role": RoleRef(MOD_ROLE)}, member=People.officer))
    assert result.text.startswith("🎄 Ratmas created"), result
    assert Event.objects.get().participant_role_id == MOD_ROLE
    bot.ask(gw.slash("ratmas join", member=People.bob))
    assert bot.ask(gw.slash("ratmas sync", member=People.bob)).text == NOT_ORGANISER
    assert list(Participant.objects.values_list("user_id", flat=True)) == [People.bob.id]
    result = bot.ask(gw.slash("ratmas sync", member=People.officer))
    assert result.text.startswith("Synced with @Moderators: 1 added, 1 removed"), result
    assert "Added: moderator" in result.text and "Removed: Bobby" in result.text
    assert list(Participant.objects.values_list("user_id", flat=True)) == [People.moderator.id]
    assert bot.ask(gw.slash("ratmas cancel", member=People.bob)).text == NOT_ORGANISER
    result = bot.ask(gw.slash("ratmas cancel", member=People.officer))
    assert result.text == "❌ Ratmas cancelled.", result
    assert Event.objects.get().status == "cancelled"
