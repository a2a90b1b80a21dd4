"""Every ``/ark`` command, autocomplete and button family through ``manage.py runbot`` (one
process for this module) with real gateway payloads: answers read back from the fake REST API,
state from the database; officer commands refused to a plain member's payload (issue #10)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.bot.conftest import People
from tests.fakes.discord_api import AUTOCOMPLETE_RESULT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DENIED = "Only Ark officers can do that."


@pytest.fixture
def matches():
    """A match opening for check-in now (starts in 6 h, signups still open for 1 h), one that
    started 2 hours ago (for its result) and one in 2030 (to amend and cancel)."""
    from ark.models import Match

    alliance = factories.bot_ark_alliance({1: People.alice, 11: People.alice, 2: People.bob}, player_cap=1, sub_cap=2)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    soon = Match.objects.create(alliance=alliance, ark_weekend_date=dt.date(2029, 3, 3), match_day="Sat",
                                match_time_utc=now + dt.timedelta(hours=6),
                                signup_close_utc=now + dt.timedelta(hours=1))
    played = Match.objects.create(alliance=alliance, ark_weekend_date=dt.date(2029, 3, 10), match_day="Sat",
                                  match_time_utc=now - dt.timedelta(hours=2),
                                  signup_close_utc=now - dt.timedelta(hours=3), status="Locked")
    later = factories.ark_match(alliance)
    return soon, played, later


def active(match) -> dict[int, str]:
    from ark.models import Signup

    return dict(Signup.objects.filter(match=match, status="Active").values_list("governor__governor_id", "slot"))


def test_member_commands_buttons_and_autocompletes(bot, matches):
    from ark import services
    from ark.models import Signup

    gw = bot.gateway
    soon, _, later = matches
    # match_id autocomplete on every command that has it: the match whose number was typed
    for_soon = (gw.slash("ark withdraw", {"match_id": str(soon.pk)}, member=People.alice, focused="match_id"),
                gw.slash("ark checkin", {"match_id": str(soon.pk)}, member=People.alice, focused="match_id"),
                gw.slash("ark switch", {"match_id": str(soon.pk)}, member=People.alice, focused="match_id"),
                gw.slash("ark roster", {"match_id": str(soon.pk)}, member=People.alice, focused="match_id"),
                gw.slash("ark amend_match", {"match_id": str(soon.pk)}, member=People.officer, focused="match_id"),
                gw.slash("ark cancel_match", {"match_id": str(soon.pk)}, member=People.officer, focused="match_id"),
                gw.slash("ark set_result", {"match_id": str(soon.pk)}, member=People.officer, focused="match_id"))
    for payload in for_soon:
        result = bot.ask(payload)
        assert result.callback.type == AUTOCOMPLETE_RESULT, result
        assert soon.pk in [c["value"] for c in result.callback.data["choices"]], result.callback.data

    # Alice (two governors): a button cannot guess which one, the command names it
    result = bot.ask(gw.button(f"ark:join_player:{soon.pk}", member=People.alice))
    assert result.ephemeral and result.text.startswith("You have several governors"), result
    bot.ask(gw.slash("ark signup", {"match_id": soon.pk, "governor_id": 1, "slot": "Player"}, member=People.alice))
    assert active(soon) == {1: "Player"}
    # Bob (one governor) through the registration message's buttons and /ark withdraw
    result = bot.ask(gw.button(f"ark:join_player:{soon.pk}", member=People.bob))
    assert result.ephemeral and result.text == "All 1 player slots are taken: join as Sub.", result
    result = bot.ask(gw.button(f"ark:join_sub:{soon.pk}", member=People.bob))
    assert result.ephemeral and result.text == f"Gov2 is signed up as **Sub** for {soon}.", result
    assert active(soon) == {1: "Player", 2: "Sub"}
    result = bot.ask(gw.button(f"ark:leave:{soon.pk}", member=People.bob))
    assert result.text == f"Gov2 left {soon}.", result
    assert active(soon) == {1: "Player"}
    bot.ask(gw.button(f"ark:join_sub:{soon.pk}", member=People.bob))
    result = bot.ask(gw.slash("ark withdraw", {"match_id": soon.pk}, member=People.bob))
    assert result.text == f"Gov2 left {soon}.", result
    assert active(soon) == {1: "Player"}
    bot.ask(gw.button(f"ark:join_sub:{soon.pk}", member=People.bob))
    assert active(soon) == {1: "Player", 2: "Sub"}
    result = bot.ask(gw.button(f"ark:withdraw:{soon.pk}", member=People.bob))  # first: are you sure?
    assert result.ephemeral and "Press the button to confirm" in result.text, result
    assert active(soon) == {1: "Player", 2: "Sub"}
    result = bot.ask(gw.button(f"ark:withdraw_confirm:{soon.pk}", member=People.bob))
    assert result.text == f"Gov2 left {soon}.", result
    assert active(soon) == {1: "Player"}
    result = bot.ask(gw.slash("ark switch", {"match_id": soon.pk, "new_governor_id": 11}, member=People.alice))
    assert result.text == "Switched: Gov11 keeps the Player slot.", result
    assert active(soon) == {11: "Player"}
    result = bot.ask(gw.button(f"ark:switch:{soon.pk}", member=People.alice))  # back to the other one
    assert result.text == "Switched: Gov1 keeps the Player slot.", result
    assert active(soon) == {1: "Player"}
    # check-in (its window is open): the command for Alice, the button for Bob who is not signed up
    result = bot.ask(gw.slash("ark checkin", {"match_id": soon.pk}, member=People.alice))
    assert result.text == "Checked in: Gov1.", result
    assert Signup.objects.get(match=soon, status="Active").checked_in_at is not None
    result = bot.ask(gw.button(f"ark:checkin:{soon.pk}", member=People.bob))
    assert result.ephemeral and result.text == "You have no active signup in this match.", result
    result = bot.ask(gw.slash("ark roster", {"match_id": soon.pk}, member=People.bob))
    assert result.ephemeral and "**Players (1)**: Gov1 ✅" in result.text and "**Subs (0)**: —" in result.text, result
    result = bot.ask(gw.slash("ark governor list", member=People.alice))
    assert set(result.text.splitlines()) == {"• Gov1 (1)", "• Gov11 (11)"}, result
    result = bot.ask(gw.slash("ark prefs", member=People.alice))
    assert result.text.startswith("You get every reminder DM:"), result
    assert services.get_reminder_prefs(People.alice.id) is None
    result = bot.ask(gw.slash("ark prefs", {"dm_enabled": False}, member=People.alice))
    assert result.text.startswith("Reminder DMs are off."), result
    assert services.get_reminder_prefs(People.alice.id).dm_enabled is False


def test_officer_commands_are_refused_to_members_and_done_for_officers(bot, matches):
    from ark import services
    from ark.models import Ban, Governor, Match, Signup

    gw = bot.gateway
    soon, played, later = matches
    asks = {
        "ark amend_match": {"match_id": later.pk, "notes": "bring shields"},
        "ark set_result": {"match_id": played.pk, "result": "Win", "notes": "close one"},
        "ark ban_add": {"reason": "no-show", "member": People.bob, "weekends": 2},
        "ark ban_revoke": {"ban_id": 1},
        "ark cancel_match": {"match_id": later.pk, "reason": "server merge"},
    }
    # a plain member's payload (no role, no Manage Server) is refused and changes nothing
    refusals = [bot.ask(gw.slash("ark amend_match", asks["ark amend_match"], member=People.alice)),
                bot.ask(gw.slash("ark set_result", asks["ark set_result"], member=People.alice)),
                bot.ask(gw.slash("ark ban_add", asks["ark ban_add"], member=People.bob)),
                bot.ask(gw.slash("ark ban_revoke", asks["ark ban_revoke"], member=People.alice)),
                bot.ask(gw.slash("ark cancel_match", asks["ark cancel_match"], member=People.moderator))]
    assert [(r.text, r.ephemeral) for r in refusals] == [(DENIED, True)] * 5
    assert Match.objects.get(pk=later.pk).notes == "" and Match.objects.get(pk=played.pk).result == ""
    assert not Ban.objects.exists() and Match.objects.get(pk=later.pk).status == "Scheduled"

    # the Ark officer role (no permission bit) and Manage Server may
    result = bot.ask(gw.slash("ark amend_match", asks["ark amend_match"], member=People.ark_officer))
    assert result.text.startswith(f"Amended {Match.objects.get(pk=later.pk)}: <t:"), result
    assert Match.objects.get(pk=later.pk).notes == "bring shields"
    result = bot.ask(gw.slash("ark set_result", asks["ark set_result"], member=People.officer))
    assert result.text.startswith("Recorded **Win** for"), result
    assert Match.objects.get(pk=played.pk).result == "Win"
    result = bot.ask(gw.slash("ark ban_add", asks["ark ban_add"], member=People.ark_officer))
    ban = Ban.objects.get()
    assert result.text.startswith(f"Ban #{ban.pk}:"), result
    assert ban.discord_user_id == People.bob.id and ban.reason == "no-show"
    result = bot.ask(gw.slash("ark ban_list", member=People.ark_officer))
    assert result.text.startswith(f"#{ban.pk} ") and "no-show" in result.text, result
    result = bot.ask(gw.slash("ark ban_revoke", {"ban_id": ban.pk}, member=People.officer))
    assert result.text.startswith("Revoked:"), result
    assert services.list_bans() == []
    result = bot.ask(gw.slash("ark cancel_match", asks["ark cancel_match"], member=People.ark_officer))
    assert result.text.startswith("Cancelled") and "get a DM" in result.text, result
    assert Match.objects.get(pk=later.pk).status == "Cancelled"
    # attendance: refused to a member; an officer's answer names what is wrong with the request
    attendance = {"match_id": played.pk, "governor_id": 1, "status": "no_show"}
    result = bot.ask(gw.slash("ark attendance", attendance, member=People.alice))
    assert (result.text, result.ephemeral) == (DENIED, True)
    result = bot.ask(gw.slash("ark attendance", {"match_id": str(soon.pk)}, member=People.officer,
                              focused="match_id"))
    assert soon.pk in [c["value"] for c in result.callback.data["choices"]], result
    result = bot.ask(gw.slash("ark attendance", attendance, member=People.officer))
    assert result.ephemeral and result.text == f"Governor 1 was not signed up for match #{played.pk}.", result
    bobs = Signup.objects.create(match=played, governor=Governor.objects.get(governor_id=2),
                                 discord_user_id=People.bob.id, ark_weekend_date=played.ark_weekend_date, slot="Player")
    result = bot.ask(gw.slash("ark attendance", {**attendance, "governor_id": 2}, member=People.ark_officer))
    assert result.text.startswith(f"Gov2: **No-show** in {played}. Record: 0 played, 1 no-show"), result
    assert Signup.objects.get(pk=bobs.pk).attendance == "no_show"
    # a domain error from an allowed officer is shown, ephemerally
    result = bot.ask(gw.slash("ark cancel_match", {"match_id": later.pk}, member=People.officer))
    assert result.ephemeral and result.text == "This match is already cancelled.", result
    assert soon.pk != later.pk
