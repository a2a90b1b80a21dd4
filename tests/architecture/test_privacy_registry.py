"""Every field that can hold a member's Discord id, name or text is covered by the privacy
registry (core/privacy, each app's ``privacy.py``) or excused in the reviewed allow-list below,
so that a new model cannot forget to be forgettable."""

from __future__ import annotations

import re

from django.apps import apps
from django.db import models

from core.privacy import OUTCOMES, parts, registered_fields

APPS = {"core", "bot", "guildsync", "raids", "ark", "ratmas", "economy", "socialaccount"}

# Field names that hold (or may hold) a member's Discord id, name or free text.
PERSONAL = re.compile(
    r"^(discord_id|user_id|uid|giver_id|receiver_id|moderator_id|target_id|discord_user|player"
    r"|username|display_name|user_tag|moderator_tag|name|role_name|actor|holder"
    r"|text|reason|notes?|summary|payload|details|content|extra_data|wishlist_url|error|last_error|outcome|budget"
    r"|.*_discord_id|.*_username|.*_note|.*_notes|.*_text|.*_payload|.*_report|.*_by|.*_error)$")

# Reviewed: personal-looking fields that hold no member's data, and why.
ALLOW = {
    "guildsync.DiscordServer.discord_id": "a server's id (the community's, not a member's)",
    "guildsync.DiscordServer.name": "a server's name as Discord shows it to every member",
    "guildsync.DiscordChannel.discord_id": "a server channel's id (no direct-message channel is stored)",
    "guildsync.DiscordChannel.name": "a server channel's name as every member sees it",
    "core.SecretSetting.name": "which API key it is (a fixed choice)",
    "bot.OutboxMessage.claimed_by": "the delivery run holding the row (a worker's token)",
    "bot.ScheduledEvent.name": "a raid night's or Ark match's title, as the server's scheduled event shows it",
    "core.PendingJob.last_error": "the broker's error when it could not take a job (about the broker)",
    "core.RetentionRun.triggered_by": "'schedule' or the command's local user",
    "core.ServerLanguage.changed_by": "the officer's admin login that chose the server language",
    "core.Heartbeat.details": "a process's liveness details (latency, last event type), no member data",
    "core.TaskRunStat.outcome": "a Celery task's outcome (success, failure, retry), counted for /metrics",
    "guildsync.Role.name": "a raid role (Tank, Healer…)",
    "guildsync.WowClass.name": "a game class",
    "guildsync.Specialization.name": "a game specialisation",
    "guildsync.GuildRank.name": "a guild rank's name, chosen by officers",
    "guildsync.GuildRankRole.role_name": "a Discord role's name",
    "guildsync.NotePattern.name": "an officers' matching rule",
    "guildsync.SyncLock.name": "a lock's name",
    "guildsync.SyncLock.holder": "a worker's token",
    "guildsync.DiscordRole.name": "a Discord role's name",
    "guildsync.DiscordRole.discord_id": "a Discord role's id, not a member's",
    "socialaccount.SocialApp.name": "the OAuth application's name",
    "guildsync.AuditIssue.player": "the finding's player (a game identity; the finding's texts are covered)",
    "guildsync.IdentityChange.player": "the player (a game identity) whose characters changed",
    "guildsync.IdentityChange.previous_player": "the player (a game identity) the characters left",
    "guildsync.PlayerCharacter.player": "a character's link to its player: game data, kept with the player",
    "raids.RaidSeason.name": "a season's name",
    "raids.RaidEvent.raid_helper_push_error": "Raid-Helper's answer to an event push (about the event, not members)",
    "raids.RaidAttendance.signup_push_error": "Raid-Helper's answer to a sign-up push (about the request)",
    "ark.Alliance.name": "an alliance's name",
    "ark.Governor.name": "an in-game governor's name: a game account's public name, kept with the governor",
    "ark.Match.notes": "officers' notes about a match",
    "ark.Match.result_notes": "officers' notes about a result",
    "ratmas.Event.name": "the event's name, chosen by organisers",
    "ratmas.Event.budget": "the event's budget, set by organisers",
    "ratmas.Pairing.last_error": "Discord's reason a Santa DM failed (deleted with the pairing)",
    "economy.Squad.name": "a squad's name",
    "economy.AutoModRule.name": "a rule's name",
    "economy.ModerationCase.resolved_by": "the officer who resolved it (an officer's login name or id)",
}


def personal_fields() -> set[str]:
    found = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.get_fields():
            if not getattr(field, "concrete", False) or field.auto_created and not field.concrete:
                continue
            name = field.name
            if isinstance(field, models.ForeignKey | models.OneToOneField) and name not in ("discord_user", "player"):
                continue
            if PERSONAL.match(name):
                found.add(f"{model._meta.label}.{name}")
    return found


def covered() -> set[str]:
    return {f"{label}.{name}" for label, names in registered_fields().items() for name in names}


def test_every_personal_field_is_registered_or_allowed():
    missing = sorted(personal_fields() - covered() - set(ALLOW))
    assert not missing, ("These fields look like a member's id, name or text and no privacy registry entry covers "
                         f"them: add them to the app's privacy.py (or, if they hold none, to ALLOW with why): {missing}")


def test_registry_and_allow_list_name_real_fields():
    real = set()
    for model in apps.get_models():
        real |= {f"{model._meta.label}.{f.name}" for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    assert not sorted(covered() - real), "registry entries name fields that do not exist"
    assert not sorted(set(ALLOW) - real), "allow-list entries name fields that do not exist"
    assert not sorted(set(ALLOW) & covered()), "a field is both registered and allowed"


def test_every_app_with_models_declares_its_part():
    declared = {part.app for part in parts()}
    assert {"core", "bot", "guildsync", "raids", "ark", "ratmas", "economy"} <= declared
    for part in parts():
        for holds in part.holds:
            assert holds.outcome in OUTCOMES and len(holds.why) > 20, holds


def test_the_checker_catches_a_new_personal_field():
    assert PERSONAL.match("author_discord_id") and PERSONAL.match("nickname_text") and PERSONAL.match("username")
    assert not PERSONAL.match("created_at")
