"""The officers' "Privacy requests" page: processed by an officer holding
core.process_privacy_request, refused to one without it; the record keeps a keyed hash."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from core.models import PrivacyRequest
from core.privacy.requests import target_hash
from economy.models import BytesBalance
from guildsync.models import DiscordUser
from tests import factories as f

pytestmark = pytest.mark.django_db

MEMBER = 555_000_000_000_000_321  # not in the server any more: only their balance is left
ADD = "/admin/core/privacyrequest/add/"


@pytest.fixture
def member_data():
    f.bytes_config(starting_balance=50)
    f.bytes_balance(MEMBER, 50)
    f.discord_user("leftie", discord_id=MEMBER, is_present=False)


@pytest.fixture
def privacy_officer(officer):
    user = officer("Guild officers", username="privacy_officer")
    user.user_permissions.add(Permission.objects.get(codename="process_privacy_request"))
    return user


def test_an_officer_without_the_permission_is_refused(client, officer, member_data):
    client.force_login(officer("Guild officers"))
    assert client.get(ADD).status_code == 403
    response = client.post(ADD, {"discord_user_id": str(MEMBER), "kind": "forget", "source": "officer",
                                 "confirm": "on"})
    assert response.status_code == 403
    assert BytesBalance.objects.filter(user_id=MEMBER).exists() and not PrivacyRequest.objects.exists()
    assert client.get("/admin/core/privacyrequest/").status_code == 403


def test_an_officer_with_the_permission_erases_and_the_record_keeps_a_hash(client, privacy_officer, member_data):
    client.force_login(privacy_officer)
    page = client.get(ADD)
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    # erasing asks for the confirmation first
    unconfirmed = client.post(ADD, {"discord_user_id": str(MEMBER), "kind": "forget", "source": "trust_safety"})
    assert "Tick the confirmation" in unconfirmed.content.decode() and BytesBalance.objects.filter(user_id=MEMBER).exists()
    done = client.post(ADD, {"discord_user_id": str(MEMBER), "kind": "forget", "source": "trust_safety",
                             "reason": "T&S ticket 1234", "confirm": "on"}, follow=True)
    assert done.status_code == 200 and "rows erased" in done.content.decode()
    assert not BytesBalance.objects.filter(user_id=MEMBER).exists()
    assert not DiscordUser.objects.filter(discord_id=MEMBER).exists()
    record = PrivacyRequest.objects.get()
    assert record.target_hash == target_hash(MEMBER) and record.processed_by == "privacy_officer"
    assert record.source == "trust_safety" and record.counts["economy"]["erased"]["balances"] == 1
    assert str(MEMBER) not in json.dumps(record.counts) + record.target_hash
    # found again by typing the id into the search box
    found = client.get("/admin/core/privacyrequest/", {"q": str(MEMBER)})
    assert found.context["cl"].result_count == 1
    assert client.get("/admin/core/privacyrequest/", {"q": "555000000000000999"}).context["cl"].result_count == 0


def test_an_export_is_a_json_download(client, privacy_officer, member_data):
    client.force_login(privacy_officer)
    response = client.post(ADD, {"discord_user_id": str(MEMBER), "kind": "export", "source": "member"})
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["discord_user_id"] == str(MEMBER) and data["apps"]["economy"]["balances"][0]["balance"] == 50
    assert PrivacyRequest.objects.get().kind == "export"


def test_a_bad_id_is_a_form_error(client, privacy_officer):
    client.force_login(privacy_officer)
    response = client.post(ADD, {"discord_user_id": "bob", "kind": "export", "source": "member"})
    assert response.status_code == 200 and "15 to 20 digits" in response.content.decode()
