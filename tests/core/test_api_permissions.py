"""Issue 12 defect 7: the API enforces scopes on API keys and Django permissions on sessions.

Every operation of the schema is listed in ENDPOINTS (a test checks the list is complete), and
each gets: a denial per officer group that lacks the permissions, a denial for a staff user
without permissions, a denial per missing scope, and the allowed paths (the Guild officers
group, a superuser, a key holding the scope).
"""

from __future__ import annotations

import importlib
import io
import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from core.groups import OFFICER_GROUPS
from core.models import APIKeyScopes
from core.services import create_api_key
from guildsync.models import IdentityChange, PlayerCharacter, SyncLog, WowCharacter

pytestmark = pytest.mark.django_db

# (method, path, the scope a key needs); path parameters are filled with 1
ENDPOINTS = [
    ("get", "/api/identity/players", "read"),
    ("get", "/api/identity/orphans/wow", "read"),
    ("get", "/api/identity/orphans/discord", "read"),
    ("get", "/api/identity/mismatches", "read"),
    ("post", "/api/identity/link", "write"),
    ("delete", "/api/identity/link/1", "write"),
    ("post", "/api/identity/run-matching", "write"),
    ("post", "/api/guild-sync/blizzard/trigger", "write"),
    ("post", "/api/guild-sync/discord/trigger", "write"),
    ("post", "/api/guild-sync/addon/upload", "upload"),
    ("get", "/api/guild-sync/sync-logs/1", "read"),
    ("get", "/api/guild-sync/status", "read"),
]
SCOPES = ("read", "write", "upload")
ALSO_ALLOWED = {"/api/guild-sync/sync-logs/1": "upload"}  # an upload key reads its own uploads' runs (404 others)
OTHER_GROUPS = [g for g in OFFICER_GROUPS if g != "Guild officers"]


def key_client(*scopes: str) -> APIClient:
    if scopes:
        _key, raw = create_api_key("tester", scopes)
    else:  # a key made outside create_api_key (e.g. the library's admin): no scope row
        _key, raw = APIKey.objects.create_key(name="bare")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def call(client: APIClient, method: str, path: str):
    return getattr(client, method)(path, format="json")


def nothing_written() -> bool:
    return not (PlayerCharacter.objects.exists() or IdentityChange.objects.exists()
                or SyncLog.objects.exists() or WowCharacter.objects.exists())


def test_defect7_endpoint_table_covers_every_operation_of_the_schema(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    documented = {(method, re.sub(r"\{[^}]+\}", "1", path)) for path, item in schema["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert documented == {(method, path) for method, path, _scope in ENDPOINTS}


@pytest.mark.parametrize("group", OTHER_GROUPS)
@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_officers_of_other_domains_are_denied(officer, group, method, path, scope):
    response = call(session_client(officer(group)), method, path)
    assert response.status_code == 403, response.content
    assert "lacks the permission" in response.json()["detail"]
    assert nothing_written()


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_staff_without_permissions_is_denied(django_user_model, method, path, scope):
    staff = django_user_model.objects.create_user("bare-staff", password="x", is_staff=True)
    assert call(session_client(staff), method, path).status_code == 403
    assert nothing_written()


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_a_member_with_the_permissions_but_no_staff_status_is_denied(officer, method, path, scope):
    user = officer("Guild officers", username="not-staff-any-more")
    user.is_staff = False
    user.save()
    assert call(session_client(user), method, path).status_code == 403


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_guild_officers_and_superusers_are_allowed(officer, admin_user, method, path, scope):
    for user in (officer("Guild officers"), admin_user):
        response = call(session_client(user), method, path)
        # allowed: the view answers (an empty body is a 400, link #1 a 404), never 401/403
        assert response.status_code not in (401, 403), (user, response.content)
        assert response["Content-Type"].startswith("application/json")


def test_defect7_one_missing_permission_is_enough_to_deny(officer):
    from django.contrib.auth.models import Permission

    user = officer("Guild officers")
    user.groups.clear()
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="guildsync", codename__in=["view_player", "view_playercharacter",
                                                           "view_wowcharacter"]))
    response = session_client(user).get("/api/identity/players")  # lacks view_discorduser
    assert response.status_code == 403 and "guildsync.view_discorduser" in response.json()["detail"]
    assert session_client(user).get("/api/identity/orphans/wow").status_code == 200


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_a_key_without_the_scope_is_denied(method, path, scope):
    also = ALSO_ALLOWED.get(path)
    others = [s for s in SCOPES if s not in (scope, also)]
    response = call(key_client(*others), method, path)
    assert response.status_code == 403
    wanted = f"'{scope}' or '{also}'" if also else f"'{scope}'"
    assert f"lacks the {wanted} scope" in response.json()["detail"]
    assert nothing_written()


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_a_key_with_the_scope_is_allowed(method, path, scope):
    response = call(key_client(scope), method, path)
    assert response.status_code not in (401, 403), response.content


@pytest.mark.parametrize("method,path,scope", ENDPOINTS)
def test_defect7_a_key_without_any_scope_row_is_denied(method, path, scope):
    response = call(key_client(), method, path)
    assert response.status_code == 403 and "(it has: none)" in response.json()["detail"]


def test_defect7_missing_or_wrong_key_is_401_not_403():
    client = APIClient()
    missing = client.get("/api/identity/players")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == "Api-Key"
    client.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert client.get("/api/identity/players").status_code == 401


def test_defect7_create_api_key_with_scopes_prints_the_key_once_and_stores_a_hash():
    out = io.StringIO()
    call_command("create_api_key", "addon companion", "--scope", "read", "--scope", "upload", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    api_key = APIKey.objects.get(name="addon companion")
    assert key.startswith(api_key.prefix + ".")
    assert key not in api_key.hashed_key and APIKey.objects.is_valid(key)
    assert api_key.scopes.names() == ["read", "upload"] and "read, upload" in out.getvalue()


@pytest.mark.parametrize("args,message", [
    ([], "at least one scope"),
    (["  "], "name that says who"),
    (["x" * 51], "50 characters"),
])
def test_defect7_create_api_key_refuses_without_scope_or_name(args, message):
    argv = (args or ["script"]) + ([] if not args else ["--scope", "read"])
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *argv, stdout=io.StringIO())
    assert not APIKey.objects.exists() and not APIKeyScopes.objects.exists()


def test_defect7_create_api_key_refuses_an_unknown_scope():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_api_key", "script", "--scope", "admin", stdout=io.StringIO())


def test_defect7_keys_older_than_scopes_keep_every_scope():
    """The documented default: the migration that introduced scopes gives existing keys all
    three, so the companion and scripts keep working."""
    _old, raw = APIKey.objects.create_key(name="from before scopes")
    migration = importlib.import_module("core.migrations.0002_api_key_scopes")
    migration.existing_keys_keep_every_scope(apps, None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get("/api/identity/players").status_code == 200
    assert APIKey.objects.get_from_key(raw).scopes.names() == ["read", "write", "upload"]


def test_defect7_the_key_admin_shows_each_keys_scopes(admin_client):
    create_api_key("companion", ["read", "upload"])
    APIKey.objects.create_key(name="made in the admin")
    page = admin_client.get("/admin/rest_framework_api_key/apikey/").content.decode()
    assert "read, upload" in page and "none (recreate it with create_api_key" in page
