"""The companion uploader against a local HTTP server that answers like the upload endpoint
(200 with counts, 202 queued with a status URL, 400 with the parser's position, 401, 413, 422,
429/503 then 200), plus one
contract test against the real endpoint on the live server. The companion itself must not
need Django: it runs on an officer's PC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug import Request, Response

from guildsync import companion
from guildsync.companion import Companion, main

UPLOAD = "/api/guild-sync/addon/upload"
CONTENT = b'GuildSyncDB = {\n["formatVersion"] = 1,\n}\n'
ACCEPTED = {"sync_log_id": 12, "status": "success", "stats": {"records": 150, "updated": 20, "created": 3}}


@pytest.fixture
def sv_file(tmp_path: Path) -> Path:
    path = tmp_path / "WTF" / "Account" / "ACME" / "SavedVariables" / "GuildSync.lua"
    path.parent.mkdir(parents=True)
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
def make(sv_file, tmp_path, httpserver):
    """A Companion pointed at the local server, recording its output and its sleeps."""
    lines: list[str] = []
    sleeps: list[float] = []

    def build(**kwargs) -> Companion:
        kwargs.setdefault("state_file", tmp_path / "state.json")
        kwargs.setdefault("sleep", sleeps.append)
        return Companion(sv_file, httpserver.url_for(UPLOAD), "good-key", out=lines.append, **kwargs)

    build.lines = lines
    build.sleeps = sleeps
    return build


def accept(request: Request) -> Response:
    if request.headers.get("Authorization") != "Api-Key good-key":
        return Response(json.dumps({"detail": "Invalid API key."}), status=401, content_type="application/json")
    return Response(json.dumps(ACCEPTED), status=200, content_type="application/json")


def test_upload_sends_the_file_with_the_key_and_reports_counts(make, httpserver, sv_file):
    httpserver.expect_oneshot_request(UPLOAD, method="POST", headers={"Authorization": "Api-Key good-key"}) \
        .respond_with_json(ACCEPTED, status=200)
    outcome = make().upload_if_changed()
    assert outcome.status == "uploaded" and outcome.exit_code == 0
    request, _ = httpserver.log[0]
    assert request.files["file"].filename == "GuildSync.lua"
    assert request.files["file"].read() == CONTENT
    assert "Uploaded GuildSync.lua (0 KB): the server processed it — sync log id 12; status success; " \
           "stats: records 150, updated 20, created 3." in make.lines[-1]


def test_raw_body_mode(make, httpserver):
    httpserver.expect_oneshot_request(UPLOAD, method="POST", data=CONTENT).respond_with_json(ACCEPTED, status=200)
    assert make(raw=True).upload_if_changed().status == "uploaded"
    request, _ = httpserver.log[0]
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_unchanged_content_is_not_uploaded_again(make, httpserver, sv_file):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_json(ACCEPTED, status=200)
    assert make().upload_if_changed().status == "uploaded"
    sv_file.write_bytes(CONTENT)  # the game rewrites the same content at the next logout
    outcome = make().upload_if_changed()  # a new process: the hash comes from the state file
    assert outcome.status == "unchanged" and outcome.exit_code == 0
    assert "has not changed since the last upload; nothing sent." in make.lines[-1]
    assert len(httpserver.log) == 1
    assert make().upload_if_changed(force=True).status == "uploaded"
    sv_file.write_bytes(CONTENT + b"X = 1\n")
    assert make().upload_if_changed().status == "uploaded"
    assert len(httpserver.log) == 3


def test_parse_error_is_shown_and_not_retried(make, httpserver):
    detail = "line 3, column 12: unfinished string (missing closing quote before the end of the line)"
    httpserver.expect_request(UPLOAD, method="POST").respond_with_json({"detail": detail}, status=400)
    c = make()
    outcome = c.upload_if_changed()
    assert outcome.status == "rejected" and outcome.exit_code == 2 and not outcome.fatal
    assert len(httpserver.log) == 1 and make.sleeps == []
    assert f"The server could not read GuildSync.lua (400): {detail}." in make.lines[-1]
    # The same broken content is not sent again; the next rewrite by the game will be.
    assert c.upload_if_changed().status == "unchanged"
    assert len(httpserver.log) == 1


def test_wrong_key_is_reported_and_not_retried(make, httpserver, sv_file):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_handler(accept)
    c = Companion(sv_file, httpserver.url_for(UPLOAD), "bad-key", out=make.lines.append, state_file=None,
                  sleep=make.sleeps.append)
    outcome = c.upload_if_changed()
    assert outcome.status == "rejected" and outcome.fatal and outcome.http_status == 401
    assert ("The server refused the API key (401): Invalid API key. Check --key (ask an admin for a Guild Ops "
            "API key).") in make.lines[-1]
    assert len(httpserver.log) == 1 and make.sleeps == []
    # A fatal rejection is not remembered: with the right key the same content goes up.
    c.key = "good-key"
    assert c.upload_if_changed().status == "uploaded"


def test_too_big_file(make, httpserver):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_data(
        "Upload is 6,000,000 bytes, over the 5,242,880-byte limit", status=413, content_type="text/plain")
    outcome = make().upload_if_changed()
    assert outcome.http_status == 413 and outcome.exit_code == 2
    assert ("GuildSync.lua is too big for the server (413): Upload is 6,000,000 bytes, over the 5,242,880-byte "
            "limit. Ask an admin about the limit it names.") in make.lines[-1]
    assert len(httpserver.log) == 1


def test_wrong_url_is_fatal(make, httpserver):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_data("Not Found", status=404)
    outcome = make().upload_if_changed()
    assert outcome.fatal and "check --url" in outcome.message


def test_server_errors_are_retried_with_exponential_backoff(make, httpserver):
    for _ in range(2):
        httpserver.expect_ordered_request(UPLOAD, method="POST").respond_with_data("Service Unavailable", status=503)
    httpserver.expect_ordered_request(UPLOAD, method="POST").respond_with_json(ACCEPTED, status=200)
    outcome = make(backoff=2.0).upload_if_changed()
    assert outcome.status == "uploaded"
    assert make.sleeps == [2.0, 4.0]
    assert len(httpserver.log) == 3
    assert "Upload attempt 1 failed: the server answered 503 Service Unavailable; retrying in 2 s." in make.lines[0]


def test_rate_limit_honours_retry_after(make, httpserver):
    httpserver.expect_ordered_request(UPLOAD, method="POST").respond_with_json(
        {"detail": "Request was throttled."}, status=429, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request(UPLOAD, method="POST").respond_with_json(
        {"detail": "Request was throttled."}, status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    httpserver.expect_ordered_request(UPLOAD, method="POST").respond_with_json(ACCEPTED, status=200)
    assert make().upload_if_changed().status == "uploaded"
    assert make.sleeps == [7.0, 0.0]  # a date in the past means "now"


def test_gives_up_after_the_attempts_and_tries_again_later(make, httpserver, sv_file):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_data("Bad Gateway", status=502)
    c = make(attempts=3, backoff=1.0)
    outcome = c.upload_if_changed()
    assert outcome.status == "failed" and outcome.exit_code == 1
    assert make.sleeps == [1.0, 2.0] and len(httpserver.log) == 3
    assert "Upload failed after 3 attempts: the server answered 502 Bad Gateway. Will try again later." in make.lines[-1]
    # Not remembered as uploaded: the next run sends the same content again.
    httpserver.clear()
    httpserver.expect_request(UPLOAD, method="POST").respond_with_json(ACCEPTED, status=200)
    assert c.upload_if_changed().status == "uploaded"


def test_connection_refused_is_retried(sv_file, tmp_path):
    lines: list[str] = []
    sleeps: list[float] = []
    c = Companion(sv_file, "http://127.0.0.1:9/api/guild-sync/addon/upload", "k", attempts=3, backoff=0.5,
                  timeout=2, state_file=None, out=lines.append, sleep=sleeps.append)
    outcome = c.upload_if_changed()
    assert outcome.status == "failed" and sleeps == [0.5, 1.0]
    assert "could not connect to http://127.0.0.1:9/api/guild-sync/addon/upload (ConnectionError)" in lines[-1]


def test_missing_file_says_what_to_do(make, sv_file, httpserver):
    sv_file.unlink()
    outcome = make().upload_if_changed()
    assert outcome.status == "missing" and outcome.exit_code == 3
    assert "does not exist yet" in outcome.message and "/reload" in outcome.message
    assert httpserver.log == []


def test_watch_uploads_each_change_once(make, httpserver, sv_file):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_json(ACCEPTED, status=200)
    writes = {2: CONTENT,                         # rewritten with the same content: no upload
              4: CONTENT + b"A = 1\n",            # changed: one upload
              6: CONTENT + b"A = 2\n"}            # changed again
    calls = {"n": 0}

    def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] in writes:
            data = writes[calls["n"]]
            sv_file.write_bytes(data)
            st = sv_file.stat()
            os.utime(sv_file, ns=(st.st_atime_ns, st.st_mtime_ns + calls["n"] * 10**9))

    c = make(sleep=sleep)
    outcome = c.watch(interval=5, polls=6)
    assert outcome.status == "uploaded"
    bodies = [req.files["file"].read() for req, _ in httpserver.log]
    assert bodies == [CONTENT, CONTENT + b"A = 1\n", CONTENT + b"A = 2\n"]
    assert any("has not changed since the last upload" in line for line in make.lines)
    assert make.lines[0].endswith(f"Watching {sv_file} every 5 s; press Ctrl+C to stop.")


def test_watch_stops_on_a_wrong_key(make, httpserver, sv_file):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_json({"detail": "Invalid API key."}, status=401)
    outcome = make().watch(interval=5, polls=100)
    assert outcome.fatal and len(httpserver.log) == 1


def test_main_command_line(sv_file, tmp_path, httpserver, capsys):
    httpserver.expect_request(UPLOAD, method="POST").respond_with_json(ACCEPTED, status=200)
    args = ["--file", str(sv_file), "--url", httpserver.url_for(UPLOAD), "--key", "good-key",
            "--state", str(tmp_path / "s.json")]
    assert main(args) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "the server processed it" in out and "nothing sent" in out
    with pytest.raises(SystemExit):
        main(["--file", str(sv_file), "--url", "ftp://x", "--key", "k"])
    assert "--url must start with http:// or https://" in capsys.readouterr().err


def test_key_from_environment(sv_file, tmp_path, httpserver, monkeypatch):
    httpserver.expect_request(UPLOAD, method="POST", headers={"Authorization": "Api-Key env-key"}) \
        .respond_with_json(ACCEPTED, status=200)
    monkeypatch.setenv("GUILDSYNC_API_KEY", "env-key")
    assert main(["--file", str(sv_file), "--url", httpserver.url_for(UPLOAD), "--state", str(tmp_path / "s")]) == 0
    monkeypatch.delenv("GUILDSYNC_API_KEY")
    with pytest.raises(SystemExit):
        main(["--file", str(sv_file), "--url", httpserver.url_for(UPLOAD)])


def test_runs_without_django():
    code = ("import sys, guildsync.companion as c; "
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'; "
            "print(c.USER_AGENT)")
    root = Path(companion.__file__).resolve().parents[1]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)
    assert proc.returncode == 0, proc.stderr
    help_proc = subprocess.run([sys.executable, "-m", "guildsync.companion", "--help"], capture_output=True,
                               text=True, env=env, cwd=root)
    assert help_proc.returncode == 0 and "--watch" in help_proc.stdout


@pytest.mark.django_db(transaction=True)
def test_against_the_real_upload_endpoint(live_server, sv_file, tmp_path):
    """The contract with guildsync.api.AddonUploadView: multipart ``file``, ``Api-Key`` auth,
    200 with counts; a broken file comes back as 400 with its line and column."""
    from bench.guildsync_parser import make_export
    from core.services import create_api_key
    from guildsync.models import WowCharacter
    from guildsync.services.addon_processor import format_saved_variables

    _, key = create_api_key("companion test", ["upload"])
    sv_file.write_text(format_saved_variables({"GuildSyncDB": make_export(5)}, legacy=True), encoding="utf-8")
    lines: list[str] = []
    c = Companion(sv_file, f"{live_server.url}{UPLOAD}", key, state_file=tmp_path / "state.json",
                  out=lines.append, sleep=lambda s: None)
    outcome = c.upload_if_changed()
    assert outcome.status == "uploaded", lines
    assert outcome.http_status == 200 and "the server processed it" in lines[-1]
    assert WowCharacter.objects.count() == 5

    sv_file.write_text('GuildSyncDB = {\n["formatVersion"] = 1,\n["guilds"] = {"unfinished\n}\n', encoding="utf-8")
    outcome = c.upload_if_changed()
    assert outcome.http_status == 400
    assert "(400): line 3, column 15: unfinished string" in lines[-1]

    bad = Companion(sv_file, f"{live_server.url}{UPLOAD}", "wrong-key", state_file=None, out=lines.append,
                    sleep=lambda s: None)
    assert bad.upload_if_changed(force=True).http_status in (401, 403)


def test_a_queued_upload_prints_where_to_follow_it(make, httpserver):
    """The real endpoint answers 202 with ``status_url`` when its worker writes a big file."""
    queued = {"status": "queued", "task_id": "abc", "sync_log_id": 7,
              "status_url": "https://guildops.example.org/api/guild-sync/sync-logs/7"}
    httpserver.expect_oneshot_request(UPLOAD, method="POST").respond_with_json(queued, status=202)
    c = make()
    outcome = c.upload_if_changed()
    assert outcome.status == "uploaded" and outcome.http_status == 202
    assert "follow it at https://guildops.example.org/api/guild-sync/sync-logs/7" in make.lines[-1]
    assert c.upload_if_changed().status == "unchanged"


def test_422_over_the_servers_budget_is_final_for_that_content(make, httpserver):
    httpserver.expect_oneshot_request(UPLOAD, method="POST").respond_with_json(
        {"detail": "Reading this file needed more than the 10 s of CPU time ..."}, status=422)
    c = make()
    outcome = c.upload_if_changed()
    assert outcome.status == "rejected" and outcome.http_status == 422 and not make.sleeps
    assert "gave up reading GuildSync.lua (422)" in make.lines[-1]
    assert c.upload_if_changed().status == "unchanged"
