"""Signup rules, each DAL function on the roster, and the audit row of each change."""

from __future__ import annotations

import datetime as dt

import pytest

from ark import services
from ark.models import AuditLog, Signup
from bot.models import OutboxMessage
from tests.ark.conftest import CLOSE, NOW, OFFICER, START, WEEKEND, sign, user

pytestmark = pytest.mark.django_db


def roster(match):
    return [(s.governor.governor_id, s.slot) for s in services.get_roster(match.pk)]


def test_players_fill_first_then_subs_then_refused(match, governors):
    for n in (1, 2, 3):
        assert sign(match, n).slot == "Player"
    with pytest.raises(services.RosterFullError, match="join as Sub"):
        sign(match, 4, slot_type="Player")
    assert sign(match, 4).slot == "Sub"
    assert sign(match, 5, slot_type="Sub").slot == "Sub"
    with pytest.raises(services.RosterFullError, match="roster is full"):
        sign(match, 6)
    assert roster(match) == [(1, "Player"), (2, "Player"), (3, "Player"), (4, "Sub"), (5, "Sub")]
    assert AuditLog.objects.filter(action="signup_added").count() == 5


def test_sub_only_when_players_full_unless_officer(match, governors):
    with pytest.raises(services.ArkError, match="Player slots are still open"):
        sign(match, 1, slot_type="Sub")
    signup = sign(match, 1, slot_type="Sub", as_officer=True)
    assert (signup.slot, signup.source) == ("Sub", "admin")
    assert AuditLog.objects.get(action="signup_added").is_override


def test_unknown_governor_needs_registration_or_a_name(match, db):
    with pytest.raises(services.NotFoundError, match="governor register"):
        services.add_signup(match_id=match.pk, governor_id=555, discord_user_id=user(55), now=NOW)
    signup = services.add_signup(
        match_id=match.pk, governor_id=555, governor_name="Newbie", discord_user_id=user(55), now=NOW
    )
    assert signup.governor.name == "Newbie" and signup.governor.discord_user_id == user(55)


def test_governor_of_another_user_is_refused(match, governors):
    with pytest.raises(services.NotAllowedError, match="another Discord user"):
        services.add_signup(match_id=match.pk, governor_id=2, discord_user_id=user(3), now=NOW)


def test_one_governor_per_weekend_across_alliances(match, make_match, other_alliance, governors):
    other = make_match(other_alliance)
    sign(match, 1)
    with pytest.raises(services.ArkError, match="already signed up for Osiris Guard's match"):
        sign(other, 1)
    with pytest.raises(services.ArkError, match="already signed up for this match"):
        sign(match, 1)
    found = services.find_active_signup_for_weekend(1, WEEKEND)
    assert found.match_id == match.pk
    assert services.find_active_signup_for_weekend(1, WEEKEND, exclude_match_id=match.pk) is None
    # after withdrawing, the other alliance may have them
    services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(1), now=NOW)
    assert sign(other, 1).match_id == other.pk


def test_database_refuses_a_second_active_signup_for_the_weekend(
    match, make_match, other_alliance, governors
):
    from django.db import IntegrityError, transaction

    other = make_match(other_alliance)
    sign(match, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signup.objects.create(
            match=other,
            governor=governors[0],
            discord_user_id=user(1),
            ark_weekend_date=WEEKEND,
            slot="Player",
        )


def test_signups_close_at_close_time_but_officers_may_still_change(match, governors):
    after = CLOSE + dt.timedelta(minutes=1)
    with pytest.raises(services.SignupClosedError, match="closed"):
        sign(match, 1, now=after)
    signup = sign(match, 1, now=after, as_officer=True)
    assert signup.source == "admin"
    with pytest.raises(services.SignupClosedError):
        services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(1), now=after)
    services.remove_signup(
        match_id=match.pk,
        governor_id=1,
        status="Removed",
        actor_discord_id=OFFICER,
        as_officer=True,
        now=after,
    )
    assert Signup.objects.get(pk=signup.pk).status == "Removed"


def test_locked_or_cancelled_match_refuses_members(match, governors):
    services.lock_match(match_id=match.pk, now=NOW)
    with pytest.raises(services.SignupClosedError):
        sign(match, 1)
    services.cancel_match(match_id=match.pk, actor_discord_id=OFFICER)
    with pytest.raises(services.SignupClosedError, match="cancelled"):
        sign(match, 1, as_officer=True)


def test_remove_signup_rules(match, governors):
    sign(match, 1)
    with pytest.raises(services.NotAllowedError, match="Only officers"):
        services.remove_signup(
            match_id=match.pk, governor_id=1, status="Removed", actor_discord_id=user(1), now=NOW
        )
    with pytest.raises(services.NotAllowedError, match="owner or an officer"):
        services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(2), now=NOW)
    with pytest.raises(services.ArkError, match="Withdrawn or Removed"):
        services.remove_signup(
            match_id=match.pk, governor_id=1, status="Active", actor_discord_id=user(1), now=NOW
        )
    s = services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(1), now=NOW)
    assert s.status == "Withdrawn" and s.ended_at == NOW
    with pytest.raises(services.NotFoundError):
        services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(1), now=NOW)


def test_leaving_player_promotes_earliest_sub(match, governors):
    for n in (1, 2, 3, 4, 5):
        sign(match, n)
    services.remove_signup(match_id=match.pk, governor_id=2, actor_discord_id=user(2), now=NOW)
    assert roster(match) == [(1, "Player"), (3, "Player"), (4, "Player"), (5, "Sub")]
    dm = OutboxMessage.objects.get(topic="ark.promoted")
    assert dm.user_id == user(4) and "Player" in dm.payload["content"]


def test_switch_governor_keeps_slot_and_position(match, governors):
    for n in (1, 2, 3, 4):
        sign(match, n)
    before = Signup.objects.get(match=match, governor__governor_id=1)
    with pytest.raises(services.NotAllowedError, match="same Discord user"):
        services.switch_signup_governor(
            match_id=match.pk, old_governor_id=1, new_governor_id=2, actor_discord_id=user(1), now=NOW
        )
    with pytest.raises(services.NotAllowedError):
        services.switch_signup_governor(
            match_id=match.pk, old_governor_id=1, new_governor_id=11, actor_discord_id=user(2), now=NOW
        )
    s = services.switch_signup_governor(
        match_id=match.pk, old_governor_id=1, new_governor_id=11, actor_discord_id=user(1), now=NOW
    )
    assert (s.pk, s.slot, s.created_at, s.governor.governor_id) == (
        before.pk,
        "Player",
        before.created_at,
        11,
    )
    assert roster(match)[0] == (11, "Player")
    assert AuditLog.objects.filter(action="signup_switched", signup=s).count() == 1


def test_switch_to_a_governor_active_elsewhere_is_refused(match, make_match, other_alliance, governors):
    other = make_match(other_alliance)
    sign(match, 1)
    sign(other, 11)
    with pytest.raises(services.ArkError, match="already signed up"):
        services.switch_signup_governor(
            match_id=match.pk, old_governor_id=1, new_governor_id=11, actor_discord_id=user(1), now=NOW
        )


def test_move_signup_slot_within_caps(match, governors):
    for n in (1, 2, 3, 4):
        sign(match, n)
    with pytest.raises(services.RosterFullError):
        services.move_signup_slot(
            match_id=match.pk, governor_id=4, slot_type="Player", actor_discord_id=OFFICER
        )
    s = services.move_signup_slot(match_id=match.pk, governor_id=1, slot_type="Sub", actor_discord_id=OFFICER)
    assert s.slot == "Sub"
    s = services.move_signup_slot(
        match_id=match.pk, governor_id=4, slot_type="player", actor_discord_id=OFFICER
    )
    assert s.slot == "Player"
    with pytest.raises(services.ArkError, match="already a Player"):
        services.move_signup_slot(
            match_id=match.pk, governor_id=4, slot_type="Player", actor_discord_id=OFFICER
        )


def test_check_in_window(match, governors):
    sign(match, 1)
    sign(match, 11)
    with pytest.raises(services.ArkError, match="Check-in opens"):
        services.mark_checked_in(
            match_id=match.pk, discord_user_id=user(1), now=START - dt.timedelta(hours=13)
        )
    at = START - dt.timedelta(hours=11)
    done = services.mark_checked_in(match_id=match.pk, discord_user_id=user(1), now=at)
    assert sorted(s.governor.governor_id for s in done) == [1, 11] and all(
        s.checked_in_at == at for s in done
    )
    with pytest.raises(services.ArkError, match="already checked in"):
        services.mark_checked_in(match_id=match.pk, discord_user_id=user(1), now=at)
    with pytest.raises(services.ArkError, match="has started"):
        services.mark_checked_in(
            match_id=match.pk, discord_user_id=user(1), now=START + dt.timedelta(seconds=1)
        )
    with pytest.raises(services.NotFoundError):
        services.mark_checked_in(match_id=match.pk, discord_user_id=user(9), now=at)


def test_emergency_withdraw_promotes_and_dms_the_sub(match, governors, deliver_outbox, fake_discord):
    for n in (1, 2, 3, 4, 5):
        sign(match, n)
    services.lock_match(match_id=match.pk, now=CLOSE)
    at = START - dt.timedelta(hours=2)
    s = services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(2), now=at)
    assert s.status == "Withdrawn"
    assert roster(match) == [(1, "Player"), (3, "Player"), (4, "Player"), (5, "Sub")]
    audit = AuditLog.objects.get(action="emergency_withdraw")
    assert audit.details["promoted_governor"] == 4 and audit.actor_discord_id == user(2)
    deliver_outbox()
    [dm] = fake_discord.dms_to(user(4))
    assert (
        "moved up from Sub to **Player**" in dm["content"]
        and f"<t:{int(START.timestamp())}:F>" in dm["content"]
    )
    # a Sub leaving promotes nobody
    services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(5), now=at)
    assert OutboxMessage.objects.filter(topic="ark.promoted").count() == 1
    with pytest.raises(services.ArkError, match="has started"):
        services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(1), now=START)


def test_emergency_withdraw_with_two_governors_needs_a_choice(match, governors):
    sign(match, 1)
    sign(match, 11)
    with pytest.raises(services.ArkError, match="several governors"):
        services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(1), now=NOW)
    s = services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(1), governor_id=11, now=NOW)
    assert s.governor.governor_id == 11
    with pytest.raises(services.NotAllowedError):
        services.mark_emergency_withdraw(match_id=match.pk, discord_user_id=user(2), governor_id=1, now=NOW)


def test_bans_refuse_and_officer_override_is_audited(match, governors):
    ban = services.add_ban(
        discord_user_id=user(1), reason="no-show twice", weekends=2, actor_discord_id=OFFICER, now=NOW
    )
    assert ban.starts_weekend == WEEKEND
    with pytest.raises(services.BannedError, match="no-show twice"):
        sign(match, 1)
    with pytest.raises(services.BannedError, match="ban override"):
        sign(match, 1, as_officer=True)
    s = sign(match, 1, as_officer=True, override_ban=True)
    row = AuditLog.objects.get(action="signup_added", signup=s)
    assert row.is_override and row.details["ban_overridden"] == ban.pk


def test_governor_ban_blocks_that_governor_only(match, governors):
    services.add_ban(governor_id=11, reason="farm account", until_date=WEEKEND, now=NOW)
    sign(match, 1)
    services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=user(1), now=NOW)
    with pytest.raises(services.BannedError):
        sign(match, 11)


def test_match_not_found(db):
    with pytest.raises(services.NotFoundError, match="#424242"):
        services.add_signup(match_id=424242, governor_id=1, discord_user_id=1)


def test_a_new_ban_shows_the_rosters_it_covers(match, governors, make_match, other_alliance):
    from ark import discord_commands as dc

    sign(match, 1)
    sign(match, 2)
    ban = services.add_ban(discord_user_id=user(1), reason="afk", until_date=WEEKEND, now=NOW)
    assert [s.governor.governor_id for s in services.signups_covered_by(ban)] == [1]
    gban = services.add_ban(governor_id=2, reason="alt", until_date=WEEKEND, now=NOW)
    assert [s.governor.governor_id for s in services.signups_covered_by(gban)] == [2]
    later = services.add_ban(discord_user_id=user(1), reason="x", until_date=WEEKEND + dt.timedelta(days=14),
                             now=NOW + dt.timedelta(days=7))
    assert services.signups_covered_by(later) == []  # starts the weekend after
    text = dc.do_ban_add(OFFICER, "toxic", member_id=user(2), until=str(WEEKEND))
    assert "Still signed up: Gov2 in Ark 2030-03-09 Saturday 12:00 UTC, Osiris Guard" in text
    assert Signup.objects.filter(status="Active").count() == 2  # nobody pulled out silently


def test_withdraw_is_plain_while_open_and_an_emergency_once_closed(match, governors):
    for n in (1, 2, 3, 4, 5):
        sign(match, n)
    plain = services.withdraw(match_id=match.pk, discord_user_id=user(2), now=NOW)
    assert plain.status == "Withdrawn" and not AuditLog.objects.filter(action="emergency_withdraw").exists()
    # At the close itself the same press is an emergency withdraw (one clock, under the lock).
    late = services.withdraw(match_id=match.pk, discord_user_id=user(3), now=CLOSE)
    assert late.status == "Withdrawn" and AuditLog.objects.filter(action="emergency_withdraw").count() == 1
    with pytest.raises(services.ArkError):
        services.withdraw(match_id=match.pk, discord_user_id=user(9), now=NOW)  # never signed up


def test_reminder_prefs_changes_apply_to_what_the_member_has_now(db):
    services.change_reminder_prefs(discord_user_id=user(1), disable={"4h", "1h"})
    services.change_reminder_prefs(discord_user_id=user(1), enable={"1h"}, disable={"start"})
    prefs = services.get_reminder_prefs(user(1))
    assert sorted(prefs.disabled_types) == ["4h", "start"] and prefs.dm_enabled
    with pytest.raises(services.ArkError, match="Unknown reminder"):
        services.change_reminder_prefs(discord_user_id=user(1), disable={"someday"})
    with pytest.raises(services.ArkError, match="Nothing to change"):
        services.change_reminder_prefs(discord_user_id=user(1))


@pytest.mark.django_db(transaction=True)
def test_two_reminder_prefs_changes_at_once_both_hold(run_in_parallel):
    services.upsert_reminder_prefs(discord_user_id=user(1), disabled_types=[])
    changes = [{"disable": {"4h"}}, {"disable": {"1h"}}, {"disable": {"start"}}, {"dm_enabled": False}]
    results = run_in_parallel(lambda i: services.change_reminder_prefs(discord_user_id=user(1), **changes[i]), 4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    prefs = services.get_reminder_prefs(user(1))
    assert sorted(prefs.disabled_types) == ["1h", "4h", "start"] and prefs.dm_enabled is False
