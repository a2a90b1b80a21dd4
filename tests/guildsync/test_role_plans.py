"""Guild ranks provisioned as Discord roles (issue #14 point 3): the pure diff, plans from the
integrity run, members who left, the admin action (and its denial), automatic mode, delivery
through bot/delivery against the fake Discord (10007, 50013), auto-resolve on the next
Discord sync, and two workers applying at once."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from bot.delivery import deliver_due
from bot.models import OutboxMessage
from guildsync.models import AuditIssue, DiscordRole, DiscordUser, GuildRankRole, RankRoleMapping, RoleChange
from guildsync.services import discord_sync, integrity_checker, pipeline, role_plans
from guildsync.services.common import GuildSyncError
from tests.factories import GUILD_ROLE_IDS as ROLE_IDS
from tests.factories import GUILD_ROLE_POSITION as POSITION
from tests.factories import guild_discord_roles as sync_roles
from tests.factories import mismatched_officer
from tests.fakes.discord_api import member_json
from tests.fakes.discord_gateway import role_json
from tests.guildsync.conftest import GUILD_ID

Status = RoleChange.Status
Mode = RankRoleMapping.Mode


# -- the pure diff -----------------------------------------------------------------------------
def test_diff_adds_the_ranks_role_and_removes_other_mapped_roles_only():
    mapped = {1: "Officer", 2: "Member", 3: "Veteran"}
    diff = role_plans.diff_member_roles(["member", "Raider", "Veteran"], 1, mapped)
    assert diff == role_plans.RoleDiff(add=(1,), remove=(2, 3))
    assert role_plans.diff_member_roles(["OFFICER", "Raider"], 1, mapped) == role_plans.RoleDiff()
    assert not role_plans.diff_member_roles(["Officer"], 1, mapped)


@given(held=st.lists(st.sampled_from(["Officer", "Member", "Veteran", "Raider", "Booster", "member"]), max_size=6),
       target=st.sampled_from([1, 2, 3]))
def test_diff_never_touches_unmapped_roles_and_ends_in_the_target(held, target):
    mapped = {1: "Officer", 2: "Member", 3: "Veteran"}
    diff = role_plans.diff_member_roles(held, target, mapped)
    assert set(diff.add) | set(diff.remove) <= set(mapped)
    after = ({n.casefold() for n in held} | {mapped[r].casefold() for r in diff.add}) - {
        mapped[r].casefold() for r in diff.remove}
    assert {mapped[r].casefold() for r in mapped} & after == {mapped[target].casefold()}
    assert {"raider", "booster"} & {n.casefold() for n in held} <= after  # unmapped roles stay


# -- set-up helpers ----------------------------------------------------------------------------
def map_ranks(roles, mode=Mode.PLANNED, names=("Officer", "Member")) -> None:
    for name in names:
        rank = GuildRankRole.objects.get(role_name=name).rank
        role_plans.save_rank_role_mapping(rank.pk, roles[name].pk, mode, actor="gm")


def planned_mismatch() -> tuple[dict[str, DiscordRole], DiscordUser]:
    """The Discord roles synced, Officer and Member mapped (planned), an officer who is only a
    Member in Discord, and the integrity run that plans their role changes."""
    roles = sync_roles()
    map_ranks(roles)
    user = mismatched_officer()
    integrity_checker.run_integrity_check()
    return roles, user


def planned_ids() -> list[int]:
    return list(RoleChange.objects.filter(status=Status.PLANNED).values_list("pk", flat=True))


def changes(**filters) -> set[tuple[str, str, str]]:
    return {(c.discord_user.username, c.action, c.role.name)
            for c in RoleChange.objects.filter(**filters).select_related("discord_user", "role")}


# -- mappings ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_mapping_constraints_one_role_per_rank_and_one_rank_per_role(make):
    roles = sync_roles()
    officer, member = make.rank("Officer"), make.rank("Member")
    mapping = role_plans.save_rank_role_mapping(officer.pk, roles["Officer"].pk, Mode.PLANNED, actor="gm")
    with pytest.raises(GuildSyncError, match="already mapped to Officer"):
        role_plans.save_rank_role_mapping(member.pk, roles["Officer"].pk, Mode.PLANNED, actor="gm")
    with pytest.raises(GuildSyncError, match="already mapped to Officer"):
        role_plans.save_rank_role_mapping(officer.pk, roles["Veteran"].pk, Mode.PLANNED, actor="gm")
    with pytest.raises(GuildSyncError, match="counts as Veteran"):  # "Veteran" is that rank's role name
        role_plans.save_rank_role_mapping(member.pk, roles["Veteran"].pk, Mode.PLANNED, actor="gm")
    # the mapping itself may be edited (mode), and the role's name counts for the rank
    role_plans.save_rank_role_mapping(officer.pk, roles["Officer"].pk, Mode.AUTOMATIC, actor="gm",
                                      mapping_id=mapping.pk)
    assert RankRoleMapping.objects.get().mode == Mode.AUTOMATIC
    raider = role_plans.save_rank_role_mapping(make.rank("Initiate").pk, roles["Raider"].pk, Mode.OFF, actor="gm")
    assert GuildRankRole.objects.filter(rank=raider.rank, role_name="Raider").exists()


@pytest.mark.django_db
def test_role_sync_marks_deleted_roles_and_follows_renames_of_mapped_roles():
    roles = sync_roles()
    map_ranks(roles, names=("Officer",))
    payload = [role_json(i, "Council" if name == "Officer" else name, 0, POSITION[name]) for name, i in ROLE_IDS.items()
               if name != "Raider"]
    stats = discord_sync.sync_discord_roles(payload)
    assert stats.deleted == 1 and stats.renamed_rank_roles == ["Officer → Council"]
    assert not DiscordRole.objects.get(discord_id=ROLE_IDS["Raider"]).is_present
    assert GuildRankRole.objects.filter(rank__name="Officer", role_name="Council").exists()


# -- plans from the integrity run --------------------------------------------------------------
@pytest.mark.django_db
def test_integrity_run_plans_changes_once_for_mapped_ranks_only(make):
    roles = sync_roles()
    map_ranks(roles)  # Officer and Member mapped; Veteran, Raider not
    mismatched_officer(roles=("Member", "Veteran", "Raider"))
    veteran_user = make.discord_user("jaina", role="Member")
    make.player("Jaina", discord_user=veteran_user, characters=[make.character("Jaina", guild_rank="Veteran")])
    result = integrity_checker.run_integrity_check()
    assert result.role_changes["planned"] == 2
    # add Officer, remove the other *mapped* role (Member); Veteran is unmapped and stays
    assert changes() == {("thrall", "add", "Officer"), ("thrall", "remove", "Member")}
    assert changes(status=Status.PLANNED) == changes()
    issue = AuditIssue.objects.get(issue_type="rank_mismatch", player__display_name="Thrall")
    assert set(issue.role_changes.values_list("action", flat=True)) == {"add", "remove"}
    # Jaina's rank (Veteran) is not mapped: her mismatch plans nothing
    assert AuditIssue.objects.filter(issue_type="rank_mismatch", resolved_at__isnull=True).count() == 2
    again = integrity_checker.run_integrity_check()
    assert again.role_changes["planned"] == 0 and RoleChange.objects.count() == 2


@pytest.mark.django_db
def test_mode_off_plans_nothing():
    roles = sync_roles()
    map_ranks(roles, mode=Mode.OFF)
    mismatched_officer()
    integrity_checker.run_integrity_check()
    assert not RoleChange.objects.exists()


@pytest.mark.django_db
def test_db_refuses_a_second_plan_row_for_one_issue_and_role():
    planned_mismatch()
    first = RoleChange.objects.filter(action="add").get()
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        RoleChange.objects.create(issue=first.issue, discord_user=first.discord_user, rank=first.rank,
                                  role=first.role, action="add")


# -- members who left --------------------------------------------------------------------------
@pytest.mark.django_db
def test_member_who_left_before_applying_is_skipped_and_recorded():
    _, user = planned_mismatch()
    discord_sync.on_member_remove(user.discord_id)
    applied = role_plans.apply_role_changes(planned_ids(), actor="gm")
    assert {a.status for a in applied} == {Status.SKIPPED}
    assert all("left the Discord server" in a.message for a in applied)
    assert not OutboxMessage.objects.exists()
    assert set(RoleChange.objects.values_list("status", flat=True)) == {Status.SKIPPED}
    # the next integrity run closes the mismatch (the member is gone) and plans nothing new
    integrity_checker.run_integrity_check()
    assert RoleChange.objects.count() == 2 and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_member_who_left_before_the_integrity_run_drops_the_plan():
    _, user = planned_mismatch()
    discord_sync.on_member_remove(user.discord_id)
    result = integrity_checker.run_integrity_check()
    assert result.role_changes["dropped"] == 2
    assert set(RoleChange.objects.values_list("outcome", flat=True)) == {
        "Not applied: the mismatch was gone first."}


# -- delivery through the outbox, auto-resolve -------------------------------------------------
def _server(discord_guild, users, *, top: int | None = None) -> None:
    discord_guild.guild_roles[GUILD_ID] = [role_json(i, name, 0, position=POSITION[name]) for name, i in ROLE_IDS.items()]
    discord_guild.members[GUILD_ID] = [
        member_json(u.discord_id, u.username, roles=[ROLE_IDS["Member"], ROLE_IDS["Raider"]]) for u in users]
    if top is not None:
        discord_guild.bot_top_position[GUILD_ID] = top


@pytest.mark.django_db
def test_applied_plan_is_delivered_and_the_next_discord_sync_resolves_the_issue(discord_guild):
    roles = sync_roles()
    map_ranks(roles)
    user = mismatched_officer()
    _server(discord_guild, [user])
    integrity_checker.run_integrity_check()
    with transaction.atomic():
        applied = role_plans.apply_role_changes(planned_ids(), actor="gm")
    assert all(a.queued for a in applied) and len(applied) == 2
    rows = OutboxMessage.objects.filter(topic=role_plans.TOPIC)
    assert {(r.kind, r.role_id, r.user_id) for r in rows} == {
        ("add_role", ROLE_IDS["Officer"], user.discord_id), ("remove_role", ROLE_IDS["Member"], user.discord_id)}
    assert set(RoleChange.objects.values_list("status", flat=True)) == {Status.QUEUED}
    report = deliver_due()
    assert report.sent == 2, report.errors
    assert discord_guild.roles[(GUILD_ID, user.discord_id)] == {ROLE_IDS["Officer"]}
    assert set(RoleChange.objects.values_list("status", flat=True)) == {Status.DONE}
    # the Raider role (unmapped) was never touched: the member list still shows it
    [listed] = discord_guild.members[GUILD_ID]
    assert set(map(int, listed["roles"])) == {ROLE_IDS["Officer"], ROLE_IDS["Raider"]}
    issue = AuditIssue.objects.get(issue_type="rank_mismatch")
    assert issue.resolved_at is None  # not before Discord's own list shows the roles
    result = pipeline.run_discord_sync("test")
    assert result.steps == ["sync", "check"]
    issue.refresh_from_db()
    assert issue.resolution == AuditIssue.Resolution.AUTO
    user.refresh_from_db()
    assert user.highest_guild_role == "Officer"


@pytest.mark.django_db
def test_unknown_member_is_skipped_and_missing_permissions_fails_with_why(discord_guild):
    roles = sync_roles()
    map_ranks(roles)
    gone = mismatched_officer(username="thrall")
    stays = mismatched_officer(username="varian")
    _server(discord_guild, [stays], top=7)  # thrall left Discord; the bot's role (7) sits below Officer (8)…
    integrity_checker.run_integrity_check()
    with transaction.atomic():
        role_plans.apply_role_changes(planned_ids(), actor="gm")
    deliver_due()
    by = {(c.discord_user.username, c.action): c for c in RoleChange.objects.select_related("discord_user")}
    assert {by["thrall", a].status for a in ("add", "remove")} == {Status.SKIPPED}
    assert "10007 Unknown Member" in by["thrall", "add"].outcome
    # … so adding Officer is refused, removing Member (6, below the bot) is done
    assert by["varian", "remove"].status == Status.DONE
    assert by["varian", "add"].status == Status.FAILED
    assert "Missing Permissions" in by["varian", "add"].outcome and "50013" in by["varian", "add"].outcome
    # never retried: the outbox rows failed for good after one attempt each
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
    assert failed.count() == 3 and set(failed.values_list("attempts", flat=True)) == {1}
    assert deliver_due().claimed == 0
    assert gone.discord_id not in {u for _g, u in discord_guild.roles}


# -- automatic mode ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_automatic_mapping_queues_the_plan_right_after_the_integrity_run(discord_guild):
    roles = sync_roles()
    map_ranks(roles, mode=Mode.AUTOMATIC)
    user = mismatched_officer()
    _server(discord_guild, [user])
    result = integrity_checker.run_integrity_check()
    assert result.role_changes == {"planned": 2, "queued": 2, "dropped": 0}
    assert set(RoleChange.objects.values_list("status", "applied_by")) == {(Status.QUEUED, "automatic")}
    assert OutboxMessage.objects.filter(topic=role_plans.TOPIC).count() == 2
    assert integrity_checker.run_integrity_check().role_changes["queued"] == 0
    deliver_due()
    assert discord_guild.roles[(GUILD_ID, user.discord_id)] == {ROLE_IDS["Officer"]}


# -- the admin ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_officer_sees_the_plan_and_applies_it_with_one_action(officer, client):
    planned_mismatch()
    client.force_login(officer("Guild officers", "gm"))
    page = client.get("/admin/guildsync/rolechange/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "thrall" in body and "Add role" in body and "Remove role" in body and "Officer" in body
    ids = list(RoleChange.objects.values_list("pk", flat=True))
    response = client.post("/admin/guildsync/rolechange/", {"action": "apply_selected",
                                                             ACTION_CHECKBOX_NAME: ids}, follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert len(texts) == 2 and all("queued" in t for t in texts)
    assert set(RoleChange.objects.values_list("status", "applied_by")) == {(Status.QUEUED, "gm")}
    assert OutboxMessage.objects.count() == 2
    # applying again queues nothing more
    response = client.post("/admin/guildsync/rolechange/", {"action": "apply_selected",
                                                             ACTION_CHECKBOX_NAME: ids}, follow=True)
    assert all("already queued" in str(m) for m in response.context["messages"])
    assert OutboxMessage.objects.count() == 2
    # the issue page shows the outcome
    issue = AuditIssue.objects.get(issue_type="rank_mismatch")
    assert "Queued for Discord." in client.get(f"/admin/guildsync/auditissue/{issue.pk}/change/").content.decode()


@pytest.mark.django_db
def test_view_only_staff_sees_the_plan_but_cannot_apply_it(django_user_model, client):
    planned_mismatch()
    viewer = django_user_model.objects.create_user("viewer", password="x-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_rolechange"))
    client.force_login(viewer)
    page = client.get("/admin/guildsync/rolechange/")
    assert page.status_code == 200 and "apply_selected" not in page.content.decode()
    ids = list(RoleChange.objects.values_list("pk", flat=True))
    client.post("/admin/guildsync/rolechange/", {"action": "apply_selected", ACTION_CHECKBOX_NAME: ids})
    assert set(RoleChange.objects.values_list("status", flat=True)) == {Status.PLANNED}
    assert not OutboxMessage.objects.exists()
    assert client.get("/admin/guildsync/rankrolemapping/").status_code == 403


@pytest.mark.django_db
def test_officer_maps_a_rank_in_the_admin_and_a_clash_is_a_form_error(make, officer, client):
    roles = sync_roles()
    client.force_login(officer("Guild officers", "gm"))
    officer_rank, member_rank = make.rank("Officer"), make.rank("Member")
    url = "/admin/guildsync/rankrolemapping/add/"
    response = client.post(url, {"rank": officer_rank.pk, "role": roles["Officer"].pk, "mode": "automatic"})
    assert response.status_code == 302
    mapping = RankRoleMapping.objects.get()
    assert (mapping.rank, mapping.role.discord_id, mapping.mode, mapping.updated_by) == (
        officer_rank, ROLE_IDS["Officer"], "automatic", "gm")
    assert str(ROLE_IDS["Officer"]) in client.get("/admin/guildsync/rankrolemapping/").content.decode()
    response = client.post(url, {"rank": member_rank.pk, "role": roles["Officer"].pk, "mode": "planned"})
    assert response.status_code == 200 and RankRoleMapping.objects.count() == 1


# -- two workers at once -----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_parallel_apply_queues_each_change_once(run_in_parallel):
    roles = sync_roles()
    map_ranks(roles)
    for i in range(5):
        mismatched_officer(username=f"member{i}")
    integrity_checker.run_integrity_check()
    ids = list(RoleChange.objects.values_list("pk", flat=True))
    assert len(ids) == 10
    results = run_in_parallel(lambda i: role_plans.apply_role_changes(ids, actor=f"worker{i}"), 4)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert sum(a.queued for r in results for a in r) == 10
    assert OutboxMessage.objects.count() == 10
    assert set(RoleChange.objects.values_list("status", flat=True)) == {Status.QUEUED}
    assert RoleChange.objects.filter(outbox__isnull=True).count() == 0


# -- the demo ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_seed_demo_shows_a_role_plan():
    import io

    from guildsync.demo import seed_demo

    seed_demo(io.StringIO())
    assert RankRoleMapping.objects.filter(mode=Mode.PLANNED).count() == 2
    planned = changes(status=Status.PLANNED)
    assert {(action, role) for _user, action, role in planned} == {("add", "Veteran"), ("remove", "Member")}
    seed_demo(io.StringIO())  # idempotent
    assert changes(status=Status.PLANNED) == planned and RankRoleMapping.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["rolechange", "rankrolemapping", "discordrole"])
def test_role_pages_for_officers_only_and_without_n_plus_1(model, officer, client,
                                                          django_assert_max_num_queries):
    roles = sync_roles()
    map_ranks(roles)
    for i in range(8):
        mismatched_officer(username=f"member{i}")
    integrity_checker.run_integrity_check()
    client.force_login(officer("Economy moderators", "moderator"))
    assert client.get(f"/admin/guildsync/{model}/").status_code == 403
    client.force_login(officer("Guild officers", "gm"))
    with django_assert_max_num_queries(12):
        assert client.get(f"/admin/guildsync/{model}/").status_code == 200


@pytest.mark.django_db
def test_role_picker_offers_live_assignable_roles_only(officer, client):
    sync_roles()
    discord_sync.sync_discord_roles([*(role_json(i, n, 0, POSITION[n]) for n, i in ROLE_IDS.items() if n != "Raider"),
                                     {**role_json(900, "Guild Ops", 0, 9), "managed": True}])
    client.force_login(officer("Guild officers", "gm"))
    answer = client.get("/admin/autocomplete/", {"app_label": "guildsync", "model_name": "rankrolemapping",
                                                 "field_name": "role", "term": ""})
    names = {r["text"] for r in answer.json()["results"]}
    assert names == {"Guild Leader", "Officer", "Veteran", "Member", "Initiate"}  # not deleted, not managed


@pytest.mark.django_db
def test_a_planned_add_of_a_role_the_rank_no_longer_maps_is_skipped():
    roles, _ = planned_mismatch()
    mapping = RankRoleMapping.objects.get(rank__name="Officer")
    role_plans.save_rank_role_mapping(mapping.rank_id, roles["Raider"].pk,
                                      Mode.PLANNED, actor="gm", mapping_id=mapping.pk)
    with transaction.atomic():
        applied = {a.change.action: a for a in role_plans.apply_role_changes(planned_ids(), actor="gm")}
    assert applied["add"].status == Status.SKIPPED and "mapped to another role" in applied["add"].message
    assert applied["remove"].queued
