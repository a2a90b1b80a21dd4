"""Issue #14 point 5: API keys and secrets set in the admin without a restart — encrypted,
never shown back, the environment first, a dedicated permission, and a rotated key used by
the very next task."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core import secrets, services
from core.errors import DomainError
from core.models import SecretSetting

pytestmark = pytest.mark.django_db

KEY = "field-encryption-key-for-tests"


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    settings.FIELD_ENCRYPTION_KEY = KEY
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = []
    settings.RAID_HELPER_API_KEY = ""
    settings.BLIZZARD_CLIENT_ID = ""
    settings.BLIZZARD_CLIENT_SECRET = ""


@pytest.fixture
def secrets_officer(officer, client):
    user = officer("Raid officers", username="keyholder")
    user.user_permissions.add(Permission.objects.get(codename="manage_secrets"))
    client.force_login(user)
    return client


def test_round_trip_is_encrypted_and_says_when_and_who():
    row = services.set_secret("RAID_HELPER_API_KEY", "  rh-key-123  ", "leader")
    assert "rh-key-123" not in row.ciphertext and row.set_by == "leader"
    assert secrets.get_secret("RAID_HELPER_API_KEY") == "rh-key-123"
    assert secrets.secret_source("RAID_HELPER_API_KEY") == "admin"
    services.set_secret("RAID_HELPER_API_KEY", "rh-key-456", "officer2")  # replaced, one row
    assert SecretSetting.objects.count() == 1 and secrets.get_secret("RAID_HELPER_API_KEY") == "rh-key-456"
    assert services.clear_secret("RAID_HELPER_API_KEY") and secrets.get_secret("RAID_HELPER_API_KEY") == ""


def test_environment_takes_precedence(settings):
    services.set_secret("BLIZZARD_CLIENT_SECRET", "from-admin", "leader")
    settings.BLIZZARD_CLIENT_SECRET = "from-env"
    assert secrets.get_secret("BLIZZARD_CLIENT_SECRET") == "from-env"
    assert secrets.secret_source("BLIZZARD_CLIENT_SECRET") == "environment"


def test_refusals(settings):
    with pytest.raises(DomainError, match="not a setting"):
        services.set_secret("SECRET_KEY", "x", "leader")
    with pytest.raises(DomainError, match="Enter the value"):
        services.set_secret("WCL_CLIENT_ID", "   ", "leader")
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(DomainError, match="FIELD_ENCRYPTION_KEY"):
        services.set_secret("WCL_CLIENT_ID", "id", "leader")
    assert not SecretSetting.objects.exists()


def test_encryption_key_rotation_keeps_old_values_readable(settings, caplog):
    services.set_secret("WCL_CLIENT_SECRET", "wcl-secret", "leader")
    settings.FIELD_ENCRYPTION_KEY = "a-new-key"
    assert secrets.get_secret("WCL_CLIENT_SECRET") == ""  # unreadable: logged, treated as unset
    assert "cannot be read" in caplog.text
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = [KEY]
    assert secrets.get_secret("WCL_CLIENT_SECRET") == "wcl-secret"


def test_admin_never_shows_the_value_and_needs_the_permission(secrets_officer, officer, client):
    add = reverse("admin:core_secretsetting_add")
    answer = secrets_officer.post(add, {"name": "RAID_HELPER_API_KEY", "value": "super-secret-value"})
    assert answer.status_code == 302
    row = SecretSetting.objects.get()
    for url in (reverse("admin:core_secretsetting_changelist"), reverse("admin:core_secretsetting_change",
                                                                        args=[row.pk])):
        page = secrets_officer.get(url).content.decode()
        assert "super-secret-value" not in page and row.ciphertext not in page
        assert f"set on {row.set_at:%Y-%m-%d %H:%M} UTC by" in page
    # another officer without the dedicated permission: no page, no writes
    client.force_login(officer("Raid officers"))
    assert client.get(reverse("admin:core_secretsetting_changelist")).status_code == 403
    assert client.post(add, {"name": "WCL_CLIENT_ID", "value": "x"}).status_code == 403
    assert SecretSetting.objects.count() == 1


def test_a_missing_key_is_said_before_anything_is_typed(secrets_officer, settings):
    """Production without FIELD_ENCRYPTION_KEY: the page says so on arrival and the value box is
    disabled, instead of refusing the key after the officer typed it."""
    settings.FIELD_ENCRYPTION_KEY = ""
    for url in (reverse("admin:core_secretsetting_add"), reverse("admin:core_secretsetting_changelist")):
        page = secrets_officer.get(url).content.decode()
        assert "Secrets cannot be stored on this server yet: FIELD_ENCRYPTION_KEY is not set" in page
    form = secrets_officer.get(reverse("admin:core_secretsetting_add")).context["adminform"].form
    assert form.fields["value"].disabled
    settings.FIELD_ENCRYPTION_KEY = KEY
    page = secrets_officer.get(reverse("admin:core_secretsetting_add")).content.decode()
    assert "FIELD_ENCRYPTION_KEY is not set" not in page


def test_raid_helper_settings_link_to_the_secret_page(admin_client):
    from raids.models import RaidHelperSettings

    row = RaidHelperSettings.objects.create(server_id=1, raid_channel_id=2, leader_discord_id=3)
    page = admin_client.get(reverse("admin:raids_raidhelpersettings_change", args=[row.pk])).content.decode()
    assert f'href="{reverse("admin:core_secretsetting_add")}?name=RAID_HELPER_API_KEY"' in page


def _run_commands_keys(var_dir) -> dict[str, str]:
    """What the run command exports after its key step (scripts/local_keys.sh), on a fresh var/."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")}
    out = subprocess.run(["bash", "-c", f'source "{root}/scripts/local_keys.sh"; '
                          'echo "$SECRET_KEY"; echo "$FIELD_ENCRYPTION_KEY"'],
                         env={**env, "GUILDOPS_VAR_DIR": str(var_dir)}, capture_output=True, text=True, check=True)
    secret_key, field_key = out.stdout.split()
    return {"SECRET_KEY": secret_key, "FIELD_ENCRYPTION_KEY": field_key}


def test_the_run_command_keeps_a_field_encryption_key_under_var(tmp_path):
    first = _run_commands_keys(tmp_path)
    assert len(first["FIELD_ENCRYPTION_KEY"]) >= 40 and first["FIELD_ENCRYPTION_KEY"] != first["SECRET_KEY"]
    kept = tmp_path / "field-encryption-key.txt"
    assert kept.read_text().strip() == first["FIELD_ENCRYPTION_KEY"] and oct(kept.stat().st_mode & 0o777) == "0o600"
    assert _run_commands_keys(tmp_path) == first  # the same key on every start: stored secrets stay readable


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_after_the_run_commands_setup_an_officer_saves_the_raid_helper_key(tmp_path, settings, admin_login,
                                                                           live_server, django_user_model):
    """Acceptance (issue 24): on the run command's setup, an officer follows the Raid-Helper
    settings' link to Secret settings and saves the key, in Chromium."""
    from raids.models import RaidHelperSettings

    settings.FIELD_ENCRYPTION_KEY = _run_commands_keys(tmp_path)["FIELD_ENCRYPTION_KEY"]
    RaidHelperSettings.objects.create(server_id=1, raid_channel_id=2, leader_discord_id=3)
    django_user_model.objects.create_superuser("admin", "admin@example.org", "run-command-pass-1")
    page = admin_login("admin", "run-command-pass-1")
    page.goto(f"{live_server.url}/admin/raids/raidhelpersettings/")
    page.click("text=set RAID_HELPER_API_KEY under Secret settings")
    assert page.locator("ul.messagelist li.error").count() == 0  # nothing says the key is missing
    assert page.locator("#id_name").input_value() == "RAID_HELPER_API_KEY"
    page.fill("#id_value", "rh-key-from-the-browser")
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "was added successfully" in page.locator("ul.messagelist").inner_text()
    assert secrets.get_secret("RAID_HELPER_API_KEY") == "rh-key-from-the-browser"
    # stored encrypted, and never shown back: not on the list, not on its page, not in the form
    row = SecretSetting.objects.get(name="RAID_HELPER_API_KEY")
    assert "rh-key-from-the-browser" not in str(row.ciphertext)
    assert "rh-key-from-the-browser" not in page.content()
    page.goto(f"{live_server.url}/admin/core/secretsetting/{row.pk}/change/")
    assert "rh-key-from-the-browser" not in page.content()
    assert page.locator("#id_value").count() == 0 or page.locator("#id_value").input_value() == ""
