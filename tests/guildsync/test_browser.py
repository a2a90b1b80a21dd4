"""One officer workflow in a real browser: link an orphan character to a player."""

from __future__ import annotations

import pytest

from guildsync.models import PlayerCharacter


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_links_orphan_character_to_player(officer, make, admin_login, live_server):
    officer("Guild officers", "gm")
    user = make.discord_user("thrall")
    player = make.player("Thrall", discord_user=user, characters=[make.character("Thrall")])
    orphan = make.character("Bigtotem", addon_note="ask Thrall")
    page = admin_login("gm", "officer-pass-123")
    page.goto(f"{live_server.url}/admin/guildsync/wowcharacter/?linked=null")
    page.check(f"input[name=_selected_action][value='{orphan.pk}']")
    page.select_option("select[name=action]", "link_to_player")
    page.click("button[name=index]")
    page.wait_for_selector("text=Link characters to a player")
    page.click("#id_player + .select2")  # the player picker searches by name (admin autocomplete)
    page.fill(".select2-search__field", "Thrall")
    page.click(".select2-results__option:has-text('Thrall')")
    page.click("input[name=apply]")
    page.wait_for_selector("text=Linked 1 character to Thrall.")
    link = PlayerCharacter.objects.get(character=orphan)
    assert link.player == player and link.link_source == "manual"
    page.goto(f"{live_server.url}/admin/guildsync/wowcharacter/?linked=null")
    assert page.locator(f"input[name=_selected_action][value='{orphan.pk}']").count() == 0
