"""Proven characters: a member connects Battle.net from /me/ (allauth's Battle.net provider against
the fake Battle.net: authorize → token → userinfo → /profile/user/wow). The account's characters in
the guild are linked to the member's player ("battlenet"); a proof outranks name, note and fuzzy
links; an officer's link is never overwritten, the conflict becomes an integrity issue that the
integrity run keeps; the characters are re-read at each connection."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from guildsync.models import AuditIssue, BattlenetProof, IdentityChange, PlayerCharacter
from guildsync.services.integrity_checker import run_integrity_check
from tests import factories as f
from tests.fakes.battlenet_oauth import BnetAccount, BnetCharacter
from tests.members.conftest import MEMBER
from tests.members.test_me_page import member_sign_in

pytestmark = pytest.mark.django_db


def connect(client, fake, account: BnetAccount):
    """The browser's hops: our connect URL → Battle.net's authorize → our callback → /me/."""
    fake.next_account = account
    start = client.post("/accounts/battlenet/login/?process=connect&next=/me/")
    assert start.status_code == 302 and start["Location"].startswith(fake.oauth_base + "/authorize"), start
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["scope"] == ["wow.profile"] and query["client_id"] == [fake.client_id]
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlparse(back.headers["Location"])
    done = client.get(callback.path, parse_qs(callback.query))
    assert done.status_code == 302 and done["Location"] == "/me/", done
    return client.get("/me/").content.decode()


@pytest.fixture
def guild():
    user = f.discord_user("lunara", discord_id=MEMBER.id, display_name="Lunara")
    other = f.discord_user("officerpick")
    chars = {name: f.wow_character(name, realm_name="Area 52", realm="area-52", level=level)
             for name, level in (("Adaxion", 70), ("Velukh", 43), ("Guessed", 60), ("Officered", 80), ("Mine", 50))}
    guesser = f.player("Someone", None, [chars["Guessed"]], source="fuzzy")
    officer_pick = f.player("Officer pick", other, [chars["Officered"]], source="manual")
    mine = f.player("Lunara", user, [chars["Mine"]], source="exact_name")
    return {"user": user, "chars": chars, "guesser": guesser, "officer_pick": officer_pick, "mine": mine}


ACCOUNT = BnetAccount(2056856, "Lunara#1234", [
    BnetCharacter("Adaxion", "area-52", "Area 52", 234345345, 70, "Evoker", 13),
    BnetCharacter("velukh", "area-52", "Area 52", 153269335, 43),  # the API's case may differ
    BnetCharacter("Guessed", "area-52", "Area 52", 11, 60),
    BnetCharacter("Officered", "area-52", "Area 52", 12, 80),
    BnetCharacter("Mine", "area-52", "Area 52", 13, 50),
    BnetCharacter("Elsewhere", "sargeras", "Sargeras", 193498135, 24, "Warrior", 1),  # not in the guild
])


def test_connecting_links_proven_characters_and_never_an_officers_link(client, discord_oauth, battlenet, guild):
    member_sign_in(client, discord_oauth)
    page = connect(client, battlenet, ACCOUNT)
    chars, mine = guild["chars"], guild["mine"]
    links = {link.character.character_name: link for link in PlayerCharacter.objects.select_related("character")}
    for name in ("Adaxion", "Velukh", "Guessed", "Mine"):
        assert links[name].player_id == mine.pk and links[name].link_source == "battlenet", name
    assert links["Officered"].player_id == guild["officer_pick"].pk and links["Officered"].link_source == "manual"
    assert BattlenetProof.objects.filter(discord_user=guild["user"]).count() == 5  # Elsewhere is not in the guild
    assert IdentityChange.objects.filter(action="move", character=chars["Guessed"],
                                         actor=f"battlenet:{MEMBER.id}").exists()
    issue = AuditIssue.objects.get(issue_type="battlenet_conflict", resolved_at__isnull=True)
    assert issue.wow_character_id == chars["Officered"].pk and "an officer linked it to Officer pick" in issue.summary
    # the page: what happened, the characters proven, the account
    assert "3 linked" not in page and "2 linked, 1 confirmed, 1 moved to you" in page
    assert "Officered-area-52: an officer linked it to someone else" in page
    assert page.count("proven by Battle.net") == 4 and "Lunara#1234" in page
    assert battlenet.profile_requests[-1]["namespace"] == "profile-us"

    # the integrity run keeps the conflict open while the two disagree …
    run_integrity_check()
    assert AuditIssue.objects.filter(issue_type="battlenet_conflict", resolved_at__isnull=True).count() == 1
    # … and closes it once an officer moves the character to the member
    from guildsync.services.identity_links import link_character

    link_character(chars["Officered"].pk, player_id=mine.pk, actor="anna")
    run_integrity_check()
    assert not AuditIssue.objects.filter(issue_type="battlenet_conflict", resolved_at__isnull=True).exists()


def test_characters_are_re_read_at_each_connection(client, discord_oauth, battlenet, guild):
    member_sign_in(client, discord_oauth)
    connect(client, battlenet, BnetAccount(ACCOUNT.id, ACCOUNT.battletag, ACCOUNT.characters[:1]))
    first = BattlenetProof.objects.get(character__character_name="Adaxion").seen_at
    assert not PlayerCharacter.objects.filter(character__character_name="Velukh").exists()
    # a day later the token is gone; connecting again reads the account anew (now with Velukh)
    page = connect(client, battlenet, ACCOUNT)
    assert BattlenetProof.objects.get(character__character_name="Adaxion").seen_at > first
    assert PlayerCharacter.objects.get(character__character_name="Velukh").link_source == "battlenet"
    assert "Read my characters again" in page
    assert BattlenetProof.objects.count() == 5  # one proof per character, not one per connection


def test_a_member_without_a_player_gets_one(client, discord_oauth, battlenet):
    user = f.discord_user("lunara", discord_id=MEMBER.id)
    f.wow_character("Adaxion", realm="area-52", level=70)
    member_sign_in(client, discord_oauth)
    connect(client, battlenet, ACCOUNT)
    link = PlayerCharacter.objects.select_related("player").get()
    assert link.player.discord_user == user and link.player.main_character_id == link.character_id


def test_a_bad_profile_answer_links_nothing_and_says_why(client, discord_oauth, battlenet, guild, settings):
    member_sign_in(client, discord_oauth)
    settings.BLIZZARD_REGION = "eu"  # the fake serves profile-us: Blizzard's 404 for another namespace
    page = connect(client, battlenet, ACCOUNT)
    assert not BattlenetProof.objects.exists()
    settings.BLIZZARD_REGION = "us"
    battlenet.tokens.clear()
    from guildsync import clients

    with pytest.raises(clients.BlizzardAuthError):
        clients.account_characters("forged")
    assert "me-battlenet-connect" in page


def test_off_unless_configured(client, discord_oauth, settings):
    member_sign_in(client, discord_oauth)
    assert client.post("/accounts/battlenet/login/?process=connect").status_code == 404
    assert "me-battlenet-connect" not in client.get("/me/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_members_proving_one_character_at_once_link_it_once(run_in_parallel):
    """Two Battle.net accounts list the same orphan character (a shared or transferred character),
    proven at the same moment on parallel PostgreSQL connections: one link, and the other member's
    proof becomes a conflict for officers; never two links, never an error."""
    from guildsync.services.battlenet import link_proven_characters
    from guildsync.services.reference import load_reference_data

    load_reference_data()
    members = [f.discord_user(f"member{i}", discord_id=MEMBER.id + i) for i in range(4)]
    row = f.wow_character("Shared", realm="area-52", level=70)
    char = [{"id": 99, "name": "Shared", "realm_slug": "area-52", "realm_name": "Area 52", "level": 70}]
    results = run_in_parallel(lambda i: link_proven_characters(members[i].discord_id, 500 + i, char), 4)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert PlayerCharacter.objects.filter(character=row).count() == 1
    assert sum(len(r.linked) for r in results) == 1 and sum(len(r.conflicts) for r in results) == 3
    assert BattlenetProof.objects.filter(character=row).count() == 4
    assert AuditIssue.objects.filter(issue_type="battlenet_conflict", resolved_at__isnull=True).count() == 3
