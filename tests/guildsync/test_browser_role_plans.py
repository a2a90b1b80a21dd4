"""Issue #14 point 3 walked in a real browser as a guildsync officer (the "Guild officers"
group, not a superuser): map guild ranks to Discord roles in the admin, let the integrity run
plan the role changes, open "Role changes" and apply them, and find them queued in the outbox."""

from __future__ import annotations

import pytest

from bot.models import OutboxMessage
from guildsync.models import RankRoleMapping, RoleChange
from guildsync.services import integrity_checker, role_plans
from tests.factories import GUILD_ROLE_IDS as ROLE_IDS
from tests.factories import guild_discord_roles as sync_roles
from tests.factories import mismatched_officer


def map_rank_in_admin(page, base_url: str, rank: str, role: str) -> None:
    """Add a Rank → Discord role mapping, picking the rank and the role by name (admin autocomplete)."""
    page.goto(f"{base_url}/admin/guildsync/rankrolemapping/add/")
    for field, name in (("rank", rank), ("role", role)):
        page.click(f"#id_{field} + .select2")
        page.fill(".select2-search__field", name)
        page.click(f".select2-results__option:text-is('{name}')")
    page.select_option("#id_mode", "planned")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was added successfully" in page.locator("ul.messagelist").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_maps_ranks_and_applies_the_planned_role_changes(officer, make, admin_login, live_server):
    officer("Guild officers", "gm")
    sync_roles()  # the Discord roles the last sync saw: the mapping picks from these
    user = mismatched_officer()  # an Officer in game, only a Member (and Raider) in Discord

    page = admin_login("gm", "officer-pass-123")
    map_rank_in_admin(page, live_server.url, "Officer", "Officer")
    map_rank_in_admin(page, live_server.url, "Member", "Member")
    listed = page.locator("#result_list").inner_text()
    assert str(ROLE_IDS["Officer"]) in listed and str(ROLE_IDS["Member"]) in listed  # stored by the role's id
    mappings = RankRoleMapping.objects.select_related("rank", "role")
    assert {(m.rank.name, m.role.discord_id, m.mode) for m in mappings} == {
        ("Officer", ROLE_IDS["Officer"], "planned"), ("Member", ROLE_IDS["Member"], "planned")}

    assert integrity_checker.run_integrity_check().role_changes["planned"] == 2  # the periodic run

    page.goto(f"{live_server.url}/admin/guildsync/rolechange/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    columns = ("member", "rank", "action", "role", "status")
    plan = {tuple(row.locator(f".field-{c}").inner_text() for c in columns) for row in rows.all()}
    assert plan == {("thrall", "Officer", "Add role", "Officer", "Planned"),
                    ("thrall", "Officer", "Remove role", "Member", "Planned")}
    page.check("#action-toggle")
    page.select_option("select[name=action]", "apply_selected")
    with page.expect_navigation():
        page.click("button[name=index]")

    messages = page.locator("ul.messagelist li.success").all_inner_texts()
    assert sorted(messages) == ["Add role Officer → thrall: queued.", "Remove role Member → thrall: queued."]
    assert set(page.locator("#result_list td.field-status").all_inner_texts()) == {"Queued (outbox)"}
    assert set(page.locator("#result_list td.field-applied_by_actor").all_inner_texts()) == {"gm"}

    outbox = OutboxMessage.objects.filter(topic=role_plans.TOPIC)
    assert {(m.kind, m.role_id, m.user_id) for m in outbox} == {
        ("add_role", ROLE_IDS["Officer"], user.discord_id), ("remove_role", ROLE_IDS["Member"], user.discord_id)}
    changes = RoleChange.objects.all()
    assert {(c.status, c.applied_by, c.outbox_id) for c in changes} == {
        (RoleChange.Status.QUEUED, "gm", m.pk) for m in outbox}
