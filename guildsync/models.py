"""World of Warcraft guild identity: reference data, Discord users, characters, players.

Discord owns ``DiscordUser`` and Blizzard (or the addon) owns the synced columns of
``WowCharacter``; officers own ``Player`` and ``PlayerCharacter`` (with matching proposing
links). The raids app reads ``Player``, ``GuildRank``, ``Specialization`` and ``DiscordUser``.
"""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.constraints import CompositeForeignKey
from guildsync.issue_text import describe
from guildsync.reference_data import class_label, placeholder_rank_name, role_label, spec_label


class Role(models.Model):
    """Combat role: Tank, Healer, Melee DPS, Ranged DPS."""

    name = models.CharField(max_length=20, unique=True, verbose_name=pgettext_lazy("guildsync", "name"))

    class Meta:
        verbose_name = pgettext_lazy("wow role", "role")
        verbose_name_plural = pgettext_lazy("wow role", "roles")
        ordering = ["id"]

    def __str__(self) -> str:
        return role_label(self.name)


class WowClass(models.Model):
    name = models.CharField(max_length=30, unique=True, verbose_name=pgettext_lazy("guildsync", "name"))
    blizzard_id = models.PositiveSmallIntegerField(unique=True, help_text=_("playable_class.id in Blizzard's API."), verbose_name=_("Blizzard ID"))
    color_hex = models.CharField(max_length=7, help_text=_("Class colour, e.g. #C41E3A."), verbose_name=_("colour"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("WoW class")
        verbose_name_plural = _("WoW classes")

    def __str__(self) -> str:
        return class_label(self.name)


class Specialization(models.Model):
    name = models.CharField(max_length=30, verbose_name=pgettext_lazy("guildsync", "name"))
    wow_class = models.ForeignKey(WowClass, on_delete=models.PROTECT, related_name="specializations", verbose_name=_("WoW class"))
    default_role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="specializations", verbose_name=_("default role"))
    blizzard_id = models.PositiveIntegerField(unique=True, help_text=_("active_spec.id in Blizzard's API."), verbose_name=_("Blizzard ID"))

    class Meta:
        verbose_name = _("specialization")
        verbose_name_plural = _("specializations")
        ordering = ["wow_class__name", "name"]
        constraints = [models.UniqueConstraint(fields=["wow_class", "name"], name="spec_unique_per_class",
                                               violation_error_message=_("This class already has a specialization with this name."))]

    def __str__(self) -> str:
        return pgettext("spec and class, e.g. Frost Mage", "%(spec)s %(class)s") % {
            "spec": spec_label(self.name), "class": class_label(self.wow_class.name)}


class GuildRank(models.Model):
    """A rank of the guild, keyed by the roster's rank index: Blizzard's API and the game number
    ranks 0 (the Guild Master) to 9, a guild has at most ten. Every index has a row, so a
    character's rank is never unknown: an index nobody named yet is "Rank 7" until the addon's
    upload (which knows the guild's own names) or an officer names it. Seniority is the index
    (lower = more senior)."""

    MAX_INDEX = 9

    class NameSource(models.TextChoices):
        PLACEHOLDER = "placeholder", _("Placeholder (not named yet)")
        ADDON = "addon", _("From the addon's upload")
        OFFICER = "officer", _("Named by an officer")

    blizzard_rank_index = models.PositiveSmallIntegerField(
        unique=True, help_text=_("The roster's rank number: 0 is the Guild Master, 9 the lowest rank."), verbose_name=_("rank index"),
    )
    name = models.CharField(max_length=50, unique=True, help_text=_("Officers rename ranks to their guild's names."), verbose_name=pgettext_lazy("guildsync", "name"))
    name_source = models.CharField(
        max_length=11, choices=NameSource.choices, default=NameSource.OFFICER,
        help_text=_("Who named the rank: the addon's upload renames placeholders and its own names, never an "
                  "officer's."), verbose_name=_("named by"),
    )
    level = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Raid standing: 2 or more is signed up when raids are booked (accepted with auto-invite, else "
                  "tentative), below 2 is benched. Defaults: Guild Leader 5 … Initiate 1, ranks 5–9 0."), verbose_name=_("level"),
    )
    scheduling_weight = models.PositiveSmallIntegerField(default=0, help_text=_("Priority when filling raid slots."), verbose_name=_("scheduling weight"))

    class Meta:
        verbose_name = _("guild rank")
        verbose_name_plural = _("guild ranks")
        ordering = ["blizzard_rank_index"]
        constraints = [
            models.CheckConstraint(name="guildrank_index_0_9", condition=Q(blizzard_rank_index__lte=9),
                                   violation_error_message=_("A guild has ranks 0 (Guild Master) to 9.")),
        ]

    def __str__(self) -> str:
        if self.name_source == self.NameSource.PLACEHOLDER and self.name == placeholder_rank_name(
                self.blizzard_rank_index):
            return gettext("Rank %(index)s") % {"index": self.blizzard_rank_index}  # nobody named it: the reader's words
        return self.name


class GuildRankRole(models.Model):
    """A Discord role name that counts as a guild rank (``rank_mismatch``, Discord sync): a
    guild may call its Guild Leader's role "GM". One role name counts for one rank only."""

    rank = models.ForeignKey(GuildRank, on_delete=models.CASCADE, related_name="discord_roles", verbose_name=_("rank"))
    role_name = models.CharField(max_length=100, help_text=_("As the role is named in Discord (case is ignored)."), verbose_name=_("Discord role name"))

    class Meta:
        verbose_name = _("guild rank role")
        verbose_name_plural = _("guild rank roles")
        ordering = ["rank__blizzard_rank_index", "id"]
        constraints = [
            models.UniqueConstraint(Lower("role_name"), name="guildrankrole_unique_name",
                                    violation_error_message=_("This Discord role already counts as another rank.")),
        ]

    def __str__(self) -> str:
        return f"{self.role_name} → {self.rank}"


class DiscordUser(models.Model):
    """A member of the Discord server, as Discord reports it (read-only for officers)."""

    discord_id = models.BigIntegerField(unique=True, verbose_name=_("Discord ID"))
    username = models.CharField(max_length=64, verbose_name=_("username"))
    display_name = models.CharField(max_length=64, blank=True, verbose_name=_("display name"))
    highest_guild_role = models.CharField(max_length=100, blank=True,
                                          help_text=_("The most senior guild-rank role the member holds."), verbose_name=_("highest guild role"))
    all_guild_roles = models.JSONField(default=list, blank=True, help_text=_("Names of the guild-rank roles held."), verbose_name=_("guild roles"))
    joined_server_at = models.DateTimeField(null=True, blank=True, verbose_name=_("joined the server"))
    last_sync = models.DateTimeField(null=True, blank=True, verbose_name=_("last sync"))
    is_present = models.BooleanField(default=True, help_text=_("False once the member left the server."), verbose_name=_("on the server"))
    removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("removed at"))
    locale = models.CharField(
        max_length=10, blank=True,
        help_text=_("The member's Discord client language when last seen (an interaction's locale, e.g. 'pt-BR'): "
                  "the language of the bot's DMs to them."), verbose_name=_("Discord language"))

    class Meta:
        verbose_name = _("Discord user")
        verbose_name_plural = _("Discord users")
        ordering = ["username"]
        indexes = [models.Index(fields=["is_present"], name="discorduser_present_idx")]

    def __str__(self) -> str:
        return self.display_name or self.username


class WowCharacter(models.Model):
    character_name = models.CharField(max_length=24, verbose_name=_("character name"))
    realm_slug = models.CharField(max_length=64, help_text=_("As Blizzard's API spells it, e.g. 'twisting-nether'."), verbose_name=_("realm"))
    realm_name = models.CharField(max_length=64, blank=True, verbose_name=_("realm name"))
    blizzard_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("Blizzard ID"))
    wow_class = models.ForeignKey(WowClass, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="characters", db_column="class_id", verbose_name=_("WoW class"))
    active_spec = models.ForeignKey(Specialization, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="characters", verbose_name=_("active specialization"))
    level = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("level"))
    item_level = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("item level"))
    guild_rank = models.ForeignKey(GuildRank, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="characters", verbose_name=_("guild rank"))
    achievement_points = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("achievement points"))
    last_login_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last login"))
    profile_json = models.JSONField(null=True, blank=True, help_text=_("Last profile summary from Blizzard."), verbose_name=_("Blizzard profile"))
    last_api_sync = models.DateTimeField(null=True, blank=True, verbose_name=_("last Blizzard sync"))
    removed_at = models.DateTimeField(null=True, blank=True, help_text=_("Set when the character left the roster."), verbose_name=_("removed at"))
    addon_note = models.CharField(max_length=255, blank=True, help_text=_("Public guild note, from the addon."), verbose_name=_("guild note"))
    addon_officer_note = models.CharField(max_length=255, blank=True, help_text=_("Officer note, from the addon."), verbose_name=_("officer note"))
    addon_last_sync = models.DateTimeField(null=True, blank=True, verbose_name=_("last addon sync"))
    skip_auto_match = models.BooleanField(
        default=False,
        help_text=_("Set when an officer removes this character's link: matching then leaves it to officers."), verbose_name=_("no automatic matching"),
    )

    class Meta:
        verbose_name = _("WoW character")  # spelled like "WoW classes" in the sidebar
        verbose_name_plural = _("WoW characters")
        ordering = ["character_name", "realm_slug"]
        constraints = [
            models.UniqueConstraint(Lower("character_name"), "realm_slug", name="wowcharacter_unique_name_realm",
                                    violation_error_message=_("A character with this name already exists on this realm.")),
        ]
        indexes = [models.Index(fields=["removed_at"], name="wowchar_removed_idx")]

    def __str__(self) -> str:
        return f"{self.character_name}-{self.realm_slug}"


class Player(models.Model):
    """A person: one Discord account (optional) and the characters they play."""

    display_name = models.CharField(max_length=64, verbose_name=_("display name"))
    discord_user = models.OneToOneField(
        DiscordUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="player",
        help_text=_("At most one player per Discord user."), verbose_name=_("Discord user"),
    )
    main_character = models.ForeignKey(WowCharacter, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+",
                                       help_text=_("One of the player's own characters (the database checks it)."), verbose_name=_("main character"))
    main_spec = models.ForeignKey(Specialization, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("main specialization"))
    guild_rank = models.ForeignKey(GuildRank, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="players", verbose_name=_("guild rank"))
    is_active = models.BooleanField(default=True, verbose_name=pgettext_lazy("player, note pattern", "active"))
    auto_invite_events = models.BooleanField(default=False,
                                             help_text=_("Signed up as accepted when raids are auto-booked."), verbose_name=_("auto-invite to events"))
    on_raid_hiatus = models.BooleanField(default=False, help_text=_("Signed up as absence when raids are booked."), verbose_name=_("on raid hiatus"))
    notes = models.TextField(blank=True, max_length=2000, verbose_name=pgettext_lazy("guildsync", "notes"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("player")
        verbose_name_plural = _("players")
        ordering = ["display_name"]
        constraints = [
            # (player, main character) must be one of the player's character links, checked when the
            # transaction commits (services link and pick the main in either order).
            CompositeForeignKey(fields=["id", "main_character"], to="guildsync.PlayerCharacter",
                                to_fields=["player", "character"], name="player_main_character_owned",
                                violation_error_message=_("The main character must be one of the player's own "
                                                        "characters: unlink it from its player first.")),
        ]

    def __str__(self) -> str:
        return self.display_name


class PlayerCharacter(models.Model):
    class LinkSource(models.TextChoices):
        EXACT_NAME = "exact_name", _("Exact name")
        NOTE = "note", _("Guild/officer note")
        ALT_NOTE = "alt_note", _("Alt note")
        FUZZY = "fuzzy", _("Fuzzy match")
        MANUAL = "manual", _("Manual (officer)")
        BATTLENET = "battlenet", _("Proven by Battle.net")

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="character_links", verbose_name=_("player"))
    character = models.OneToOneField(WowCharacter, on_delete=models.CASCADE, related_name="player_link",
                                      help_text=_("A character belongs to at most one player."), verbose_name=_("character"))
    link_source = models.CharField(max_length=12, choices=LinkSource.choices, verbose_name=_("link source"))
    confidence = models.FloatField(default=1.0, help_text=_("0–1; manual links are 1."), verbose_name=_("confidence"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("character link")
        verbose_name_plural = _("character links")
        ordering = ["player", "character"]
        constraints = [
            models.CheckConstraint(name="playercharacter_confidence_0_1",
                                   condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                                   violation_error_message=_("A link's confidence is between 0 and 1."),
            ),
            # what a player's main character points at (player_main_character_owned); redundant as a
            # rule (a character has one link), needed as the target of that composite foreign key
            models.UniqueConstraint(fields=["player", "character"], name="playercharacter_player_character",
                                    violation_error_message=_("This character is already linked to this player.")),
        ]

    def __str__(self) -> str:
        return f"{self.character} → {self.player} ({self.get_link_source_display()})"


class IdentityChange(models.Model):
    """The audit trail of links: who linked, moved or unlinked a character, and when.

    Written by the identity services in the transaction of the change, for the admin and the
    API alike; ``actor`` names the officer, the API user or the API key ("api-key:<name>").
    The sentence in ``summary`` survives the deletion of the character or player."""

    class Action(models.TextChoices):
        LINK = "link", _("Linked")
        MOVE = "move", _("Moved to another player")
        UNLINK = "unlink", _("Unlinked")

    action = models.CharField(max_length=8, choices=Action.choices, verbose_name=_("action"))
    actor = models.CharField(max_length=150, help_text=_("Officer username, 'api-key:<name>' or an API user."), verbose_name=_("by"))
    character = models.ForeignKey(WowCharacter, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="identity_changes", verbose_name=_("character"))
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text=_("The player the character belongs to after the change (link, move) "
                                         "or belonged to (unlink)."), verbose_name=_("player"))
    previous_player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", help_text=_("For a move: the player it left."), verbose_name=_("previous player"))
    summary = models.CharField(max_length=255, help_text=_("What happened, in words that outlive the rows."), verbose_name=_("summary"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("identity change")
        verbose_name_plural = _("identity changes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="identitychange_has_actor", condition=~Q(actor=""),
                                   violation_error_message=_("An identity change names who made it.")),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor}: {self.summary}"


class AuditIssue(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")

    class IssueType(models.TextChoices):
        # plain words for officers (the dashboard, filters, the issue page); the codes stay internal
        ORPHAN_WOW = "orphan_wow", _("Character not linked to a player")
        ORPHAN_DISCORD = "orphan_discord", _("Discord member with a guild role but no characters")
        RANK_MISMATCH = "rank_mismatch", _("In-game rank and Discord role differ")
        STALE_CHARACTER = "stale_character", _("Character not updated by Blizzard lately")
        BATTLENET_CONFLICT = "battlenet_conflict", _("Battle.net proof disagrees with an officer's link")

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", _("Resolved by an officer")
        DISMISSED = "dismissed", _("Dismissed by an officer")
        FIXED = "fixed", _("Fixed by an officer's change")
        AUTO = "auto", _("Condition disappeared")

    issue_type = models.CharField(max_length=32, db_index=True, choices=IssueType.choices,
                                  help_text=_("What kind of problem the integrity check found."), verbose_name=_("issue type"))
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING, verbose_name=_("severity"))
    wow_character = models.ForeignKey(WowCharacter, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="audit_issues", verbose_name=_("character"))
    discord_user = models.ForeignKey(DiscordUser, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="audit_issues", verbose_name=_("Discord user"))
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_issues", verbose_name=_("player"))
    summary = models.CharField(max_length=255, verbose_name=_("summary"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    issue_hash = models.CharField(max_length=64, help_text=_("Identifies the condition: same hash, same issue."), verbose_name=_("issue key"))
    resolution = models.CharField(
        max_length=10, choices=Resolution.choices, blank=True,
        help_text=_("How the issue was closed: an officer resolved or dismissed it, or its condition went away."), verbose_name=_("resolution"),
    )
    condition_cleared_at = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When a check last found the condition gone. An issue an officer closed is flagged "
                  "again only after its condition went away and came back."), verbose_name=_("condition cleared at"),
    )
    first_detected = models.DateTimeField(auto_now_add=True, verbose_name=_("first detected"))
    last_seen = models.DateTimeField(verbose_name=_("last seen"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    resolved_by = models.CharField(max_length=150, blank=True,
                                   help_text=_("Officer username, or 'auto' when the condition disappeared."), verbose_name=_("closed by"))
    resolution_note = models.CharField(
        max_length=255, blank=True,
        help_text=_("What closed it, when a change did (e.g. 'Aeldor-argent-dawn linked to Aelindra')."), verbose_name=_("resolution note"))
    reported_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reported at"))

    class Meta:
        verbose_name = _("audit issue")
        verbose_name_plural = _("audit issues")
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["issue_hash"], condition=Q(resolved_at__isnull=True),
                                    name="auditissue_one_open_per_hash",
                                    violation_error_message=_("This issue is already open."),
            ),
            models.CheckConstraint(
                name="auditissue_closed_has_resolution",
                condition=(Q(resolved_at__isnull=True, resolution="")
                           | (Q(resolved_at__isnull=False) & ~Q(resolution=""))),
                violation_error_message=_("A closed issue says how it was closed, and an open one does not."),
            ),
        ]
        indexes = [models.Index(fields=["resolved_at", "reported_at"], name="auditissue_open_idx")]

    def __str__(self) -> str:
        return f"[{self.get_issue_type_display()}] {describe(self)}"


class SyncLog(models.Model):
    class Source(models.TextChoices):
        BLIZZARD = "blizzard", _("Blizzard API")
        DISCORD = "discord", _("Discord")
        ADDON = "addon", _("Addon upload")
        MATCHING = "matching", _("Identity matching")
        INTEGRITY = "integrity", _("Integrity check")
        RAID_HELPER = "raidhelper", _("Raid-Helper sign-ups")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Success")
        PARTIAL = "partial", _("Partial (some items failed)")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another run was in progress)")

    source = models.CharField(max_length=10, choices=Source.choices, verbose_name=_("source"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING, verbose_name=pgettext_lazy("guildsync", "status"))
    stats = models.JSONField(default=dict, blank=True, verbose_name=_("statistics"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    triggered_by = models.CharField(max_length=150, blank=True, help_text=_("Schedule, API key or officer."), verbose_name=_("triggered by"))
    api_key = models.ForeignKey(
        "rest_framework_api_key.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The API key that uploaded this addon file: with the upload scope alone it may read this run "
                  "(the upload's status URL), and no other."), verbose_name=_("API key"))

    class Meta:
        verbose_name = _("sync log")
        verbose_name_plural = _("sync logs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class NotePattern(models.Model):
    """A way this guild writes alt markers or Discord handles in guild/officer notes.

    Officers edit these in the admin because every guild writes notes differently. Each
    regex is matched case-insensitively and must capture the name in its first group.
    """

    class Kind(models.TextChoices):
        ALT_OF = "alt_of", _("Alt of a character (captures the main's name)")
        DISCORD = "discord", _("Discord handle (captures the Discord name)")

    name = models.CharField(max_length=60, unique=True, verbose_name=pgettext_lazy("guildsync", "name"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    regex = models.CharField(max_length=200, help_text=_("Python regex, case-insensitive; group 1 is the name."), verbose_name=_("regular expression"))
    is_active = models.BooleanField(default=True, verbose_name=pgettext_lazy("player, note pattern", "active"))
    priority = models.PositiveSmallIntegerField(default=100, help_text=_("Lower runs first."), verbose_name=_("priority"))

    class Meta:
        verbose_name = _("note pattern")
        verbose_name_plural = _("note patterns")
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            compiled = re.compile(self.regex, re.IGNORECASE)
        except re.error as exc:
            raise ValidationError({"regex": gettext("Not a valid regular expression: %(error)s") % {"error": exc}}) from exc
        if compiled.groups < 1:
            raise ValidationError({"regex": gettext("The pattern must capture the name in a group: (...).")})


class SyncLock(models.Model):
    """One row per kind of run (blizzard, discord, addon, matching, integrity, report).

    Long runs claim the row with a conditional update (``locked_until`` in the past → now +
    lease), so two workers never run the same sync at once; short runs lock it with
    ``select_for_update`` inside their transaction.
    """

    name = models.CharField(max_length=20, unique=True, verbose_name=pgettext_lazy("guildsync", "name"))
    locked_until = models.DateTimeField(null=True, blank=True, verbose_name=_("locked until"))
    holder = models.CharField(max_length=64, blank=True, verbose_name=_("holder"))

    class Meta:
        verbose_name = _("sync lock")
        verbose_name_plural = _("sync locks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DiscordRole(models.Model):
    """A role of the Discord server as the last Discord sync saw it (``GET /guilds/{id}/roles``):
    what officers pick from when they map a guild rank to a role (Discord owns these rows)."""

    discord_id = models.BigIntegerField(unique=True, help_text=_("The role's snowflake."), verbose_name=_("Discord ID"))
    name = models.CharField(max_length=100, verbose_name=pgettext_lazy("guildsync", "name"))
    position = models.IntegerField(default=0, help_text=_("Discord's order: higher sits above (the bot can only "
                                                        "hand out roles below its own)."), verbose_name=_("position"))
    managed = models.BooleanField(default=False, help_text=_("Owned by an integration (e.g. a bot's own role): "
                                                           "nobody can give it to a member."), verbose_name=_("managed"))
    is_present = models.BooleanField(default=True, help_text=_("False once the role was deleted in Discord."), verbose_name=_("on the server"))
    last_sync = models.DateTimeField(null=True, blank=True, verbose_name=_("last sync"))

    class Meta:
        verbose_name = _("Discord role")
        verbose_name_plural = _("Discord roles")
        ordering = ["-position", "name"]

    def __str__(self) -> str:
        return self.name


class DiscordServer(models.Model):
    """A Discord server (guild) by name, as the bot last saw it (GUILD_CREATE, GUILD_UPDATE) or as
    the demo data names it: the member directory's servers, so pages say "Stormwatch", not a
    snowflake (Discord owns these rows)."""

    discord_id = models.BigIntegerField(unique=True, help_text=_("The server's snowflake."), verbose_name=_("Discord ID"))
    name = models.CharField(max_length=100, verbose_name=pgettext_lazy("guildsync", "name"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("Discord server")
        verbose_name_plural = _("Discord servers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DiscordChannel(models.Model):
    """A channel (or thread) of a Discord server by name, as the bot last saw it (GUILD_CREATE,
    CHANNEL_CREATE/UPDATE): pages say "#raid-signups" and link to Discord instead of showing a
    snowflake (Discord owns these rows)."""

    discord_id = models.BigIntegerField(unique=True, help_text=_("The channel's snowflake."), verbose_name=_("Discord ID"))
    server_id = models.BigIntegerField(null=True, blank=True, help_text=_("The server's snowflake (none for DMs)."), verbose_name=_("server ID"))
    name = models.CharField(max_length=100, verbose_name=pgettext_lazy("guildsync", "name"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("Discord channel")
        verbose_name_plural = _("Discord channels")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"#{self.name}"


class RankRoleMapping(models.Model):
    """Opt-in per guild rank: the Discord role members of this rank should hold. With it, a
    ``rank_mismatch`` becomes planned role changes (``RoleChange``): add this role, remove the
    other mapped roles; roles no mapping names are never touched. One role per rank and one
    rank per role (both one-to-one in the database)."""

    class Mode(models.TextChoices):
        OFF = "off", _("Off (no role changes)")
        PLANNED = "planned", _("Planned (an officer applies them)")
        AUTOMATIC = "automatic", _("Automatic (queued after each integrity run)")

    rank = models.OneToOneField(GuildRank, on_delete=models.CASCADE, related_name="role_mapping",
                                help_text=_("The guild rank (one mapping per rank)."), verbose_name=_("rank"))
    role = models.OneToOneField(DiscordRole, on_delete=models.PROTECT, related_name="rank_mapping",
                                help_text=_("The Discord role of this rank (a role maps to one rank)."), verbose_name=_("role"))
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.PLANNED,
                            help_text=_("Off, planned (officers apply the plan) or automatic."), verbose_name=_("mode"))
    updated_by = models.CharField(max_length=150, blank=True, help_text=_("The officer who last changed it."), verbose_name=_("changed by"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["rank__blizzard_rank_index"]
        verbose_name = _("rank → Discord role mapping")
        verbose_name_plural = _("rank → Discord role mappings")

    def __str__(self) -> str:
        return f"{self.rank} → {self.role} ({self.get_mode_display()})"


class RoleChange(models.Model):
    """One planned Discord role change that fixes an open ``rank_mismatch``: add the rank's
    mapped role, or remove another mapped role. Planned after each integrity run (once per
    issue and role: database constraint), queued through the outbox when applied (the
    conditional update planned → queued is what stops a second apply), then done, skipped
    (the member left, the issue closed) or failed, with why."""

    class Action(models.TextChoices):
        ADD = "add", _("Add role")
        REMOVE = "remove", _("Remove role")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        QUEUED = "queued", _("Queued (outbox)")
        DONE = "done", _("Done in Discord")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    issue = models.ForeignKey(AuditIssue, on_delete=models.CASCADE, related_name="role_changes",
                              help_text=_("The rank_mismatch this change fixes."), verbose_name=_("issue"))
    discord_user = models.ForeignKey(DiscordUser, on_delete=models.CASCADE, related_name="role_changes", verbose_name=_("Discord user"))
    rank = models.ForeignKey(GuildRank, on_delete=models.CASCADE, related_name="+",
                             help_text=_("The member's in-game rank (the rank whose role they should hold)."), verbose_name=_("rank"))
    role = models.ForeignKey(DiscordRole, on_delete=models.PROTECT, related_name="role_changes", verbose_name=_("role"))
    action = models.CharField(max_length=6, choices=Action.choices, verbose_name=_("action"))
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PLANNED, verbose_name=pgettext_lazy("guildsync", "status"))
    outcome = models.CharField(max_length=255, blank=True, help_text=_("What happened, and why when it did not."), verbose_name=_("outcome"))
    outbox = models.OneToOneField("bot.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", help_text=_("The queued Discord call."), verbose_name=_("outbox message"))
    applied_by = models.CharField(max_length=150, blank=True, help_text=_("Officer, or 'automatic'."), verbose_name=_("applied by"))
    applied_at = models.DateTimeField(null=True, blank=True, verbose_name=_("applied at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("role change")
        verbose_name_plural = _("role changes")
        ordering = ["-created_at", "discord_user_id", "action"]
        permissions = [("apply_rolechange", "Can apply planned Discord role changes")]
        constraints = [
            models.UniqueConstraint(fields=["issue", "role"], name="rolechange_one_per_issue_role",
                                    violation_error_message=_("This issue already plans a change of this role.")),
            models.CheckConstraint(
                name="rolechange_planned_not_queued",
                condition=~Q(status="planned") | Q(applied_at__isnull=True, outbox__isnull=True),
                violation_error_message=_("A planned role change has not been queued yet.")),
            models.CheckConstraint(
                name="rolechange_settled_says_why", condition=~Q(status__in=["skipped", "failed"]) | ~Q(outcome=""),
                violation_error_message=_("A skipped or failed role change says why.")),
        ]
        indexes = [models.Index(fields=["status"], name="rolechange_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.role} → {self.discord_user} ({self.get_status_display()})"


class BattlenetProof(models.Model):
    """A member's Battle.net account lists this guild character: proof that the member plays it.

    Written at each Battle.net connection from the member's page (``services/battlenet.py``), for the
    characters of the account that are in the guild's roster; re-read each time (Battle.net user
    tokens last 24 hours, there is no refresh), so ``seen_at`` says when the account last listed it.
    A proof links the character to the member's player unless an officer linked it elsewhere: then
    the integrity check reports ``battlenet_conflict`` for as long as the two disagree."""

    character = models.ForeignKey(WowCharacter, on_delete=models.CASCADE, related_name="battlenet_proofs", verbose_name=_("character"))
    discord_user = models.ForeignKey(DiscordUser, on_delete=models.CASCADE, related_name="battlenet_proofs",
                                     help_text=_("The member whose Battle.net account lists the character."), verbose_name=_("Discord user"))
    battlenet_account_id = models.BigIntegerField(help_text=_("Blizzard's id of the member's Battle.net account."), verbose_name=_("Battle.net account ID"))
    first_seen_at = models.DateTimeField(auto_now_add=True, verbose_name=_("first seen at"))
    seen_at = models.DateTimeField(help_text=_("When their Battle.net account last listed the character."), verbose_name=_("last seen at"))

    class Meta:
        verbose_name = _("Battle.net proof")
        verbose_name_plural = _("Battle.net proofs")
        ordering = ["character"]
        constraints = [
            models.UniqueConstraint(fields=["character", "discord_user"], name="battlenetproof_one_per_member",
                                    violation_error_message=_("This member already proved this character.")),
        ]

    def __str__(self) -> str:
        return gettext("%(character)s proven by %(member)s") % {"character": self.character, "member": self.discord_user}


class RoleConnection(models.Model):
    """A member's Discord Linked Roles connection (``DISCORD_LINKED_ROLES``): their OAuth token with
    the ``role_connections.write`` scope, from their last sign-in with Discord, kept encrypted
    (``core.secrets``, ``FIELD_ENCRYPTION_KEY``) so their values can be pushed again after a change
    of rank or link; and what was last pushed, so an unchanged member is not pushed twice."""

    discord_user = models.OneToOneField(DiscordUser, on_delete=models.CASCADE, related_name="role_connection", verbose_name=_("Discord user"))
    access_token = models.TextField(help_text=_("Encrypted; never shown."), verbose_name=_("access token"))
    expires_at = models.DateTimeField(help_text=_("When Discord stops accepting the token (7 days after sign-in)."), verbose_name=_("expires at"))
    pushed_values = models.JSONField(null=True, blank=True, help_text=_("The metadata last accepted by Discord."), verbose_name=_("pushed values"))
    pushed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("pushed at"))
    last_error = models.CharField(max_length=255, blank=True, verbose_name=_("last error"))

    class Meta:
        verbose_name = _("Linked Roles connection")
        verbose_name_plural = _("Linked Roles connections")

    def __str__(self) -> str:
        return gettext("Linked Roles of %(member)s") % {"member": self.discord_user}
