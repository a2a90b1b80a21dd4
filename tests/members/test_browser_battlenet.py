"""Battle.net in a real browser (Playwright + Debian's Chromium): a member signs in with Discord,
connects Battle.net through the fake Battle.net OAuth flow and sees their characters linked as
proven; the character an officer linked to someone else stays with that player, and the officer
finds the integrity issue in the admin. At 390×844 and 1440×900; screenshots under ``ME_SHOTS``."""

from __future__ import annotations

import pytest

from guildsync.models import PlayerCharacter
from tests import factories as f
from tests.members.conftest import MEMBER
from tests.members.test_battlenet import ACCOUNT
from tests.members.test_browser_me import VIEWPORTS, audit, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _reference_data() -> None:
    from guildsync.services.reference import load_reference_data

    load_reference_data()


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_member_connects_battlenet_and_officer_sees_the_conflict(size, browser_page, live_server, discord_oauth,
                                                                battlenet, admin_login, django_user_model):
    user = f.discord_user("lunara", discord_id=MEMBER.id, display_name="Lunara")
    for name, level in (("Adaxion", 70), ("Velukh", 43), ("Officered", 80)):
        f.wow_character(name, realm="area-52", realm_name="Area 52", level=level)
    officer_pick = f.player("Officer pick", f.discord_user("officerpick"),
                            [f.wow_character("Placeholder")], source="manual")
    f.player("Lunara", user)
    from guildsync.models import WowCharacter
    from guildsync.services.identity_links import link_character

    link_character(WowCharacter.objects.get(character_name="Officered").pk, player_id=officer_pick.pk, actor="anna")

    page = browser_page
    page.set_viewport_size(dict(zip(("width", "height"), VIEWPORTS[size], strict=True)))
    discord_oauth.next_member = MEMBER
    page.goto(f"{live_server.url}/me/")
    with page.expect_navigation(url=f"{live_server.url}/me/"):
        page.click("#me-discord-signin")
    assert page.locator("#me-no-characters").is_visible()
    battlenet.next_account = ACCOUNT
    with page.expect_navigation(url=f"{live_server.url}/me/"):
        page.click("#me-battlenet-connect")
    page.wait_for_selector("#me-characters")
    table = page.inner_text("#me-characters")
    assert "Adaxion" in table and "Velukh" in table and "Officered" not in table
    assert page.locator("#me-characters .badge.proven").count() == 2
    messages = page.inner_text("ul.messages")
    assert "2 linked" in messages and "Officered-area-52: an officer linked it to someone else" in messages
    assert "Lunara#1234" in page.inner_text("#me-battlenet-account")
    audit(page, "after Battle.net")
    shot(page, f"me-battlenet-{size}")

    # the officer's link is untouched; the officer sees the issue in the admin
    link = PlayerCharacter.objects.get(character__character_name="Officered")
    assert link.player_id == officer_pick.pk and link.link_source == "manual"
    django_user_model.objects.create_superuser("anna", "a@example.org", "anna-pass-123")
    admin = admin_login("anna", "anna-pass-123")
    admin.goto(f"{live_server.url}/admin/guildsync/auditissue/?issue_type__exact=battlenet_conflict")
    listing = admin.inner_text("#result_list")
    assert "Officered-area-52 is on Lunara's Battle.net account but an officer linked it to Officer pick" in listing
    shot(admin, f"officer-battlenet-issue-{size}")
