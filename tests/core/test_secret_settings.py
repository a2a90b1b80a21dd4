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
