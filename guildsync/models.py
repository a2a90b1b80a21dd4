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

from core.constraints import CompositeForeignKey


class Role(models.Model):
    """Combat role: Tank, Healer, Melee DPS, Ranged DPS."""

    name = models.CharField(max_length=20, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class WowClass(models.Model):
    name = models.CharField(max_length=30, unique=True)
    blizzard_id = models.PositiveSmallIntegerField(unique=True, help_text="playable_class.id in Blizzard's API.")
    color_hex = models.CharField(max_length=7, help_text="Class colour, e.g. #C41E3A.")

    class Meta:
        ordering = ["name"]
        verbose_name = "WoW class"
        verbose_name_plural = "WoW classes"

    def __str__(self) -> str:
        return self.name


class Specialization(models.Model):
    name = models.CharField(max_length=30)
    wow_class = models.ForeignKey(WowClass, on_delete=models.PROTECT, related_name="specializations")
    default_role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="specializations")
    blizzard_id = models.PositiveIntegerField(unique=True, help_text="active_spec.id in Blizzard's API.")

    class Meta:
        ordering = ["wow_class__name", "name"]
        constraints = [models.UniqueConstraint(fields=["wow_class", "name"], name="spec_unique_per_class",
                                               violation_error_message="This class already has a specialization with this name.")]

    def __str__(self) -> str:
        return f"{self.name} {self.wow_class.name}"


class GuildRank(models.Model):
    """A rank of the guild, keyed by the roster's rank index: Blizzard's API and the game number
    ranks 0 (the Guild Master) to 9, a guild has at most ten. Every index has a row, so a
    character's rank is never unknown: an index nobody named yet is "Rank 7" until the addon's
    upload (which knows the guild's own names) or an officer names it. Seniority is the index
    (lower = more senior)."""

    MAX_INDEX = 9

    class NameSource(models.TextChoices):
        PLACEHOLDER = "placeholder", "Placeholder (not named yet)"
        ADDON = "addon", "From the addon's upload"
        OFFICER = "officer", "Named by an officer"

    blizzard_rank_index = models.PositiveSmallIntegerField(
        unique=True, help_text="The roster's rank number: 0 is the Guild Master, 9 the lowest rank.",
    )
    name = models.CharField(max_length=50, unique=True, help_text="Officers rename ranks to their guild's names.")
    name_source = models.CharField(
        max_length=11, choices=NameSource.choices, default=NameSource.OFFICER,
        help_text="Who named the rank: the addon's upload renames placeholders and its own names, never an "
                  "officer's.",
    )
    level = models.PositiveSmallIntegerField(
        default=0,
        help_text="Raid standing: 2 or more is signed up when raids are booked (accepted with auto-invite, else "
                  "tentative), below 2 is benched. Defaults: Guild Leader 5 … Initiate 1, ranks 5–9 0.",
    )
    scheduling_weight = models.PositiveSmallIntegerField(default=0, help_text="Priority when filling raid slots.")

    class Meta:
        ordering = ["blizzard_rank_index"]
        constraints = [
            models.CheckConstraint(name="guildrank_index_0_9", condition=Q(blizzard_rank_index__lte=9),
                                   violation_error_message="A guild has ranks 0 (Guild Master) to 9."),
        ]

    def __str__(self) -> str:
        return self.name


class GuildRankRole(models.Model):
    """A Discord role name that counts as a guild rank (``rank_mismatch``, Discord sync): a
    guild may call its Guild Leader's role "GM". One role name counts for one rank only."""

    rank = models.ForeignKey(GuildRank, on_delete=models.CASCADE, related_name="discord_roles")
    role_name = models.CharField(max_length=100, help_text="As the role is named in Discord (case is ignored).")

    class Meta:
        ordering = ["rank__blizzard_rank_index", "id"]
        constraints = [
            models.UniqueConstraint(Lower("role_name"), name="guildrankrole_unique_name",
                                    violation_error_message="This Discord role already counts as another rank."),
        ]

    def __str__(self) -> str:
        return f"{self.role_name} → {self.rank}"


class DiscordUser(models.Model):
    """A member of the Discord server, as Discord reports it (read-only for officers)."""

    discord_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=64)
    display_name = models.CharField(max_length=64, blank=True)
    highest_guild_role = models.CharField(max_length=100, blank=True,
                                          help_text="The most senior guild-rank role the member holds.")
    all_guild_roles = models.JSONField(default=list, blank=True, help_text="Names of the guild-rank roles held.")
    joined_server_at = models.DateTimeField(null=True, blank=True)
    last_sync = models.DateTimeField(null=True, blank=True)
    is_present = models.BooleanField(default=True, help_text="False once the member left the server.")
    removed_at = models.DateTimeField(null=True, blank=True)
    locale = models.CharField(
        max_length=10, blank=True,
        help_text="The member's Discord client language when last seen (an interaction's locale, e.g. 'pt-BR'): "
                  "the language of the bot's DMs to them.")

    class Meta:
        ordering = ["username"]
        indexes = [models.Index(fields=["is_present"], name="discorduser_present_idx")]

    def __str__(self) -> str:
        return self.display_name or self.username


class WowCharacter(models.Model):
    character_name = models.CharField(max_length=24)
    realm_slug = models.CharField(max_length=64, help_text="As Blizzard's API spells it, e.g. 'twisting-nether'.")
    realm_name = models.CharField(max_length=64, blank=True)
    blizzard_id = models.BigIntegerField(null=True, blank=True)
    wow_class = models.ForeignKey(WowClass, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="characters", db_column="class_id")
    active_spec = models.ForeignKey(Specialization, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="characters")
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    item_level = models.PositiveSmallIntegerField(null=True, blank=True)
    guild_rank = models.ForeignKey(GuildRank, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="characters")
    achievement_points = models.PositiveIntegerField(null=True, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    profile_json = models.JSONField(null=True, blank=True, help_text="Last profile summary from Blizzard.")
    last_api_sync = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True, help_text="Set when the character left the roster.")
    addon_note = models.CharField(max_length=255, blank=True, help_text="Public guild note, from the addon.")
    addon_officer_note = models.CharField(max_length=255, blank=True, help_text="Officer note, from the addon.")
    addon_last_sync = models.DateTimeField(null=True, blank=True)
    skip_auto_match = models.BooleanField(
        default=False,
        help_text="Set when an officer removes this character's link: matching then leaves it to officers.",
    )

    class Meta:
        verbose_name = "WoW character"  # spelled like "WoW classes" in the sidebar
        ordering = ["character_name", "realm_slug"]
        constraints = [
            models.UniqueConstraint(Lower("character_name"), "realm_slug", name="wowcharacter_unique_name_realm",
                                    violation_error_message="A character with this name already exists on this realm."),
        ]
        indexes = [models.Index(fields=["removed_at"], name="wowchar_removed_idx")]

    def __str__(self) -> str:
        return f"{self.character_name}-{self.realm_slug}"


class Player(models.Model):
    """A person: one Discord account (optional) and the characters they play."""

    display_name = models.CharField(max_length=64)
    discord_user = models.OneToOneField(
        DiscordUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="player",
        help_text="At most one player per Discord user.",
    )
    main_character = models.ForeignKey(WowCharacter, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+",
                                       help_text="One of the player's own characters (the database checks it).")
    main_spec = models.ForeignKey(Specialization, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    guild_rank = models.ForeignKey(GuildRank, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="players")
    is_active = models.BooleanField(default=True)
    auto_invite_events = models.BooleanField(default=False,
                                             help_text="Signed up as accepted when raids are auto-booked.")
    on_raid_hiatus = models.BooleanField(default=False, help_text="Signed up as absence when raids are booked.")
    notes = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            # (player, main character) must be one of the player's character links, checked when the
            # transaction commits (services link and pick the main in either order).
            CompositeForeignKey(fields=["id", "main_character"], to="guildsync.PlayerCharacter",
                                to_fields=["player", "character"], name="player_main_character_owned",
                                violation_error_message="The main character must be one of the player's own "
                                                        "characters: unlink it from its player first."),
        ]

    def __str__(self) -> str:
        return self.display_name


class PlayerCharacter(models.Model):
    class LinkSource(models.TextChoices):
        EXACT_NAME = "exact_name", "Exact name"
        NOTE = "note", "Guild/officer note"
        ALT_NOTE = "alt_note", "Alt note"
        FUZZY = "fuzzy", "Fuzzy match"
        MANUAL = "manual", "Manual (officer)"
        BATTLENET = "battlenet", "Proven by Battle.net"

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="character_links")
    character = models.OneToOneField(WowCharacter, on_delete=models.CASCADE, related_name="player_link",
                                      help_text="A character belongs to at most one player.")
    link_source = models.CharField(max_length=12, choices=LinkSource.choices)
    confidence = models.FloatField(default=1.0, help_text="0–1; manual links are 1.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["player", "character"]
        constraints = [
            models.CheckConstraint(name="playercharacter_confidence_0_1",
                                   condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                                   violation_error_message="A link's confidence is between 0 and 1.",
            ),
            # what a player's main character points at (player_main_character_owned); redundant as a
            # rule (a character has one link), needed as the target of that composite foreign key
            models.UniqueConstraint(fields=["player", "character"], name="playercharacter_player_character",
                                    violation_error_message="This character is already linked to this player."),
        ]

    def __str__(self) -> str:
        return f"{self.character} → {self.player} ({self.link_source})"


class IdentityChange(models.Model):
    """The audit trail of links: who linked, moved or unlinked a character, and when.

    Written by the identity services in the transaction of the change, for the admin and the
    API alike; ``actor`` names the officer, the API user or the API key ("api-key:<name>").
    The sentence in ``summary`` survives the deletion of the character or player."""

    class Action(models.TextChoices):
        LINK = "link", "Linked"
        MOVE = "move", "Moved to another player"
        UNLINK = "unlink", "Unlinked"

    action = models.CharField(max_length=8, choices=Action.choices)
    actor = models.CharField(max_length=150, help_text="Officer username, 'api-key:<name>' or an API user.")
    character = models.ForeignKey(WowCharacter, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="identity_changes")
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="The player the character belongs to after the change (link, move) "
                                         "or belonged to (unlink).")
    previous_player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", help_text="For a move: the player it left.")
    summary = models.CharField(max_length=255, help_text="What happened, in words that outlive the rows.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="identitychange_has_actor", condition=~Q(actor=""),
                                   violation_error_message="An identity change names who made it."),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor}: {self.summary}"


class AuditIssue(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    class IssueType(models.TextChoices):
        # plain words for officers (the dashboard, filters, the issue page); the codes stay internal
        ORPHAN_WOW = "orphan_wow", "Character not linked to a player"
        ORPHAN_DISCORD = "orphan_discord", "Discord member with a guild role but no characters"
        RANK_MISMATCH = "rank_mismatch", "In-game rank and Discord role differ"
        STALE_CHARACTER = "stale_character", "Character not updated by Blizzard lately"
        BATTLENET_CONFLICT = "battlenet_conflict", "Battle.net proof disagrees with an officer's link"

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", "Resolved by an officer"
        DISMISSED = "dismissed", "Dismissed by an officer"
        FIXED = "fixed", "Fixed by an officer's change"
        AUTO = "auto", "Condition disappeared"

    issue_type = models.CharField(max_length=32, db_index=True, choices=IssueType.choices,
                                  help_text="What kind of problem the integrity check found.")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.WARNING)
    wow_character = models.ForeignKey(WowCharacter, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="audit_issues")
    discord_user = models.ForeignKey(DiscordUser, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="audit_issues")
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_issues")
    summary = models.CharField(max_length=255)
    details = models.JSONField(default=dict, blank=True)
    issue_hash = models.CharField(max_length=64, help_text="Identifies the condition: same hash, same issue.")
    resolution = models.CharField(
        max_length=10, choices=Resolution.choices, blank=True,
        help_text="How the issue was closed: an officer resolved or dismissed it, or its condition went away.",
    )
    condition_cleared_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When a check last found the condition gone. An issue an officer closed is flagged "
                  "again only after its condition went away and came back.",
    )
    first_detected = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True,
                                   help_text="Officer username, or 'auto' when the condition disappeared.")
    resolution_note = models.CharField(
        max_length=255, blank=True,
        help_text="What closed it, when a change did (e.g. 'Aeldor-argent-dawn linked to Aelindra').")
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["issue_hash"], condition=Q(resolved_at__isnull=True),
                                    name="auditissue_one_open_per_hash",
                                    violation_error_message="This issue is already open.",
            ),
            models.CheckConstraint(
                name="auditissue_closed_has_resolution",
                condition=(Q(resolved_at__isnull=True, resolution="")
                           | (Q(resolved_at__isnull=False) & ~Q(resolution=""))),
                violation_error_message="A closed issue says how it was closed, and an open one does not.",
            ),
        ]
        indexes = [models.Index(fields=["resolved_at", "reported_at"], name="auditissue_open_idx")]

    def __str__(self) -> str:
        return f"[{self.get_issue_type_display()}] {self.summary}"


class SyncLog(models.Model):
    class Source(models.TextChoices):
        BLIZZARD = "blizzard", "Blizzard API"
        DISCORD = "discord", "Discord"
        ADDON = "addon", "Addon upload"
        MATCHING = "matching", "Identity matching"
        INTEGRITY = "integrity", "Integrity check"
        RAID_HELPER = "raidhelper", "Raid-Helper sign-ups"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial (some items failed)"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run was in progress)"

    source = models.CharField(max_length=10, choices=Source.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    triggered_by = models.CharField(max_length=150, blank=True, help_text="Schedule, API key or officer.")
    api_key = models.ForeignKey(
        "rest_framework_api_key.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The API key that uploaded this addon file: with the upload scope alone it may read this run "
                  "(the upload's status URL), and no other.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class NotePattern(models.Model):
    """A way this guild writes alt markers or Discord handles in guild/officer notes.

    Officers edit these in the admin because every guild writes notes differently. Each
    regex is matched case-insensitively and must capture the name in its first group.
    """

    class Kind(models.TextChoices):
        ALT_OF = "alt_of", "Alt of a character (captures the main's name)"
        DISCORD = "discord", "Discord handle (captures the Discord name)"

    name = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    regex = models.CharField(max_length=200, help_text="Python regex, case-insensitive; group 1 is the name.")
    is_active = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower runs first.")

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            compiled = re.compile(self.regex, re.IGNORECASE)
        except re.error as exc:
            raise ValidationError({"regex": f"Not a valid regular expression: {exc}"}) from exc
        if compiled.groups < 1:
            raise ValidationError({"regex": "The pattern must capture the name in a group: (...)."})


class SyncLock(models.Model):
    """One row per kind of run (blizzard, discord, addon, matching, integrity, report).

    Long runs claim the row with a conditional update (``locked_until`` in the past → now +
    lease), so two workers never run the same sync at once; short runs lock it with
    ``select_for_update`` inside their transaction.
    """

    name = models.CharField(max_length=20, unique=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    holder = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DiscordRole(models.Model):
    """A role of the Discord server as the last Discord sync saw it (``GET /guilds/{id}/roles``):
    what officers pick from when they map a guild rank to a role (Discord owns these rows)."""

    discord_id = models.BigIntegerField(unique=True, help_text="The role's snowflake.")
    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0, help_text="Discord's order: higher sits above (the bot can only "
                                                        "hand out roles below its own).")
    managed = models.BooleanField(default=False, help_text="Owned by an integration (e.g. a bot's own role): "
                                                           "nobody can give it to a member.")
    is_present = models.BooleanField(default=True, help_text="False once the role was deleted in Discord.")
    last_sync = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-position", "name"]

    def __str__(self) -> str:
        return self.name


class DiscordServer(models.Model):
    """A Discord server (guild) by name, as the bot last saw it (GUILD_CREATE, GUILD_UPDATE) or as
    the demo data names it: the member directory's servers, so pages say "Stormwatch", not a
    snowflake (Discord owns these rows)."""

    discord_id = models.BigIntegerField(unique=True, help_text="The server's snowflake.")
    name = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DiscordChannel(models.Model):
    """A channel (or thread) of a Discord server by name, as the bot last saw it (GUILD_CREATE,
    CHANNEL_CREATE/UPDATE): pages say "#raid-signups" and link to Discord instead of showing a
    snowflake (Discord owns these rows)."""

    discord_id = models.BigIntegerField(unique=True, help_text="The channel's snowflake.")
    server_id = models.BigIntegerField(null=True, blank=True, help_text="The server's snowflake (none for DMs).")
    name = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"#{self.name}"


class RankRoleMapping(models.Model):
    """Opt-in per guild rank: the Discord role members of this rank should hold. With it, a
    ``rank_mismatch`` becomes planned role changes (``RoleChange``): add this role, remove the
    other mapped roles; roles no mapping names are never touched. One role per rank and one
    rank per role (both one-to-one in the database)."""

    class Mode(models.TextChoices):
        OFF = "off", "Off (no role changes)"
        PLANNED = "planned", "Planned (an officer applies them)"
        AUTOMATIC = "automatic", "Automatic (queued after each integrity run)"

    rank = models.OneToOneField(GuildRank, on_delete=models.CASCADE, related_name="role_mapping",
                                help_text="The guild rank (one mapping per rank).")
    role = models.OneToOneField(DiscordRole, on_delete=models.PROTECT, related_name="rank_mapping",
                                help_text="The Discord role of this rank (a role maps to one rank).")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.PLANNED,
                            help_text="Off, planned (officers apply the plan) or automatic.")
    updated_by = models.CharField(max_length=150, blank=True, help_text="The officer who last changed it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank__blizzard_rank_index"]
        verbose_name = "rank → Discord role mapping"

    def __str__(self) -> str:
        return f"{self.rank} → {self.role} ({self.mode})"


class RoleChange(models.Model):
    """One planned Discord role change that fixes an open ``rank_mismatch``: add the rank's
    mapped role, or remove another mapped role. Planned after each integrity run (once per
    issue and role: database constraint), queued through the outbox when applied (the
    conditional update planned → queued is what stops a second apply), then done, skipped
    (the member left, the issue closed) or failed, with why."""

    class Action(models.TextChoices):
        ADD = "add", "Add role"
        REMOVE = "remove", "Remove role"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        QUEUED = "queued", "Queued (outbox)"
        DONE = "done", "Done in Discord"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    issue = models.ForeignKey(AuditIssue, on_delete=models.CASCADE, related_name="role_changes",
                              help_text="The rank_mismatch this change fixes.")
    discord_user = models.ForeignKey(DiscordUser, on_delete=models.CASCADE, related_name="role_changes")
    rank = models.ForeignKey(GuildRank, on_delete=models.CASCADE, related_name="+",
                             help_text="The member's in-game rank (the rank whose role they should hold).")
    role = models.ForeignKey(DiscordRole, on_delete=models.PROTECT, related_name="role_changes")
    action = models.CharField(max_length=6, choices=Action.choices)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PLANNED)
    outcome = models.CharField(max_length=255, blank=True, help_text="What happened, and why when it did not.")
    outbox = models.OneToOneField("bot.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", help_text="The queued Discord call.")
    applied_by = models.CharField(max_length=150, blank=True, help_text="Officer, or 'automatic'.")
    applied_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "discord_user_id", "action"]
        permissions = [("apply_rolechange", "Can apply planned Discord role changes")]
        constraints = [
            models.UniqueConstraint(fields=["issue", "role"], name="rolechange_one_per_issue_role",
                                    violation_error_message="This issue already plans a change of this role."),
            models.CheckConstraint(
                name="rolechange_planned_not_queued",
                condition=~Q(status="planned") | Q(applied_at__isnull=True, outbox__isnull=True),
                violation_error_message="A planned role change has not been queued yet."),
            models.CheckConstraint(
                name="rolechange_settled_says_why", condition=~Q(status__in=["skipped", "failed"]) | ~Q(outcome=""),
                violation_error_message="A skipped or failed role change says why."),
        ]
        indexes = [models.Index(fields=["status"], name="rolechange_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.role} → {self.discord_user} ({self.status})"


class BattlenetProof(models.Model):
    """A member's Battle.net account lists this guild character: proof that the member plays it.

    Written at each Battle.net connection from the member's page (``services/battlenet.py``), for the
    characters of the account that are in the guild's roster; re-read each time (Battle.net user
    tokens last 24 hours, there is no refresh), so ``seen_at`` says when the account last listed it.
    A proof links the character to the member's player unless an officer linked it elsewhere: then
    the integrity check reports ``battlenet_conflict`` for as long as the two disagree."""

    character = models.ForeignKey(WowCharacter, on_delete=models.CASCADE, related_name="battlenet_proofs")
    discord_user = models.ForeignKey(DiscordUser, on_delete=models.CASCADE, related_name="battlenet_proofs",
                                     help_text="The member whose Battle.net account lists the character.")
    battlenet_account_id = models.BigIntegerField(help_text="Blizzard's id of the member's Battle.net account.")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(help_text="When their Battle.net account last listed the character.")

    class Meta:
        verbose_name = "Battle.net proof"
        ordering = ["character"]
        constraints = [
            models.UniqueConstraint(fields=["character", "discord_user"], name="battlenetproof_one_per_member",
                                    violation_error_message="This member already proved this character."),
        ]

    def __str__(self) -> str:
        return f"{self.character} proven by {self.discord_user}"


class RoleConnection(models.Model):
    """A member's Discord Linked Roles connection (``DISCORD_LINKED_ROLES``): their OAuth token with
    the ``role_connections.write`` scope, from their last sign-in with Discord, kept encrypted
    (``core.secrets``, ``FIELD_ENCRYPTION_KEY``) so their values can be pushed again after a change
    of rank or link; and what was last pushed, so an unchanged member is not pushed twice."""

    discord_user = models.OneToOneField(DiscordUser, on_delete=models.CASCADE, related_name="role_connection")
    access_token = models.TextField(help_text="Encrypted; never shown.")
    expires_at = models.DateTimeField(help_text="When Discord stops accepting the token (7 days after sign-in).")
    pushed_values = models.JSONField(null=True, blank=True, help_text="The metadata last accepted by Discord.")
    pushed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "Linked Roles connection"

    def __str__(self) -> str:
        return f"Linked Roles of {self.discord_user}"
