"""Matches, alliances, governors, bans, prefs, results and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from ark import services
from ark.models import Alliance, AuditLog, Match
from bot.models import OutboxMessage
from tests.ark.conftest import CLOSE, NOW, OFFICER, START, WEEKEND, sign, user
from tests.factories import ark_match

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def test_list_and_get_alliances(alliance, other_alliance):
    Alliance.objects.create(name="Retired", is_active=False)
    assert [a.name for a in services.list_alliances()] == ["Nile Wolves", "Osiris Guard"]
    assert len(services.list_alliances(active_only=False)) == 3
    assert services.get_alliance("osiris guard") == alliance
    assert services.get_alliance(alliance.pk) == alliance
    assert services.get_alliance("nope") is None


@pytest.mark.parametrize("missing", ["registration_channel_id", "confirmation_channel_id"])
def test_create_match_needs_both_channels(alliance, make_match, missing):
    setattr(alliance, missing, None)
    alliance.save()
    with pytest.raises(services.ArkError, match=f"no {missing[:-3].replace('_', ' ')} set.*admin"):
        make_match()
    assert not Match.objects.exists()


def test_create_match_validates_schedule(make_match):
    with pytest.raises(services.ArkError, match="must be a Saturday"):
        make_match(weekend=WEEKEND + dt.timedelta(days=1))
    with pytest.raises(services.ArkError, match="starts on 2030-03-10"):
        make_match(day="Sun")
    with pytest.raises(services.ArkError, match="close before"):
        make_match(close=START + dt.timedelta(minutes=1))
    with pytest.raises(services.ArkError, match="already past"):
        make_match(now=CLOSE)
    sunday = make_match(day="Sun", start=START + dt.timedelta(days=1))
    assert sunday.match_day == "Sun"


def test_one_live_match_per_alliance_weekend(match, make_match):
    with pytest.raises(services.ArkError, match="already has a match"):
        make_match()
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(
            alliance=match.alliance,
            ark_weekend_date=WEEKEND,
            match_day="Sat",
            match_time_utc=START,
            signup_close_utc=CLOSE,
        )
    services.cancel_match(match_id=match.pk, actor_discord_id=OFFICER)
    again = make_match()
    assert again.pk != match.pk


def test_create_match_audits_and_queues_registration(match):
    audit = AuditLog.objects.get(action="match_created")
    assert audit.match == match and audit.actor_discord_id == OFFICER
    assert OutboxMessage.objects.filter(topic="ark.registration").count() == 1


def test_get_and_list_open_matches(match, make_match, other_alliance):
    other = make_match(other_alliance)
    assert services.get_match(match.pk) == match
    assert services.get_match(99999) is None
    assert {m.pk for m in services.list_open_matches()} == {match.pk, other.pk}
    assert [m.pk for m in services.list_open_matches("Nile Wolves")] == [other.pk]
    assert services.list_open_matches("nobody") == []
    services.cancel_match(match_id=match.pk)
    assert [m.pk for m in services.list_open_matches()] == [other.pk]


def test_amend_match(match, other_alliance, governors):
    m = services.amend_match(match_id=match.pk, notes="Bring shields", actor_discord_id=OFFICER)
    assert m.notes == "Bring shields"
    m = services.amend_match(match_id=match.pk, alliance="Nile Wolves", actor_discord_id=OFFICER)
    assert m.alliance == other_alliance
    sign(match, 1)
    with pytest.raises(services.ArkError, match="nobody has signed up"):
        services.amend_match(match_id=match.pk, alliance="Osiris Guard")
    m = services.amend_match(match_id=match.pk, match_day="Sun", match_time_utc=START + dt.timedelta(days=1))
    assert (m.match_day, m.match_time_utc) == ("Sun", START + dt.timedelta(days=1))
    with pytest.raises(services.ArkError, match="starts on"):
        services.amend_match(match_id=match.pk, match_time_utc=START + dt.timedelta(days=3))
    row = AuditLog.objects.filter(action="match_amended").first()
    assert row.details["after"]["day"] == "Sun" and row.details["notified"] == 1
    [moved] = OutboxMessage.objects.filter(topic="ark.rescheduled")
    assert moved.user_id == user(1) and f"<t:{int((START + dt.timedelta(days=1)).timestamp())}:F>" in str(
        moved.payload
    )
    with pytest.raises(services.ArkError, match="already past"):
        services.amend_match(match_id=match.pk, match_time_utc=START + dt.timedelta(hours=20), now=START + 21 * H)


def test_amend_locked_match_moves_only_the_start(match, governors):
    services.lock_match(match_id=match.pk, now=NOW)
    with pytest.raises(services.ArkError, match="only the start can still move"):
        services.amend_match(match_id=match.pk, signup_close_utc=START - 2 * H, now=NOW)
    m = services.amend_match(match_id=match.pk, match_time_utc=START + H, signup_close_utc=CLOSE, now=NOW)
    assert (m.status, m.match_time_utc, m.signup_close_utc) == ("Locked", START + H, CLOSE)


def test_cancel_match_dms_signed_up_users(match, governors, deliver_outbox, fake_discord):
    sign(match, 1)
    sign(match, 11)
    sign(match, 2)
    m = services.cancel_match(match_id=match.pk, actor_discord_id=OFFICER, reason="server merge")
    assert m.status == "Cancelled"
    deliver_outbox()
    assert (
        len(fake_discord.dms_to(user(1))) == 1 and "cancelled" in fake_discord.dms_to(user(2))[0]["content"]
    )
    with pytest.raises(services.ArkError, match="already cancelled"):
        services.cancel_match(match_id=match.pk)


def test_set_match_result(match):
    with pytest.raises(services.ArkError, match="not started"):
        services.set_match_result(match_id=match.pk, result="Win", now=NOW)
    with pytest.raises(services.ArkError, match="Win, Loss or No-show"):
        services.set_match_result(match_id=match.pk, result="Draw", now=START)
    m = services.set_match_result(
        match_id=match.pk,
        result="win",
        result_notes="GG",
        actor_discord_id=OFFICER,
        now=START + dt.timedelta(hours=2),
    )
    assert (m.status, m.result, m.result_notes) == ("Completed", "Win", "GG")
    m = services.set_match_result(match_id=match.pk, result="No-show", now=START + dt.timedelta(hours=3))
    assert m.result == "No-show"
    assert AuditLog.objects.filter(action="result_set").count() == 2


def test_completed_needs_result_in_database(match):
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.filter(pk=match.pk).update(status="Completed")


def test_governor_registry(db):
    g = services.register_governor(governor_id=77, name="Cleo", discord_user_id=user(7))
    assert services.list_governors(user(7)) == [g]
    g = services.register_governor(governor_id=77, name="Cleopatra", discord_user_id=user(7))
    assert g.name == "Cleopatra"
    with pytest.raises(services.NotAllowedError, match="another Discord user"):
        services.register_governor(governor_id=77, name="Thief", discord_user_id=user(8))
    g = services.register_governor(
        governor_id=77, name="Cleo", discord_user_id=user(8), as_officer=True, actor_discord_id=OFFICER
    )
    assert g.discord_user_id == user(8)
    with pytest.raises(services.ArkError, match="1 to 64"):
        services.register_governor(governor_id=78, name="", discord_user_id=user(8))
    assert len(services.list_governors()) == 1
    assert AuditLog.objects.filter(action__startswith="governor_").count() == 3


def test_bans_lifecycle(db):
    ban = services.add_ban(
        discord_user_id=user(1), reason="toxic", weekends=2, actor_discord_id=OFFICER, now=NOW
    )
    # two Ark weekends of the fortnightly cadence: WEEKEND and two weeks later
    assert (ban.starts_weekend, ban.ends_on) == (WEEKEND, WEEKEND + dt.timedelta(days=15))
    assert services.get_active_ban_for(discord_user_id=user(1), ark_weekend_date=WEEKEND) == ban
    assert (
        services.get_active_ban_for(discord_user_id=user(1), ark_weekend_date=WEEKEND + dt.timedelta(days=14))
        == ban
    )
    assert (
        services.get_active_ban_for(discord_user_id=user(1), ark_weekend_date=WEEKEND + dt.timedelta(days=28))
        is None
    )
    assert services.get_active_ban_for(discord_user_id=user(2), ark_weekend_date=WEEKEND) is None
    gban = services.add_ban(governor_id=42, reason="alt", until_date=dt.date(2030, 3, 20), now=NOW)
    assert (
        services.get_active_ban_for(governor_id=42, discord_user_id=user(5), ark_weekend_date=WEEKEND) == gban
    )
    assert [b.pk for b in services.list_bans(now=NOW)] == [gban.pk, ban.pk]
    services.revoke_ban(ban_id=ban.pk, actor_discord_id=OFFICER, now=NOW)
    assert services.get_active_ban_for(discord_user_id=user(1), ark_weekend_date=WEEKEND) is None
    assert [b.pk for b in services.list_bans(now=NOW)] == [gban.pk]
    assert len(services.list_bans(active_only=False)) == 2
    with pytest.raises(services.ArkError, match="already revoked"):
        services.revoke_ban(ban_id=ban.pk)
    with pytest.raises(services.NotFoundError):
        services.revoke_ban(ban_id=12345)
    for bad in (
        {},
        {"discord_user_id": 1, "weekends": 1, "until_date": WEEKEND},
        {"discord_user_id": 1, "weekends": 0},
        {"discord_user_id": 1, "until_date": dt.date(2030, 1, 1)},
    ):
        with pytest.raises(services.ArkError):
            services.add_ban(reason="x", now=NOW, **bad)
    assert AuditLog.objects.filter(action__startswith="ban_").count() == 3


def test_ark_weekend_of():
    assert services.ark_weekend_of(dt.date(2030, 3, 6)) == WEEKEND  # Wednesday
    assert services.ark_weekend_of(WEEKEND) == WEEKEND
    assert services.ark_weekend_of(dt.date(2030, 3, 10)) == WEEKEND  # Sunday


def test_reminder_prefs(db):
    assert services.get_reminder_prefs(user(1)) is None
    p = services.upsert_reminder_prefs(discord_user_id=user(1), disabled_types=["4h", "4h"])
    assert (p.dm_enabled, p.disabled_types) == (True, ["4h"])
    p = services.upsert_reminder_prefs(discord_user_id=user(1), dm_enabled=False)
    assert services.get_reminder_prefs(user(1)) == p and p.disabled_types == ["4h"] and not p.dm_enabled
    with pytest.raises(services.ArkError, match="Unknown reminder type"):
        services.upsert_reminder_prefs(discord_user_id=user(1), disabled_types=["5h"])


def test_insert_audit_log(match):
    row = services.insert_audit_log(
        action="note", actor_discord_id=OFFICER, match_id=match.pk, details={"at": NOW}
    )
    assert row.details == {"at": NOW.isoformat()} and row.match == match
    with pytest.raises(services.ArkError):
        services.insert_audit_log(action="")


def test_every_state_change_writes_exactly_one_audit_row(alliance, other_alliance, governors):
    """Each service call that changes state adds one audit row; a refused call adds none."""
    at = START - dt.timedelta(hours=1)
    steps = [
        ("alliance_saved", lambda: services.save_alliance(name="Third", registration_channel_id=5)),
        ("governor_registered", lambda: services.register_governor(governor_id=99, name="N", discord_user_id=9)),
        ("match_created", lambda: ark_match(alliance)),
        ("match_amended", lambda: services.amend_match(match_id=m(), notes="n")),
        ("signup_added", lambda: sign(Match.objects.get(pk=m()), 1)),
        ("signup_added", lambda: sign(Match.objects.get(pk=m()), 2)),
        ("signup_added", lambda: sign(Match.objects.get(pk=m()), 3)),
        ("signup_added", lambda: sign(Match.objects.get(pk=m()), 4)),
        (
            "signup_switched",
            lambda: services.switch_signup_governor(
                match_id=m(), old_governor_id=1, new_governor_id=11, actor_discord_id=user(1), now=NOW
            ),
        ),
        ("signup_moved", lambda: services.move_signup_slot(match_id=m(), governor_id=2, slot_type="Sub")),
        ("signup_moved", lambda: services.move_signup_slot(match_id=m(), governor_id=4, slot_type="Player")),
        (
            "signup_withdrawn",
            lambda: services.remove_signup(match_id=m(), governor_id=3, actor_discord_id=user(3), now=NOW),
        ),
        ("match_locked", lambda: services.lock_match(match_id=m(), now=NOW)),
        ("messages_reposted", lambda: services.repost_match_messages(match_id=m())),
        ("checked_in", lambda: services.mark_checked_in(match_id=m(), discord_user_id=user(1), now=at)),
        (
            "emergency_withdraw",
            lambda: services.mark_emergency_withdraw(match_id=m(), discord_user_id=user(4), now=at),
        ),
        (
            "signup_removed",
            lambda: services.remove_signup(
                match_id=m(), governor_id=2, status="Removed", as_officer=True, now=at
            ),
        ),
        ("result_set", lambda: services.set_match_result(match_id=m(), result="Win", now=START)),
        ("ban_added", lambda: services.add_ban(discord_user_id=5, reason="x", weekends=1, now=NOW)),
        ("ban_revoked", lambda: services.revoke_ban(ban_id=services.list_bans(now=NOW)[0].pk)),
        ("reminder_prefs", lambda: services.upsert_reminder_prefs(discord_user_id=5, dm_enabled=False)),
        ("note", lambda: services.insert_audit_log(action="note")),
        ("match_cancelled", lambda: services.cancel_match(match_id=ark_match(other_alliance).pk)),
    ]

    def m() -> int:
        return Match.objects.filter(alliance=alliance).values_list("pk", flat=True).get()

    for action, call in steps:
        before = AuditLog.objects.count()
        call()
        new = list(AuditLog.objects.order_by("-id")[: AuditLog.objects.count() - before])
        if action == "match_cancelled":  # the cancelled match was created in the same step
            assert [r.action for r in new] == ["match_cancelled", "match_created"]
        else:
            assert [r.action for r in new] == [action], action
    before = AuditLog.objects.count()
    for refused in (
        lambda: services.set_match_result(match_id=m(), result="Draw", now=START),
        lambda: services.add_signup(match_id=m(), governor_id=5, discord_user_id=user(5), now=NOW),
        lambda: services.cancel_match(match_id=m() + 1),
    ):
        with pytest.raises(services.ArkError):
            refused()
    assert AuditLog.objects.count() == before


SEED_DAL = {  # ../shared/seeds/000_ark_dal_plan.md: function → the parameters it names
    "list_alliances": {"active_only"},
    "get_alliance": {"alliance"},
    "create_match": {
        "alliance",
        "ark_weekend_date",
        "match_day",
        "match_time_utc",
        "signup_close_utc",
        "notes",
        "actor_discord_id",
    },
    "amend_match": {"match_id", "match_day", "match_time_utc", "notes", "alliance", "actor_discord_id"},
    "cancel_match": {"match_id", "actor_discord_id"},
    "get_match": {"match_id"},
    "list_open_matches": {"alliance"},
    "get_roster": {"match_id"},
    "add_signup": {
        "match_id",
        "governor_id",
        "governor_name",
        "discord_user_id",
        "slot_type",
        "source",
        "actor_discord_id",
    },
    "remove_signup": {"match_id", "governor_id", "status", "actor_discord_id"},
    "switch_signup_governor": {"match_id", "actor_discord_id"},
    "move_signup_slot": {"match_id", "governor_id", "slot_type", "actor_discord_id"},
    "mark_checked_in": {"match_id", "discord_user_id", "governor_id"},
    "mark_emergency_withdraw": {"match_id", "discord_user_id", "governor_id"},
    "find_active_signup_for_weekend": {"governor_id", "ark_weekend_date", "exclude_match_id"},
    "add_ban": {"discord_user_id", "governor_id", "actor_discord_id"},
    "revoke_ban": {"ban_id", "actor_discord_id"},
    "list_bans": {"active_only"},
    "get_active_ban_for": {"discord_user_id", "governor_id", "ark_weekend_date"},
    "get_reminder_prefs": {"discord_user_id"},
    "upsert_reminder_prefs": {"discord_user_id"},
    "set_match_result": {"match_id", "result", "result_notes"},
    "insert_audit_log": {"action", "actor_discord_id"},
}


@pytest.mark.parametrize("name", sorted(SEED_DAL))
def test_seed_dal_function_exists_with_its_keyword_parameters(name):
    import inspect

    params = inspect.signature(getattr(services, name)).parameters
    keyword = {p for p, v in params.items() if v.kind in (v.KEYWORD_ONLY, v.POSITIONAL_OR_KEYWORD)}
    assert SEED_DAL[name] <= keyword, SEED_DAL[name] - keyword
