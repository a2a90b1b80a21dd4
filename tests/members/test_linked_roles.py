"""Discord Linked Roles: the metadata registration and a member's role connection reach the fake
Discord REST API with bodies that pass Discord's validation (tests/fakes/discord_role_connections.py);
the sign-in asks for ``role_connections.write``, keeps the token encrypted and queues a push; a change
of link or rank queues another; pushes run as the worker's task, never in the request."""

from __future__ import annotations

import io

import pytest
import requests
from django.core.management import call_command

from core.models import PendingJob
from guildsync.models import RoleConnection
from guildsync.services import linked_roles
from guildsync.services.identity_links import link_character
from guildsync.tasks import push_role_connection_task
from tests import factories as f
from tests.members.conftest import MEMBER
from tests.members.test_me_page import member_sign_in

pytestmark = pytest.mark.django_db
APP = 1234567890  # DISCORD_CLIENT_ID of the discord_oauth fixture: the application id


@pytest.fixture
def linked(settings, fake_discord, discord_oauth):
    settings.DISCORD_LINKED_ROLES = True
    settings.FIELD_ENCRYPTION_KEY = "linked-roles-test-key"
    return fake_discord


def put(fake, path: str, body, auth: str):
    return requests.put(f"{fake.base_url}{path}", json=body, headers={"Authorization": auth}, timeout=5)


def test_the_fake_validates_like_discord(linked):
    bot = f"Bot {linked.token}"
    records = [dict(r) for r in linked_roles.METADATA]
    too_many = records + [{**records[0], "key": f"k{i}"} for i in range(3)]
    assert put(linked, f"/applications/{APP}/role-connections/metadata", too_many, bot).status_code == 400
    bad = put(linked, f"/applications/{APP}/role-connections/metadata", [{**records[0], "key": "Guild-Member"}], bot)
    assert bad.status_code == 400 and bad.json()["code"] == 50035 and "0.key" in bad.json()["errors"]
    long_name = [{**records[0], "name": "x" * 101}]
    assert put(linked, f"/applications/{APP}/role-connections/metadata", long_name, bot).status_code == 400
    assert put(linked, f"/applications/{APP}/role-connections/metadata", records, "Bot wrong").status_code == 401
    assert put(linked, f"/applications/{APP}/role-connections/metadata", records, bot).status_code == 200
    linked.grant_user_token("tok", 5, "identify role_connections.write")
    linked.grant_user_token("narrow", 5, "identify")
    path = f"/users/@me/applications/{APP}/role-connection"
    assert put(linked, path, {"metadata": {"guild_member": 1}}, "Bearer narrow").status_code == 401
    assert put(linked, path, {"metadata": {"unknown": 1}}, "Bearer tok").status_code == 400
    assert put(linked, path, {"platform_name": "x" * 51}, "Bearer tok").status_code == 400
    assert put(linked, path, {"metadata": {"guild_rank": "9" * 101}}, "Bearer tok").status_code == 400
    ok = put(linked, path, {"platform_name": "Guild Ops", "metadata": {"guild_rank": 2}}, "Bearer tok")
    assert ok.status_code == 200 and ok.json()["metadata"] == {"guild_rank": "2"}


def test_registration_reaches_discord(linked):
    out = io.StringIO()
    call_command("linked_roles_register", stdout=out)
    assert [r["key"] for r in linked.role_metadata[APP]] == ["guild_member", "guild_rank", "verified_main"]
    assert "registered guild_rank" in out.getvalue()


def test_sign_in_pushes_values_and_a_change_pushes_again(client, linked, discord_oauth):
    linked_roles.register_metadata()
    user = f.discord_user("lunara", discord_id=MEMBER.id)
    main = f.wow_character("Lunarah")
    f.player("Lunara", user, [main], main_character=main, source="battlenet")
    member_sign_in(client, discord_oauth)
    assert "role_connections.write" in discord_oauth.last_scope
    token = next(iter(discord_oauth.tokens))
    linked.grant_user_token(token, MEMBER.id, "identify role_connections.write")
    connection = RoleConnection.objects.get(discord_user=user)
    assert token not in connection.access_token  # kept encrypted
    jobs = PendingJob.objects.filter(task_name=linked_roles.PUSH_TASK)
    assert jobs.count() == 1 and jobs.get().args == [user.pk]
    assert (APP, MEMBER.id) not in linked.role_connections  # nothing pushed inside the request

    assert push_role_connection_task(user.pk) == "pushed"  # what the worker runs
    pushed = linked.role_connections[(APP, MEMBER.id)]
    assert pushed["metadata"] == {"guild_member": "1", "verified_main": "1"} and pushed["platform_username"] == "Lunarah"
    assert push_role_connection_task(user.pk) == "unchanged"
    card = client.get("/me/").content.decode()
    assert 'id="me-linked-roles"' in card and "Sent to Discord" in card and "guild member\n     <strong>yes" in card

    # an officer links a ranked character to them: a push is queued, and the rank reaches Discord
    ranked = f.wow_character("Moonpaw", guild_rank="Officer")
    PendingJob.objects.all().delete()
    link_character(ranked.pk, discord_id=MEMBER.id, actor="anna")
    assert PendingJob.objects.filter(task_name=linked_roles.PUSH_TASK, args=[user.pk]).exists()
    assert push_role_connection_task(user.pk) == "pushed"
    rank = ranked.guild_rank.blizzard_rank_index
    assert linked.role_connections[(APP, MEMBER.id)]["metadata"]["guild_rank"] == str(rank)

    # a token Discord no longer accepts is recorded, not retried forever
    linked.user_tokens.clear()
    RoleConnection.objects.filter(pk=connection.pk).update(pushed_values=None)
    assert push_role_connection_task(user.pk) == "refused"
    assert "Sign in again" in RoleConnection.objects.get(pk=connection.pk).last_error


def test_off_by_default(client, discord_oauth, settings):
    assert not settings.DISCORD_LINKED_ROLES
    f.discord_user("lunara", discord_id=MEMBER.id)
    member_sign_in(client, discord_oauth)
    assert not RoleConnection.objects.exists() and not PendingJob.objects.filter(task_name=linked_roles.PUSH_TASK)
