"""The guild-sync API: auth, identity reads without N+1, links, triggers, upload end-to-end."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.services import create_api_key
from guildsync.models import AuditIssue, Player, PlayerCharacter, SyncLog, WowCharacter
from tests.guildsync.test_scheduler import addon_member, upload_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    _key, raw = create_api_key("companion", ["read", "write", "upload"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.mark.parametrize("url,method", [
    ("/api/identity/players", "get"), ("/api/identity/orphans/wow", "get"), ("/api/identity/link", "post"),
    ("/api/guild-sync/addon/upload", "post"), ("/api/guild-sync/status", "get"),
])
def test_missing_or_wrong_key_is_401(url, method):
    client = APIClient()
    assert getattr(client, method)(url).status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Api-Key wrong.key")
    assert getattr(client, method)(url).status_code == 401


def test_non_staff_session_is_denied(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("member", password="x"))
    assert client.get("/api/identity/players").status_code == 403


def test_players_without_n_plus_1(api, make, django_assert_max_num_queries):
    for i in range(15):
        user = make.discord_user(f"user{i}")
        make.player(f"P{i}", discord_user=user, characters=[make.character(f"Main{i}", guild_rank="Member"),
                                                             make.character(f"Alt{i}")])
    with django_assert_max_num_queries(6):
        response = api.get("/api/identity/players")
    assert response.status_code == 200 and response.data["count"] == 15
    first = response.data["results"][0]
    assert first["discord_user"]["username"] == "user0" and len(first["characters"]) == 2


def test_orphans_and_mismatches(api, make):
    make.character("Lonely")
    make.discord_user("nochars")
    user = make.discord_user("thrall", role="Member")
    make.player("Thrall", discord_user=user, characters=[make.character("Thrall", guild_rank="Officer")])
    assert [c["character_name"] for c in api.get("/api/identity/orphans/wow").data["results"]] == ["Lonely"]
    assert [u["username"] for u in api.get("/api/identity/orphans/discord").data["results"]] == ["nochars"]
    [mismatch] = api.get("/api/identity/mismatches").data
    assert mismatch["ingame_rank"] == "Officer" and mismatch["discord_role"] == "Member"


def test_link_and_unlink(api, make):
    char = make.character("Lonely")
    user = make.discord_user("lonelyhearts")
    response = api.post("/api/identity/link", {"character_id": char.pk, "discord_user_id": user.pk}, format="json")
    assert response.status_code == 201 and response.data["link_source"] == "manual"
    assert Player.objects.get().discord_user == user
    bad = api.post("/api/identity/link", {"character_id": char.pk, "player_id": 999999}, format="json")
    assert bad.status_code == 404 and "does not exist" in bad.data["detail"]
    assert api.post("/api/identity/link", {"character_id": "x"}, format="json").status_code == 400
    assert api.delete(f"/api/identity/link/{response.data['id']}").status_code == 204
    assert api.delete(f"/api/identity/link/{response.data['id']}").status_code == 404
    assert not PlayerCharacter.objects.exists()


BIG_SNOWFLAKE = 1_234_567_890_123_456_789  # above 2**53: a JavaScript number would round it


def test_snowflakes_are_strings_and_accepted_as_strings(api, make):
    user = make.discord_user("bigid", discord_id=BIG_SNOWFLAKE, role="Member")
    make.player("Big", discord_user=user, characters=[make.character("Big", guild_rank="Officer")])
    [player] = api.get("/api/identity/players").data["results"]
    assert player["discord_user"]["discord_id"] == str(BIG_SNOWFLAKE)
    [mismatch] = api.get("/api/identity/mismatches").data
    assert mismatch["discord_id"] == str(BIG_SNOWFLAKE)
    newcomer = make.discord_user("newcomer", discord_id=BIG_SNOWFLAKE + 1)
    assert api.get("/api/identity/orphans/discord").json()["results"][0]["discord_id"] == str(BIG_SNOWFLAKE + 1)
    char = make.character("Newalt")
    response = api.post("/api/identity/link", {"character_id": str(char.pk), "discord_id": str(BIG_SNOWFLAKE + 1)},
                        format="json")
    assert response.status_code == 201, response.data
    assert Player.objects.get(discord_user=newcomer).character_links.get().character == char
    unknown = api.post("/api/identity/link", {"character_id": char.pk, "discord_id": "42"}, format="json")
    assert unknown.status_code == 404 and "not known here" in unknown.data["detail"]
    assert api.post("/api/identity/link", {"character_id": char.pk, "discord_id": "12ab"},
                    format="json").status_code == 400
    both = api.post("/api/identity/link", {"character_id": char.pk, "player_id": 1, "discord_id": "42"},
                    format="json")
    assert both.status_code == 400 and "either a player or a Discord user" in both.data["detail"]


def test_run_matching(api, make):
    make.character("Thrall")
    make.discord_user("thrall")
    response = api.post("/api/identity/run-matching")
    assert response.status_code == 200 and response.data["result"]["links_created"] == 1
    assert SyncLog.objects.get(pk=response.data["sync_log_id"]).source == "matching"


def test_triggers_queue_tasks(api):
    for url in ("/api/guild-sync/blizzard/trigger", "/api/guild-sync/discord/trigger"):
        response = api.post(url)
        assert response.status_code == 202 and response.data["task_id"]


def test_status(api, make):
    make.character("Lonely")
    api.post("/api/identity/run-matching")
    response = api.get("/api/guild-sync/status")
    assert response.status_code == 200
    assert response.data["last_runs"]["matching"]["status"] == "success"
    assert response.data["counts"]["characters"] == 1


def test_upload_multipart_end_to_end(api, make):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make.discord_user("thrallfan")
    text = upload_text([addon_member("Bigtotem", note="Discord: thrallfan"), addon_member("Lonely")])
    response = api.post("/api/guild-sync/addon/upload",
                        {"file": SimpleUploadedFile("GuildSync.lua", text.encode(), "text/plain")},
                        format="multipart")
    assert response.status_code == 200, response.data
    assert response.data["stats"]["created"] == 2 and response.data["steps"][:3] == ["sync", "match", "check"]
    assert SyncLog.objects.get(pk=response.data["sync_log_id"]).source == "addon"
    assert WowCharacter.objects.get(character_name="Bigtotem").addon_note == "Discord: thrallfan"
    assert AuditIssue.objects.filter(issue_type="orphan_wow").count() == 1


def test_upload_with_a_staff_session(officer):
    client = APIClient()
    client.force_login(officer("Guild officers", username="officer"))
    text = upload_text([addon_member("Lonely")])
    response = client.generic("POST", "/api/guild-sync/addon/upload", text.encode(), content_type="text/plain")
    assert response.status_code == 200
    assert SyncLog.objects.get(pk=response.data["sync_log_id"]).triggered_by == "officer"


@pytest.mark.parametrize("header", [None, "Api-Key wrong.key", "Bearer abc"])
def test_upload_without_a_valid_key_is_401_and_writes_nothing(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    text = upload_text([addon_member("Lonely")])
    assert client.generic("POST", "/api/guild-sync/addon/upload", text.encode(),
                          content_type="text/plain").status_code == 401
    assert not WowCharacter.objects.exists() and not SyncLog.objects.exists()


def test_upload_by_a_non_staff_session_is_403(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("member", password="x"))
    text = upload_text([addon_member("Lonely")])
    assert client.generic("POST", "/api/guild-sync/addon/upload", text.encode(),
                          content_type="text/plain").status_code == 403
    assert not WowCharacter.objects.exists()


def test_upload_raw_body(api):
    text = upload_text([addon_member("Lonely", officer="officer text")])
    response = api.generic("POST", "/api/guild-sync/addon/upload", text.encode(), content_type="text/plain")
    assert response.status_code == 200
    assert WowCharacter.objects.get().addon_officer_note == "officer text"


def test_upload_parse_error_400_with_position_and_nothing_written(api):
    text = 'GuildSyncDB = {\n["formatVersion"] = 1,\n["guilds"] = {oops\n'
    response = api.generic("POST", "/api/guild-sync/addon/upload", text.encode(), content_type="text/plain")
    assert response.status_code == 400
    assert response.data["line"] == 3 and response.data["column"] and "line 3" in response.data["detail"]
    assert not SyncLog.objects.exists() and not WowCharacter.objects.exists()


def test_upload_not_our_addon_400(api):
    response = api.generic("POST", "/api/guild-sync/addon/upload", b'Other = {1, 2}', content_type="text/plain")
    assert response.status_code == 400 and "GuildSync" in response.data["detail"]


def test_upload_too_large_413(api, settings):
    settings.ADDON_UPLOAD_MAX_BYTES = 2048
    text = upload_text([addon_member(f"Char{i}", note="x" * 50) for i in range(60)])
    raw = api.generic("POST", "/api/guild-sync/addon/upload", text.encode(), content_type="text/plain")
    assert raw.status_code == 413
    from django.core.files.uploadedfile import SimpleUploadedFile

    multi = api.post("/api/guild-sync/addon/upload",
                     {"file": SimpleUploadedFile("GuildSync.lua", text.encode())}, format="multipart")
    assert multi.status_code == 413
    # a file just over the limit, inside a multipart body (refused after parsing, not by length)
    settings.ADDON_UPLOAD_MAX_BYTES = len(text.encode()) - 1
    multi = api.post("/api/guild-sync/addon/upload",
                     {"file": SimpleUploadedFile("GuildSync.lua", text.encode())}, format="multipart")
    assert multi.status_code == 413 and "ADDON_UPLOAD_MAX_BYTES" in multi.data["detail"]
    assert not WowCharacter.objects.exists() and not SyncLog.objects.exists()


def test_oversized_multipart_body_is_refused_before_it_is_read(api, settings, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.request import Request

    settings.ADDON_UPLOAD_MAX_BYTES = 2048
    text = upload_text([addon_member(f"Char{i}", note="x" * 200) for i in range(400)])
    assert len(text) > 2048 + 64 * 1024

    def no_parsing(self):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(Request, "FILES", property(no_parsing))
    response = api.post("/api/guild-sync/addon/upload",
                        {"file": SimpleUploadedFile("GuildSync.lua", text.encode())}, format="multipart")
    assert response.status_code == 413 and not WowCharacter.objects.exists()


def test_upload_bigger_than_djangos_memory_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    text = upload_text([addon_member(f"Char{i}", note="x" * 50) for i in range(60)])
    raw = api.generic("POST", "/api/guild-sync/addon/upload", text.encode(), content_type="text/plain")
    assert raw.status_code == 413
    assert not WowCharacter.objects.exists()


def test_openapi_schema_documents_the_routes(admin_client):
    response = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"] if "json" in response["Content-Type"] else response.content.decode()
    for route in ("/api/identity/players", "/api/identity/link/{link_id}", "/api/guild-sync/addon/upload",
                  "/api/guild-sync/status", "/api/identity/mismatches"):
        assert route in paths


def test_orphan_lists_without_n_plus_1(api, make, django_assert_max_num_queries):
    from guildsync.models import Specialization

    spec = Specialization.objects.get(blizzard_id=250)
    for i in range(20):
        make.character(f"Orphan{i}", wow_class=spec.wow_class, active_spec=spec, guild_rank="Member")
        make.discord_user(f"lonely{i}")
    with django_assert_max_num_queries(4):
        wow = api.get("/api/identity/orphans/wow")
    with django_assert_max_num_queries(4):
        discord = api.get("/api/identity/orphans/discord")
    assert wow.data["count"] == 20 and wow.data["results"][0]["active_spec"] == "Blood"
    assert discord.data["count"] == 20


def test_upload_the_server_cannot_place_is_400_and_writes_no_character(api, settings):
    settings.BLIZZARD_REALM_SLUG = ""
    member = addon_member("Nowhere")
    del member["realm"]  # and the export names no home realm either
    text = upload_text([addon_member("Fine"), member])
    response = api.generic("POST", "/api/guild-sync/addon/upload", text.encode(), content_type="text/plain")
    assert response.status_code == 400 and "has no realm" in response.data["detail"]
    assert not WowCharacter.objects.exists()
    assert list(SyncLog.objects.values_list("source", "status")) == [("addon", "failed")]  # the attempt is logged


# -- issue 12 defect 8: API robustness ----------------------------------------------------------
LISTS = ["/api/identity/players", "/api/identity/orphans/wow", "/api/identity/orphans/discord"]


@pytest.mark.parametrize("url", LISTS)
def test_defect8_huge_limit_is_capped_not_a_500(api, make, url, settings):
    settings.API_MAX_PAGE_SIZE = 2
    for i in range(3):
        make.character(f"Lonely{i}")
        make.discord_user(f"nobody{i}")
        make.player(f"P{i}")
    response = api.get(url, {"limit": "99999999999999999999"})
    assert response.status_code == 200 and len(response.json()["results"]) == 2
    assert api.get(url, {"limit": "9" * 5000}).status_code == 200  # beyond int()'s digit limit


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("query", [{"offset": "null"}, {"offset": "-1"}, {"offset": "99999999999999999999"},
                                   {"limit": "0"}, {"limit": "ten"}, {"offset": "1e3"}])
def test_defect8_offset_null_and_other_bad_paging_is_a_400(api, url, query):
    response = api.get(url, query)
    assert response.status_code == 400
    [name] = query
    assert name in response.json()["detail"] and name in response.json()["fields"]


def test_defect8_unlink_moves_the_main_to_another_character_of_the_player(api, make):
    main, alt, old = make.character("Main", level=80), make.character("Alt", level=70), make.character("Old", level=80)
    WowCharacter.objects.filter(pk=old.pk).update(removed_at=old.last_api_sync)
    player = make.player("P", characters=[main, alt, old], main_character=main)
    assert api.delete(f"/api/identity/link/{main.player_link.pk}").status_code == 204
    player.refresh_from_db()
    assert player.main_character == alt  # still in the guild beats a departed one of higher level
    api.delete(f"/api/identity/link/{alt.player_link.pk}")
    api.delete(f"/api/identity/link/{old.player_link.pk}")
    player.refresh_from_db()
    assert player.main_character is None


def test_defect8_moving_a_main_keeps_both_players_consistent(api, make):
    from guildsync.services.identity_links import check_player

    main, alt = make.character("Main"), make.character("Alt")
    first = make.player("First", characters=[main, alt], main_character=main)
    second = make.player("Second")
    response = api.post("/api/identity/link", {"character_id": main.pk, "player_id": second.pk}, format="json")
    assert response.status_code == 201
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.main_character == alt and second.main_character == main
    check_player(first)  # raised "belongs to Second" before the fix
    check_player(second)


def test_defect8_link_and_unlink_are_audited_with_the_key_or_the_user(api, make, officer):
    from guildsync.models import IdentityChange

    char, user = make.character("Lonely"), make.discord_user("lonelyhearts")
    other = make.player("Other")
    link = api.post("/api/identity/link", {"character_id": char.pk, "discord_user_id": user.pk}, format="json")
    session = APIClient()
    session.force_login(officer("Guild officers", username="thrall"))
    assert session.post("/api/identity/link", {"character_id": char.pk, "player_id": other.pk},
                        format="json").status_code == 201
    assert api.delete(f"/api/identity/link/{link.data['id']}").status_code == 204
    trail = list(IdentityChange.objects.order_by("pk").values_list("action", "actor", "character_id"))
    assert trail == [("link", "api-key:companion", char.pk), ("move", "thrall", char.pk),
                     ("unlink", "api-key:companion", char.pk)]
    assert IdentityChange.objects.get(action="move").previous_player.discord_user == user


def test_defect8_a_refused_write_is_not_audited_and_writes_nothing(api, make):
    from guildsync.models import IdentityChange

    char = make.character("Lonely")
    assert api.post("/api/identity/link", {"character_id": char.pk, "player_id": 424242},
                    format="json").status_code == 404
    assert api.delete("/api/identity/link/424242").status_code == 404
    assert not IdentityChange.objects.exists() and not PlayerCharacter.objects.exists()


@pytest.mark.parametrize("body", [{"character_id": "x"}, {}, [], {"character_id": 1, "player_id": None},
                                  {"character_id": 2**63, "player_id": 1}])
def test_defect8_400_bodies_are_detail_shaped(api, body):
    response = api.post("/api/identity/link", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert isinstance(data["detail"], str) and data["detail"]


def test_defect8_malformed_json_is_a_detail_shaped_400(api):
    response = api.generic("POST", "/api/identity/link", b"{nope", content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.json()["detail"]


def test_defect8_player_without_discord_user_matches_the_schema(api, make, admin_client):
    make.player("No discord", characters=[make.character("Solo")])
    [player] = api.get("/api/identity/players").json()["results"]
    assert player["discord_user"] is None
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    discord_user = schema["components"]["schemas"]["Player"]["properties"]["discord_user"]
    assert discord_user.get("nullable") or any(s.get("nullable") for s in discord_user.get("allOf", []))


def test_defect8_exactly_one_link_target_in_the_schema_and_enforced(api, make, admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    link_request = schema["components"]["schemas"]["LinkRequest"]
    assert link_request["oneOf"] == [{"required": ["player_id"]}, {"required": ["discord_user_id"]},
                                     {"required": ["discord_id"]}]
    char, user = make.character("Lonely"), make.discord_user("lonelyhearts")
    player = make.player("P")
    for body in ({"character_id": char.pk},
                 {"character_id": char.pk, "player_id": player.pk, "discord_user_id": user.pk},
                 {"character_id": char.pk, "discord_user_id": user.pk, "discord_id": str(user.discord_id)}):
        response = api.post("/api/identity/link", body, format="json")
        assert response.status_code == 400 and "exactly one of" in response.json()["detail"]
    assert not PlayerCharacter.objects.exists()


@pytest.mark.parametrize("path", ["/api/identity/link/abc", "/api/identity/link/1.5", "/api/nope",
                                  "/api/identity/link/99999999999999999999"])
def test_defect8_a_non_integer_or_unknown_id_is_a_json_404(api, path):
    response = api.delete(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]


def test_defect8_triggers_are_throttled_per_key(api, settings):
    settings.API_THROTTLE_RATES = {"sync-trigger": "3/minute"}
    codes = [api.post("/api/guild-sync/discord/trigger").status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    response = api.post("/api/guild-sync/blizzard/trigger")
    assert response.status_code == 429 and "throttled" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    _key, raw = create_api_key("another script", ["write"])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert other.post("/api/guild-sync/discord/trigger").status_code == 202  # counted per key


def test_defect8_a_trigger_while_the_job_is_queued_or_running_coalesces(api):
    from django.utils import timezone

    from guildsync.models import SyncLock
    from guildsync.services import pipeline

    first = api.post("/api/guild-sync/blizzard/trigger").json()
    again = api.post("/api/guild-sync/blizzard/trigger").json()
    assert first["status"] == "queued" and again == {"task_id": first["task_id"], "status": "coalesced"}
    assert api.post("/api/guild-sync/discord/trigger").json()["status"] == "queued"  # another job
    pipeline.finish_trigger("blizzard", first["task_id"])  # the queued run ended
    # a scheduled run in progress (it holds the run lock, not the trigger): nothing is queued
    SyncLock.objects.filter(name="pipeline_blizzard").update(
        locked_until=timezone.now() + timezone.timedelta(minutes=5), holder="beat")
    assert api.post("/api/guild-sync/blizzard/trigger").json() == {"task_id": None, "status": "coalesced"}
    SyncLock.objects.filter(name="pipeline_blizzard").update(locked_until=None, holder="")
    assert api.post("/api/guild-sync/blizzard/trigger").json()["status"] == "queued"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_defect8_fifty_parallel_triggers_queue_one_pipeline(run_in_parallel, settings):
    settings.API_THROTTLE_RATES = {"sync-trigger": ""}
    _key, raw = create_api_key("parallel", ["write"])

    def trigger(_i: int) -> dict:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        response = client.post("/api/guild-sync/blizzard/trigger")
        assert response.status_code == 202
        return response.json()

    results = run_in_parallel(trigger, 50)
    assert all(isinstance(r, dict) for r in results), [r for r in results if not isinstance(r, dict)]
    assert sum(r["status"] == "queued" for r in results) == 1
    assert len({r["task_id"] for r in results}) == 1  # every caller is told the one queued run


def test_upload_schema_offers_a_file_picker(admin_client):
    """Swagger's "Try it out" shows a file input for a multipart binary field (issue 11, item 8)."""
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    post = schema["paths"]["/api/guild-sync/addon/upload"]["post"]
    multipart = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in multipart:
        multipart = schema["components"]["schemas"][multipart["$ref"].rsplit("/", 1)[-1]]
    field = multipart["properties"]["file"]
    assert field["type"] == "string" and field["format"] == "binary"
    assert set(post["responses"]) >= {"200", "202", "400", "413", "422"}
