"""One upload service for the API, the admin page and the worker (issue 12, defects 6 and 9).

Every path parses in a bounded child process, refuses what is too big or too costly with a
clear 413/422 and writes nothing then, answers 200 when the work is done and 202 with a
status URL only when it was queued.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.services import create_api_key
from guildsync.models import AuditIssue, SyncLog, WowCharacter
from guildsync.services import addon_upload
from guildsync.services.addon_processor import (
    AddonFormatError,
    UploadTooLargeError,
    extract_addon_records,
    format_saved_variables,
    parse_saved_variables,
)
from tests.guildsync.test_scheduler import addon_member, upload_text

pytestmark = pytest.mark.django_db
URL = "/api/guild-sync/addon/upload"


@pytest.fixture
def api() -> APIClient:
    _key, raw = create_api_key("companion", ["upload", "read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def eager_worker():
    """Queued tasks run at once, in this process, as the worker would run them."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _post(api: APIClient, data: bytes):
    return api.generic("POST", URL, data, content_type="text/plain")


# -- defect 9: members, CPU and memory budgets; large files go to the worker -------------------------

def test_member_cap_refuses_an_invented_roster_with_413_and_writes_nothing(api, settings):
    """Defect 9: 28,805 invented members were accepted and created 28,802 characters."""
    settings.ADDON_UPLOAD_MAX_MEMBERS = 3
    response = _post(api, upload_text([addon_member(f"Char{i}") for i in range(4)]).encode())
    assert response.status_code == 413
    assert "4 members, over the 3-member limit (ADDON_UPLOAD_MAX_MEMBERS" in response.data["detail"]
    assert not WowCharacter.objects.exists() and not SyncLog.objects.exists() and not AuditIssue.objects.exists()
    assert _post(api, upload_text([addon_member(f"Char{i}") for i in range(3)]).encode()).status_code == 200
    assert WowCharacter.objects.count() == 3


def test_default_member_cap_is_well_above_a_real_guild(settings):
    assert settings.ADDON_UPLOAD_MAX_MEMBERS >= 5 * 1000
    parsed = parse_saved_variables(upload_text([addon_member(f"C{i}") for i in range(1000)]))
    assert len(extract_addon_records(parsed)) == 1000
    with pytest.raises(UploadTooLargeError, match="28,805 members"):
        extract_addon_records({"GuildSyncDB": {"formatVersion": 1, "guilds": {"g": {"members": [{}] * 28_805}}}})


def test_a_file_of_empty_tables_is_413_not_430_mib(api):
    response = _post(api, b"GuildSyncDB = {" + b"{}," * 1_700_000 + b"}")
    assert response.status_code == 413 and "tables" in response.data["detail"]
    assert not SyncLog.objects.exists()


def test_parse_over_its_cpu_budget_is_422_and_writes_nothing(api, settings):
    settings.ADDON_PARSE_CPU_SECONDS = 0.01  # less than the child needs to start: always exceeded
    response = _post(api, upload_text([addon_member(f"Char{i}") for i in range(50)]).encode())
    assert response.status_code == 422 and "ADDON_PARSE_CPU_SECONDS" in response.data["detail"]
    assert not WowCharacter.objects.exists() and not SyncLog.objects.exists()


def test_parse_over_its_memory_budget_is_422(api, settings):
    settings.ADDON_PARSE_MAX_MEMORY_MB = 80  # the child's interpreter and imports need ~50 MB
    assert len(addon_upload.parse_upload(upload_text([addon_member("Small")]).encode())) == 1
    big = b"GuildSyncDB = {" + b'"ab",' * 900_000 + b"}"  # 4.5 MB: 900,000 string objects
    response = _post(api, big)
    assert response.status_code == 422 and "ADDON_PARSE_MAX_MEMORY_MB" in response.data["detail"]
    assert not SyncLog.objects.exists()


def test_a_small_file_is_processed_now_200(api):
    response = _post(api, upload_text([addon_member("Lonely")]).encode())
    assert response.status_code == 200
    assert response.data["status"] == "success" and response.data["stats"]["created"] == 1
    assert SyncLog.objects.get(pk=response.data["sync_log_id"]).status == "success"


def test_a_large_file_is_queued_202_with_a_status_url(api, settings, eager_worker):
    settings.ADDON_UPLOAD_SYNC_MAX_BYTES = 100
    response = _post(api, upload_text([addon_member("Lonely", officer="raw \x93 bytes are fine")]).encode())
    assert response.status_code == 202, response.data
    assert response.data["status"] == "queued" and response.data["task_id"]
    assert response["Location"] == response.data["status_url"]
    status = api.get(response.data["status_url"])
    assert status.status_code == 200 and status.data["status"] == "success" and status.data["source"] == "addon"
    assert WowCharacter.objects.get().character_name == "Lonely"
    assert list(SyncLog.objects.filter(source="addon").values_list("pk", flat=True)) == [response.data["sync_log_id"]]


def test_a_large_file_that_cannot_be_read_is_refused_at_once_and_nothing_is_queued(api, settings):
    settings.ADDON_UPLOAD_SYNC_MAX_BYTES = 10
    response = _post(api, b'GuildSyncDB = {\n["formatVersion"] = 1,\n["guilds"] = {"' + b"\\z " * 50)
    assert response.status_code == 400
    assert "line 3, column 15: unfinished string" in response.data["detail"] and response.data["line"] == 3
    assert not SyncLog.objects.exists() and not WowCharacter.objects.exists()


def test_a_queued_run_waits_as_running_until_the_worker_takes_it(api, settings):
    settings.ADDON_UPLOAD_SYNC_MAX_BYTES = 100
    response = _post(api, upload_text([addon_member("Later")]).encode())
    assert response.status_code == 202
    assert api.get(response.data["status_url"]).data["status"] == "running"
    assert not WowCharacter.objects.exists()  # nothing done in the web process


def _key_client(name: str, scopes: list[str]) -> APIClient:
    _key, raw = create_api_key(name, scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_an_upload_only_key_reads_the_status_of_its_own_uploads_and_no_other(settings, eager_worker):
    """The companion's key needs only ``upload``: it follows its status URL (202) and reads the
    run of a small file (200) too; another key's run, or any other run, is a 404 to it, and
    the other API reads stay closed (403 naming the scope)."""
    companion, other_pc = _key_client("companion", ["upload"]), _key_client("companion", ["upload"])  # same name
    settings.ADDON_UPLOAD_SYNC_MAX_BYTES = 100
    queued = _post(companion, upload_text([addon_member("Later")]).encode())
    assert queued.status_code == 202
    status = companion.get(queued.data["status_url"])
    assert status.status_code == 200 and status.data["status"] == "success" and status.data["source"] == "addon"
    settings.ADDON_UPLOAD_SYNC_MAX_BYTES = 1_000_000
    done = _post(companion, upload_text([addon_member("Now")]).encode())
    assert done.status_code == 200
    assert companion.get(f"/api/guild-sync/sync-logs/{done.data['sync_log_id']}").status_code == 200
    assert other_pc.get(queued.data["status_url"]).status_code == 404  # another key's upload, though same name
    matching = SyncLog.objects.filter(source="matching").first()  # a run no key uploaded
    assert companion.get(f"/api/guild-sync/sync-logs/{matching.pk}").status_code == 404
    reader = _key_client("dashboard", ["read"])
    assert reader.get(f"/api/guild-sync/sync-logs/{matching.pk}").status_code == 200  # read keys see every run
    assert reader.get(queued.data["status_url"]).status_code == 200
    refused = companion.get("/api/guild-sync/status")
    assert refused.status_code == 403 and "lacks the 'read' scope" in refused.json()["detail"]
    write_only = _key_client("linker", ["write"])
    refused = write_only.get(queued.data["status_url"])
    assert refused.status_code == 403 and "lacks the 'read' or 'upload' scope" in refused.json()["detail"]


def test_the_issue_hang_is_a_quick_400(api):
    response = _post(api, b'GuildSyncDB = "' + b"\\z " * 16)
    assert response.status_code == 400 and (response.data["line"], response.data["column"]) == (1, 15)


# -- defect 6: the origin project's GuildSyncDB ---------------------------------------------------------

# The shape the origin's addon writes: Shadowedvaca/PullAllTheThings-site,
# wow_addon/GuildSync/GuildSync.lua (commit 8ec8db3a), ProcessGuildRoster(): GuildSyncDB.lastExport
# = {exportTime, exportTimeISO, addonVersion, guildName, memberCount, characters = {{name, realm,
# class, classFile, level, rank, rankName, zone, note, officerNote, isOnline, lastOnline,
# achievementPoints}}}, plus lastExportTime and totalExports. No formatVersion, no guilds table.
def origin_export(*characters: dict) -> str:
    return format_saved_variables({"GuildSyncDB": {
        "lastExport": {"exportTime": 1_760_000_000, "exportTimeISO": "2025-10-09T08:53:20Z", "addonVersion": "1.0.0",
                       "guildName": "Pull All The Things", "memberCount": len(characters),
                       "characters": list(characters)},
        "lastExportTime": 1_760_000_000, "totalExports": 12}}, legacy=True)


def origin_member(name: str, realm: str, **extra) -> dict:
    member = {"name": name, "realm": realm, "class": "Todesritter", "classFile": "DEATHKNIGHT", "level": 80,
              "rank": 1, "rankName": "Officer", "zone": "Dornogal", "note": "", "officerNote": "",
              "isOnline": False, "lastOnline": "2d 3h", "achievementPoints": 1234}
    member.update(extra)
    return member


def test_defect_6_origin_guildsyncdb_export_is_read(api):
    text = origin_export(origin_member("Trogmoon", "Twisting Nether", officerNote="GM's main", rank=0),
                         origin_member("Shadowbane", "TwistingNether", note="alt of Trogmoon"))
    records = extract_addon_records(parse_saved_variables(text))
    assert records[0] == {"character_name": "Trogmoon", "realm": "TwistingNether", "realm_name": "Twisting Nether",
                          "guild_note": "", "officer_note": "GM's main", "rank_index": 0, "rank_name": "Officer",
                          "class_name": "Death Knight", "level": 80}
    assert records[1]["realm"] == "TwistingNether" and records[1]["realm_name"] == ""
    response = _post(api, text.encode())
    assert response.status_code == 200, response.data
    assert WowCharacter.objects.get(character_name="Trogmoon").addon_officer_note == "GM's main"


def test_defect_6_origin_export_without_officer_notes_is_refused_naming_the_addon(api):
    response = _post(api, origin_export(origin_member("Trogmoon", "Sen'jin")).encode())
    assert response.status_code == 400
    assert "no officer note" in response.data["detail"] and "guildsync/addon" in response.data["detail"]
    assert not WowCharacter.objects.exists()


def test_defect_6_unknown_guildsyncdb_without_format_version_names_the_addon_to_install():
    with pytest.raises(AddonFormatError, match="no formatVersion.*Install the GuildSync addon from guildsync/addon"):
        extract_addon_records({"GuildSyncDB": {"minimap": {"hide": False}, "settings": {}}})
