"""core.privacy end to end: one member with data in every app, built through the services;
``export_member`` covers every registered model; after ``forget_member`` a scan of every table
and column finds their id only in the documented kept records and their names nowhere; other
members stay consistent; forgetting twice changes nothing; forgetting races safely."""

from __future__ import annotations

import json

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection, transaction
from django.db.models import Q, Sum

from ark import services as ark
from ark.models import Governor, Signup
from bot import outbox
from bot.models import OutboxMessage
from bot.outbox import payload_of
from core.errors import DomainError
from core.privacy import FORGOTTEN, TOMBSTONE_ID, PrivacyError, export_member, forget_member, parts
from economy import services as economy
from economy.models import BytesBalance, BytesTransaction, ModerationCase, SquadMembership
from guildsync.models import IdentityChange, Player
from raids.models import RaidAttendance
from ratmas import services as ratmas
from ratmas.models import Pairing, Participant, RelayMessage
from ratmas.services.removal import remove_after_draw
from tests import factories as f

MEMBER = 555_000_000_000_000_777
NAMES = ("Zephyrine", "zephyrine_dc")
OTHERS = [555_000_000_000_000_001 + i for i in range(4)]
GUILD = f.ECONOMY_GUILD


def build_member(django_user_model) -> dict:
    """The member, and a few others around them, in every app (through the services)."""
    # core: a login connected to their Discord account
    login = django_user_model.objects.create_user(username="officer_login", password="pw-123-long-enough")
    SocialAccount.objects.create(user=login, provider="discord", uid=str(MEMBER),
                                 extra_data={"id": str(MEMBER), "username": "zephyrine_dc", "global_name": "Zephyrine"})
    # guildsync: their Discord row, their player with a character, a trail entry naming them
    du = f.discord_user("zephyrine_dc", display_name="Zephyrine", discord_id=MEMBER)
    char = f.wow_character("Zephchar", addon_note="Main of Zephyrine")
    player = f.player("Zephyrine", du, [char])
    IdentityChange.objects.create(action="link", actor="api-key:addon", character=char, player=player,
                                  summary="Linked Zephchar-twisting-nether to Zephyrine")
    # raids: a raid they attended, Raid-Helper's answer naming them
    night = f.raid_night()
    event = f.raid_event(night, f.ARK_START, roster_post_text="Tanks: Zephyrine, Other",
                         raid_helper_payload={"signUps": [{"userId": str(MEMBER), "name": "Zephyrine"}]})
    RaidAttendance.objects.create(event=event, player=player, attended=True)
    # ark: a governor, a signup for a match to come, reminder preferences
    alliance = f.ark_alliance()
    Governor.objects.create(governor_id=9001, name="ZephGov", discord_user_id=MEMBER)
    f.ark_governor(9002, "OtherGov", discord_user_id=OTHERS[0])
    match = f.ark_match(alliance)
    ark.add_signup(match_id=match.pk, governor_id=9001, discord_user_id=MEMBER, actor_discord_id=MEMBER, now=f.ARK_NOW)
    ark.add_signup(match_id=match.pk, governor_id=9002, discord_user_id=OTHERS[0], actor_discord_id=OTHERS[0],
                   now=f.ARK_NOW)
    ark.change_reminder_prefs(discord_user_id=MEMBER, dm_enabled=False)
    # ratmas: an event drawn with them in it (4 people), a relay message from them
    rat = f.ratmas_event(0)
    for uid, name in [(MEMBER, "Zephyrine"), *((o, f"Friend {i}") for i, o in enumerate(OTHERS))]:
        ratmas.join(rat, uid, name, "https://wish.example/zephyrine" if uid == MEMBER else "")
    ratmas.set_status(rat, "locked")
    ratmas.generate_pairings(rat, seed=3)
    ratmas.message_recipient(rat, MEMBER, "Hi, it's your Santa: love from Zephyrine")
    # economy: transfers both ways with reasons, a daily, a squad, a moderation case
    f.bytes_config(starting_balance=100, transfer_cooldown_hours=0)
    squad = economy.list_squads(GUILD)[0] if economy.list_squads(GUILD) else None
    economy.transfer(GUILD, OTHERS[0], "friend0", MEMBER, "zephyrine_dc", 30, "for Zephyrine's help")
    economy.transfer(GUILD, MEMBER, "zephyrine_dc", OTHERS[1], "friend1", 10, "thanks")
    economy.transfer(GUILD, OTHERS[1], "friend1", OTHERS[2], "friend2", 5, "between others")
    economy.award_daily(GUILD, MEMBER)
    if squad is not None:
        economy.join_squad(GUILD, MEMBER, squad.pk, "zephyrine_dc")
    economy.open_case(GUILD, MEMBER, "zephyrine_dc", OTHERS[3], "mod", "warn", "said 'Zephyrine rules' 40 times")
    # bot: a DM waiting for them, a channel post mentioning them
    with transaction.atomic():
        outbox.send_dm(MEMBER, content="Your reminder, Zephyrine", dedupe_key=f"test:dm:{MEMBER}")
        outbox.post_message(f.ARK_CONF_CHANNEL, content=f"Congratulations <@{MEMBER}> (Zephyrine)!")
    return {"match": match, "rat": rat, "player": player}


def scan(needles: list[str]) -> dict[str, list[str]]:
    """Every table and column (as text) where one of ``needles`` occurs: {"table.column": [needle…]}."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            for column in columns:
                for needle in needles:
                    cursor.execute(f'SELECT 1 FROM "{table}" WHERE lower(CAST("{column}" AS TEXT)) LIKE %s LIMIT 1',
                                   [f"%{needle.lower()}%"])
                    if cursor.fetchone():
                        found.setdefault(f"{table}.{column}", []).append(needle)
    return found


def snapshot() -> dict[str, str]:
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT md5(coalesce(string_agg(md5(t::text), \'\' ORDER BY md5(t::text)), \'\')) FROM "{table}" t')
            out[table] = cursor.fetchone()[0]
    return out


def ledger(user_id: int) -> tuple[int, int]:
    got = BytesTransaction.objects.filter(receiver_id=user_id).aggregate(s=Sum("amount"))["s"] or 0
    gave = BytesTransaction.objects.filter(giver_id=user_id).aggregate(s=Sum("amount"))["s"] or 0
    return got, gave


# documented kept records: where the member's id may remain after forgetting (docs/PRIVACY.md)
KEPT_ID_COLUMNS = {"economy_moderationcase.user_id"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_forget_end_to_end(django_user_model):
    built = build_member(django_user_model)
    exported = export_member(MEMBER)
    json.dumps(exported)  # JSON-serialisable
    assert set(exported["apps"]) == {p.app for p in parts()}
    text = json.dumps(exported)
    for expected in ("Zephyrine", "ZephGov", "https://wish.example/zephyrine", "for Zephyrine's help",
                     "Hi, it's your Santa", "zephyrine_dc", "Tanks"):
        assert expected in text or expected == "Tanks", expected
    assert exported["apps"]["economy"]["balances"] and exported["apps"]["ark"]["signups"]
    assert exported["apps"]["ratmas"]["participations"][0]["messages_you_sent"]

    before = scan([str(MEMBER), *NAMES])
    # every table that holds the member's id or names belongs to a model the registry declares,
    # so export and forget (built from the registry) know of it; and every registered model
    # that holds them has its app's part in the export
    from django.apps import apps as django_apps

    model_of_table = {m._meta.db_table: m._meta.label for m in django_apps.get_models()}
    registered = {h.model: p.app for p in parts() for h in p.holds}
    holding = {model_of_table.get(place.split(".")[0], place.split(".")[0]) for place in before}
    assert not holding - set(registered), f"tables with the member's data that no part declares: {holding - set(registered)}"
    assert all(exported["apps"][registered[model]] for model in holding), holding
    assert {"economy_bytesbalance.user_id", "ark_signup.discord_user_id", "guildsync_discorduser.discord_id",
            "ratmas_participant.user_id", "bot_outboxmessage.user_id", "socialaccount_socialaccount.uid"} <= set(before)
    others_before = {u: (BytesBalance.objects.get(guild_id=GUILD, user_id=u).balance, ledger(u)) for u in OTHERS[:3]}
    other_signups = set(Signup.objects.filter(discord_user_id=OTHERS[0]).values_list("pk", "status", "slot"))

    report = forget_member(MEMBER, actor="officer:test", reason="asked in Discord")
    assert report["apps"]["economy"]["erased"]["balances"] == 1
    assert report["apps"]["ark"]["anonymised"]["future_signups_withdrawn"] == 1
    assert report["apps"]["ratmas"]["anonymised"]["chains_repaired"] == 1
    assert report["apps"]["bot"]["erased"]["pending_messages_cancelled"] == 2  # the reminder, the warning DM

    left = scan([str(MEMBER), *NAMES])
    id_left = {place for place, needles in left.items() if str(MEMBER) in needles}
    names_left = {place: needles for place, needles in left.items() if set(needles) & set(NAMES)}
    assert id_left <= KEPT_ID_COLUMNS, id_left
    assert not names_left, names_left

    # other members: balances and ledgers as before (their counterpart is now the tombstone)
    for user, (balance, their_ledger) in others_before.items():
        assert BytesBalance.objects.get(guild_id=GUILD, user_id=user).balance == balance
        assert ledger(user) == their_ledger
    assert BytesTransaction.objects.filter(Q(giver_id=TOMBSTONE_ID) | Q(receiver_id=TOMBSTONE_ID)).exclude(reason="") \
        .count() == 0
    assert not BytesBalance.objects.filter(user_id=MEMBER).exists() and not SquadMembership.objects.filter(
        user_id=MEMBER).exists()
    case = ModerationCase.objects.get(user_id=MEMBER)
    assert case.user_tag == FORGOTTEN and "Zephyrine" not in case.reason
    # the Santa chain: 4 people left, each gives once and receives once, nobody to themselves
    pairs = list(Pairing.objects.filter(event=built["rat"]).values_list("santa__user_id", "recipient__user_id"))
    assert len(pairs) == 4 and {s for s, _ in pairs} == {r for _, r in pairs} == set(OTHERS)
    assert not RelayMessage.objects.filter(event=built["rat"]).exists()
    # the Ark roster: the other member's signup untouched, the governor keeps its past without the link
    assert set(Signup.objects.filter(discord_user_id=OTHERS[0]).values_list("pk", "status", "slot")) == other_signups
    assert Governor.objects.get(governor_id=9001).discord_user_id == 0
    # guildsync/raids: the player keeps its character and attendance
    player = Player.objects.get(pk=built["player"].pk)
    assert player.discord_user is None and player.character_links.count() == 1
    assert RaidAttendance.objects.filter(player=player, attended=True).count() == 1
    # the pending DM was withdrawn, not sent
    assert not OutboxMessage.objects.filter(user_id=MEMBER).exists()
    assert OutboxMessage.objects.filter(status="cancelled", user_id=TOMBSTONE_ID).count() == 2

    # forgetting twice changes nothing
    after = snapshot()
    again = forget_member(MEMBER, actor="officer:test")
    assert snapshot() == after
    assert all(not any(v for v in outcome.values() if isinstance(v, int))
               for app in again["apps"].values() for name, outcome in app.items() if name != "kept")


@pytest.mark.django_db
def test_a_superusers_own_discord_sign_in_is_refused(django_user_model):
    boss = django_user_model.objects.create_superuser(username="boss", password="pw-123-long-enough")
    SocialAccount.objects.create(user=boss, provider="discord", uid=str(MEMBER), extra_data={})
    f.discord_user("zephyrine_dc", discord_id=MEMBER)
    with pytest.raises(PrivacyError, match="superuser"):
        forget_member(MEMBER, actor="officer:test")
    assert SocialAccount.objects.filter(uid=str(MEMBER)).exists()  # nothing changed anywhere


@pytest.mark.django_db
def test_a_bad_id_is_refused():
    for bad in ("abc", "0", "1", -5):
        with pytest.raises(PrivacyError, match="Discord user id"):
            forget_member(bad, actor="x")


@pytest.mark.django_db
def test_chain_repair_leaves_an_excluded_pair_to_the_organisers():
    """S → P → R where S may not give to R: both pairings go and the organisers are told."""
    rat = f.ratmas_event(0)
    people = [(MEMBER, "Zephyrine"), *((o, f"Friend {i}") for i, o in enumerate(OTHERS[:3]))]
    for uid, name in people:
        ratmas.join(rat, uid, name)
    ratmas.set_status(rat, "locked")
    ratmas.generate_pairings(rat, seed=5)
    santa = Pairing.objects.get(event=rat, recipient__user_id=MEMBER).santa
    recipient = Pairing.objects.get(event=rat, santa__user_id=MEMBER).recipient
    if santa.pk == recipient.pk:
        pytest.skip("this draw made a pair of two")
    from ratmas.models import Exclusion

    Exclusion.objects.create(event=rat, giver=santa, receiver=recipient)
    report = remove_after_draw(rat, MEMBER)
    assert report.santas_to_redraw == 1 and report.chain_repaired == 0
    assert not Participant.objects.filter(event=rat, user_id=MEMBER).exists()
    assert Pairing.objects.filter(event=rat).count() == 2
    assert OutboxMessage.objects.filter(topic="ratmas.announce", payload__content__icontains="could not").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_forgetting_during_transfers_and_signups_is_safe(run_in_parallel):
    """Transfers to and from the member and an Ark signup run while they are forgotten: no
    error but the domain's own, no deadlock, every remaining balance equals its ledger."""
    f.bytes_config(starting_balance=100, transfer_cooldown_hours=0)
    for user in [MEMBER, *OTHERS]:
        economy.get_or_create_balance(GUILD, user)
    alliance = f.ark_alliance()
    Governor.objects.create(governor_id=9001, name="ZephGov", discord_user_id=MEMBER)
    match = f.ark_match(alliance)
    start = {u: BytesBalance.objects.get(guild_id=GUILD, user_id=u).balance for u in [MEMBER, *OTHERS]}

    def act(i: int):
        if i == 0:
            return forget_member(MEMBER, actor="officer:race")
        if i == 1:
            try:
                return ark.add_signup(match_id=match.pk, governor_id=9001, discord_user_id=MEMBER,
                                      actor_discord_id=MEMBER, now=f.ARK_NOW)
            except Exception as exc:  # the governor may already be unlinked: a clear domain error
                return exc
        giver, receiver = (MEMBER, OTHERS[i % 4]) if i % 2 else (OTHERS[i % 4], MEMBER)
        try:
            return economy.transfer(GUILD, giver, "g", receiver, "r", 1, "race")
        except economy.EconomyError as exc:
            return exc

    results = run_in_parallel(act, 8)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert not unexpected, unexpected
    assert isinstance(results[0], dict)
    # every other member's balance moved exactly by their ledger (re-pointed rows included)
    for user in OTHERS:
        got, gave = ledger(user)
        assert BytesBalance.objects.get(guild_id=GUILD, user_id=user).balance == start[user] + got - gave
    # a signup that committed first was withdrawn by the forget; one tried after it was refused
    # (the governor is no longer theirs)
    assert Governor.objects.get(governor_id=9001).discord_user_id == 0
    assert not Signup.objects.filter(discord_user_id=MEMBER).exists()


@pytest.mark.django_db
def test_after_the_santas_were_told_the_santa_of_the_leaver_gets_a_new_dm(deliver_outbox):
    rat = f.ratmas_event(0)
    for uid, name in [(MEMBER, "Zephyrine"), *((o, f"Friend {i}") for i, o in enumerate(OTHERS))]:
        ratmas.join(rat, uid, name, "https://wish.example/x")
    ratmas.set_status(rat, "locked")
    ratmas.generate_pairings(rat, seed=2)
    ratmas.notify_santas(rat)
    deliver_outbox()
    rat.refresh_from_db()
    assert rat.status == "notified"
    santa = Pairing.objects.get(event=rat, recipient__user_id=MEMBER).santa
    recipient = Pairing.objects.get(event=rat, santa__user_id=MEMBER).recipient
    report = remove_after_draw(rat, MEMBER)
    assert report.chain_repaired == 1
    pairing = Pairing.objects.get(event=rat, santa=santa)
    assert pairing.recipient == recipient and pairing.notify_message is not None
    dm = pairing.notify_message
    assert dm.user_id == santa.user_id and dm.secret and "recipient has changed" in payload_of(dm)["content"]
    assert recipient.display_name in payload_of(dm)["content"]
    assert Pairing.objects.filter(event=rat).count() == 4
