"""Integrity issues an officer can act on (issue 24, Build 10): plain words for every type, a
fix on the issue page and on the character page (a player chosen by name) through the
identity services, and an issue the fix resolves closes itself, saying who fixed it and how."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guildsync.models import AuditIssue, IdentityChange, PlayerCharacter
from guildsync.services import identity_links, integrity_checker
from guildsync.services.common import GuildSyncError

pytestmark = pytest.mark.django_db


@pytest.fixture
def guild_officer(officer, client):
    client.force_login(officer("Guild officers", "marshal"))
    return client


def open_issue(issue_type: str) -> AuditIssue:
    return AuditIssue.objects.get(issue_type=issue_type, resolved_at__isnull=True)


def test_every_issue_type_has_plain_words_and_a_way_to_fix_it():
    for code, label in AuditIssue.IssueType.choices:
        assert "_" not in label and "orphan" not in label.lower() and label[0].isupper()
        assert integrity_checker.HOW_TO_FIX[code]
    assert set(integrity_checker.HOW_TO_FIX) == set(integrity_checker.CHECKS)


def test_fix_on_the_issue_page_links_the_character_and_closes_the_issue(make, guild_officer):
    player = make.player("Aelindra")
    stray = make.character("Wanderlust")
    integrity_checker.run_integrity_check()
    issue = open_issue("orphan_wow")
    page = guild_officer.get(reverse("admin:guildsync_auditissue_change", args=[issue.pk])).content.decode()
    assert "Character not linked to a player" in page and "class=\"fix-issue\"" in page
    assert "Link the character to the player who plays it" in page
    fix_url = reverse("admin:guildsync_auditissue_fix", args=[issue.pk])
    form = guild_officer.get(fix_url).content.decode()
    assert "Wanderlust" in form and 'name="player"' in form
    assert not PlayerCharacter.objects.filter(character=stray).exists()  # GET changes nothing

    answer = guild_officer.post(fix_url, {"player": player.pk}, follow=True)
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "Fixed: Wanderlust-twisting-nether linked to Aelindra. The issue is closed (fixed by marshal)." in text
    issue.refresh_from_db()
    assert issue.resolution == AuditIssue.Resolution.FIXED and issue.resolved_by == "marshal"
    assert issue.resolved_at is not None and issue.resolution_note == "Wanderlust-twisting-nether linked to Aelindra"
    assert PlayerCharacter.objects.get(character=stray).player == player
    assert IdentityChange.objects.filter(actor="marshal", character=stray).exists()
    closed_page = guild_officer.get(reverse("admin:guildsync_auditissue_change", args=[issue.pk])).content.decode()
    assert "Fixed by an officer&#x27;s change" in closed_page and "class=\"fix-issue\"" not in closed_page
    # the next check finds nothing and reopens nothing
    result = integrity_checker.run_integrity_check()
    assert result.new == 0 and not AuditIssue.objects.filter(resolved_at__isnull=True, issue_type="orphan_wow")


def test_link_from_the_character_page_closes_its_issue(make, guild_officer):
    player = make.player("Isolde")
    stray = make.character("Quietstorm")
    integrity_checker.run_integrity_check()
    page = guild_officer.get(reverse("admin:guildsync_wowcharacter_change", args=[stray.pk])).content.decode()
    link_url = reverse("admin:guildsync_wowcharacter_link", args=[stray.pk])
    assert link_url in page and "Link to a player" in page
    answer = guild_officer.post(link_url, {"player": player.pk}, follow=True)
    assert "Quietstorm-twisting-nether is now linked to Isolde" in answer.content.decode()
    issue = AuditIssue.objects.get(issue_type="orphan_wow", wow_character=stray)
    assert issue.resolution == "fixed" and issue.resolved_by == "marshal"


def test_fix_of_a_discord_member_without_characters(make, guild_officer):
    user = make.discord_user("ulric", display_name="Ulric")
    player = make.player("Ulric the Bold", characters=[make.character("Ulricbold")])
    integrity_checker.run_integrity_check()
    issue = open_issue("orphan_discord")
    page = guild_officer.get(reverse("admin:guildsync_auditissue_change", args=[issue.pk])).content.decode()
    assert "Discord member with a guild role but no characters" in page and "Fix this issue" in page
    guild_officer.post(reverse("admin:guildsync_auditissue_fix", args=[issue.pk]), {"player": player.pk})
    issue.refresh_from_db()
    player.refresh_from_db()
    assert player.discord_user == user
    assert issue.resolution == "fixed" and issue.resolution_note == "Discord member Ulric linked to Ulric the Bold"


def test_bad_input_is_refused_in_plain_words_and_changes_nothing(make, guild_officer):
    stray = make.character("Nobodyknows")
    integrity_checker.run_integrity_check()
    issue = open_issue("orphan_wow")
    fix_url = reverse("admin:guildsync_auditissue_fix", args=[issue.pk])
    for data, message in (({}, "Choose the player by name."),
                          ({"player": "999999"}, "That player does not exist (any more)"),
                          ({"player": "x' OR 1=1"}, "That player does not exist (any more)")):
        answer = guild_officer.post(fix_url, data)
        assert answer.status_code == 400 and message in answer.content.decode()
    assert not PlayerCharacter.objects.filter(character=stray).exists()
    issue.refresh_from_db()
    assert issue.resolved_at is None
    assert guild_officer.get(reverse("admin:guildsync_auditissue_fix", args=[999999])).status_code == 404


def test_a_member_already_linked_elsewhere_is_refused_by_name(make):
    user = make.discord_user("ulric", display_name="Ulric")
    make.player("First", discord_user=user)
    other = make.player("Second")
    with pytest.raises(GuildSyncError, match="Ulric already belongs to the player First"):
        identity_links.link_discord_user(user.pk, player_id=other.pk, actor="marshal")


def test_types_a_link_cannot_fix_say_what_fixes_them(make):
    make.character("Oldtimer", last_api_sync=None)
    from datetime import timedelta

    from django.utils import timezone

    from guildsync.models import WowCharacter

    WowCharacter.objects.update(last_api_sync=timezone.now() - timedelta(days=90))
    player = make.player("Someone", characters=list(WowCharacter.objects.all()))
    integrity_checker.run_integrity_check()
    issue = open_issue("stale_character")
    with pytest.raises(GuildSyncError, match="not fixed by linking a player. Nothing to link"):
        identity_links.fix_issue(issue.pk, player_id=player.pk, actor="marshal")
    with pytest.raises(GuildSyncError, match="already closed"):
        integrity_checker.close_issues([issue.pk], "dismissed", "marshal")
        identity_links.fix_issue(issue.pk, player_id=player.pk, actor="marshal")


def test_only_officers_who_may_link_get_the_fix(make, officer, client):
    make.character("Wanderlust")
    integrity_checker.run_integrity_check()
    issue = open_issue("orphan_wow")
    client.force_login(officer("Economy moderators", "moderator"))
    assert client.get(reverse("admin:guildsync_auditissue_fix", args=[issue.pk])).status_code == 403
    assert client.post(reverse("admin:guildsync_wowcharacter_link", args=[issue.wow_character_id]),
                       {"player": "1"}).status_code == 403


def test_the_upload_page_says_what_to_upload_and_where_the_file_is(guild_officer):
    import re

    html = guild_officer.get(reverse("admin:guildsync_wowcharacter_upload_addon")).content.decode()
    help_text = re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">")
    assert "World of Warcraft/_retail_/WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua" in help_text
    assert "/reload" in help_text and "GuildSync addon's export" in help_text
