"""Issue #11 point 9: audit rows written from the admin record the officer's Discord id as the
actor when the officer signed in with Discord (allauth's SocialAccount uid), the username
otherwise — through one helper, ``core.discord_signin.officers.actor``, in every app that
writes audit rows from the admin (Ark's audit log keeps the id in its own
``actor_discord_id`` column, a username in ``details.by``). Ratmas writes no audit row from
the admin (its organisers' actions are recorded as the event's state)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.discord_signin import officers
from guildsync.models import SyncLog
from tests import factories
from tests.raids.conftest import _fake_raid_helper_server, fake_raid_helper  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

OFFICER_ID = 400_000_000_000_000_777


@pytest.fixture
def discord_officer(admin_user, client):
    """The admin login, connected to Discord (signed in with it once), in the member directory."""
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=admin_user, provider="discord", uid=str(OFFICER_ID))
    factories.discord_user("brightblade", display_name="Bright Blade", discord_id=OFFICER_ID)
    client.force_login(admin_user)
    return client


def test_the_helper_prefers_the_discord_id(admin_user) -> None:
    from allauth.socialaccount.models import SocialAccount

    assert officers.actor(admin_user) == admin_user.get_username()
    SocialAccount.objects.create(user=admin_user, provider="discord", uid=str(OFFICER_ID))
    assert officers.actor(admin_user) == str(OFFICER_ID)


def test_guildsync_identity_change_records_and_shows_the_officer(discord_officer) -> None:
    from guildsync.models import IdentityChange

    character = factories.wow_character("Thrall", "silvermoon")
    player = factories.player("Thrall's player")
    response = discord_officer.post(reverse("admin:guildsync_wowcharacter_changelist"), {
        "action": "link_to_player", "_selected_action": [character.pk], "apply": "1", "player": player.pk})
    assert response.status_code == 302
    change = IdentityChange.objects.get()
    assert change.actor == str(OFFICER_ID)
    url = reverse("admin:guildsync_identitychange_changelist")
    page = discord_officer.get(url).content.decode()
    assert f'title="Discord id {OFFICER_ID}">Bright Blade<' in page
    assert list(discord_officer.get(url, {"q": "bright"}).context["cl"].result_list) == [change]


def test_economy_corrections_and_resolutions_record_the_officer(discord_officer) -> None:
    from economy.models import BytesTransaction

    balance = factories.bytes_balance(5, 10, guild_id=1)
    discord_officer.post(reverse("admin:economy_bytesbalance_changelist"), {
        "action": "adjust_balance", "_selected_action": [balance.pk], "apply": "1", "amount": "5", "reason": "fix"})
    assert BytesTransaction.objects.get().giver_username == f"Officer {OFFICER_ID}"
    page = discord_officer.get(reverse("admin:economy_bytestransaction_changelist")).content.decode()
    assert f'title="Discord id {OFFICER_ID}">Officer Bright Blade<' in page
    case = factories.moderation_case(5, guild_id=1)
    discord_officer.post(reverse("admin:economy_moderationcase_changelist"),
                         {"action": "resolve", "_selected_action": [case.pk], "confirmed": "Yes"})
    case.refresh_from_db()
    assert case.resolved and case.resolved_by == str(OFFICER_ID)
    page = discord_officer.get(reverse("admin:economy_moderationcase_changelist")).content.decode()
    assert f'title="Discord id {OFFICER_ID}">Bright Blade<' in page


def test_raids_signup_import_records_the_officer(discord_officer, fake_raid_helper, settings) -> None:  # noqa: F811
    factories.raid_config(fake_raid_helper.server_id)
    start = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    posted = fake_raid_helper.add_event("Raid", start)
    event = factories.raid_event(None, start, title="Raid", raid_helper_event_id=posted["id"])
    discord_officer.post(reverse("admin:raids_raidevent_changelist"),
                         {"action": "import_signups", "_selected_action": [event.pk]})
    assert SyncLog.objects.get(source=SyncLog.Source.RAID_HELPER).triggered_by == str(OFFICER_ID)
    page = discord_officer.get(reverse("admin:guildsync_synclog_changelist")).content.decode()
    assert f'title="Discord id {OFFICER_ID}">Bright Blade<' in page


def test_ark_audit_log_records_the_officer(discord_officer) -> None:
    from ark import services
    from ark.models import AuditLog

    alliance = services.save_alliance(name="Osiris Guard", registration_channel_id=111, confirmation_channel_id=112)
    weekend = services.ark_weekend_of(timezone.now().date()) + dt.timedelta(days=14)
    start = dt.datetime.combine(weekend, dt.time(12, 0), tzinfo=dt.UTC)
    match = services.create_match(alliance=alliance, ark_weekend_date=weekend, match_day="Sat",
                                  match_time_utc=start, signup_close_utc=start - dt.timedelta(hours=16))
    discord_officer.post(reverse("admin:ark_match_changelist"), {"action": "lock", "_selected_action": [match.pk], "confirmed": "Yes"})
    row = AuditLog.objects.filter(match=match).order_by("-pk").first()
    assert row.actor_discord_id == OFFICER_ID and "by" not in row.details  # named once, as officers.actor does
    page = discord_officer.get(reverse("admin:ark_auditlog_changelist")).content.decode()
    assert f'title="Discord id {OFFICER_ID}">Bright Blade<' in page


def test_secret_settings_record_the_officer(discord_officer, settings) -> None:
    from core.models import SecretSetting

    settings.FIELD_ENCRYPTION_KEY = "field-encryption-key-for-tests"
    discord_officer.post(reverse("admin:core_secretsetting_add"), {"name": "RAID_HELPER_API_KEY", "value": "k"})
    assert SecretSetting.objects.get().set_by == str(OFFICER_ID)
