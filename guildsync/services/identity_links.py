"""Officers' manual identity edits: link a character or a Discord member to a player, unlink,
save and delete players, and fix an integrity issue by a link.

Matching (``identity_engine``) never changes a link made here: every link is ``manual`` and
audited (``IdentityChange``, naming the officer). A link that removes an integrity issue's
condition closes the issue in the same transaction (``integrity_checker.close_fixed``), and
Linked Roles pushes are queued for the members whose values changed.

The audit sentences (``IdentityChange.summary``, an issue's ``resolution_note``) are stored: they
are written in the language active at the change (the officer's admin language; the API's
Accept-Language, English without one).

Split from ``identity_engine`` (the matching run) so that the checker, which these edits close
issues in, and the matcher do not import each other.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.errors import NotFoundError
from guildsync.models import AuditIssue, DiscordUser, IdentityChange, Player, PlayerCharacter, WowCharacter
from guildsync.services import integrity_checker, linked_roles
from guildsync.services.common import GuildSyncError, lock_for_update
from guildsync.services.integrity_checker import FIXABLE, HOW_TO_FIX

Source = PlayerCharacter.LinkSource


class IdentityNotFoundError(GuildSyncError, NotFoundError):
    """A character, player, Discord user or link named by id does not exist (the API
    answers 404)."""


def _actor(actor: str) -> str:
    actor = (actor or "").strip()[:150]
    if not actor:
        raise GuildSyncError(_("Say who makes the change (actor): every change of a link is audited."))
    return actor


def _next_main(player_id: int, leaving_character_id: int) -> int | None:
    """The character that becomes a player's main when the main leaves them: one still in
    the guild before a departed one, then the highest level, then by name."""
    return (PlayerCharacter.objects.filter(player_id=player_id).exclude(character_id=leaving_character_id)
            .order_by(F("character__removed_at").asc(nulls_first=True), F("character__level").desc(nulls_last=True),
                      "character__character_name", "character_id")
            .values_list("character_id", flat=True).first())


def _character_left(player_id: int, character_id: int) -> None:
    """A character left ``player_id`` (unlinked or moved): if it was their main, the main
    moves to another of their characters (or none), so ``main_character`` never names a
    character the player does not own. Runs in the caller's transaction."""
    Player.objects.filter(pk=player_id, main_character_id=character_id).update(
        main_character_id=_next_main(player_id, character_id))


def link_character(character_id: int, *, player_id: int | None = None, discord_user_id: int | None = None,
                   discord_id: int | None = None, actor: str = "") -> PlayerCharacter:
    """An officer links a character to a player, or to the player of a Discord user (one is
    created when the user has none), the user given by row id or by Discord snowflake
    (``discord_id``, what bots and officers' tools know). A character already linked
    elsewhere moves (and stops being its old player's main). The link becomes ``manual``:
    matching never changes it. Every call writes an ``IdentityChange`` naming ``actor``."""
    if sum(x is not None for x in (player_id, discord_user_id, discord_id)) != 1:
        raise GuildSyncError(_("Give either a player or a Discord user to link the character to: exactly one "
                               "of player_id, discord_user_id or discord_id."))
    actor = _actor(actor)
    with transaction.atomic():
        lock_for_update("matching")
        character = WowCharacter.objects.filter(pk=character_id).first()
        if character is None:
            raise IdentityNotFoundError(_("Character #%(id)s does not exist.") % {"id": character_id})
        if player_id is not None:
            player = Player.objects.filter(pk=player_id).first()
            if player is None:
                raise IdentityNotFoundError(_("Player #%(id)s does not exist.") % {"id": player_id})
        else:
            if discord_id is not None:
                user = DiscordUser.objects.filter(discord_id=discord_id).first()
            else:
                user = DiscordUser.objects.filter(pk=discord_user_id).first()
            if user is None:
                raise IdentityNotFoundError(_("Discord user %(user)s is not known here; run the Discord sync if "
                                                   "they joined recently.") % {"user": discord_id or f"#{discord_user_id}"})
            player = Player.objects.filter(discord_user=user).first() or Player.objects.create(
                display_name=(user.display_name or user.username)[:64], discord_user=user,
                main_character=character, guild_rank=character.guild_rank)
        previous = PlayerCharacter.objects.filter(character=character).select_related("player").first()
        link, _created = PlayerCharacter.objects.update_or_create(
            character=character, defaults={"player": player, "link_source": Source.MANUAL, "confidence": 1.0})
        moved_from = previous.player if previous is not None and previous.player_id != player.pk else None
        if moved_from is not None:
            _character_left(moved_from.pk, character.pk)
        if character.skip_auto_match:
            WowCharacter.objects.filter(pk=character.pk).update(skip_auto_match=False)
        if player.main_character_id is None:
            Player.objects.filter(pk=player.pk, main_character__isnull=True).update(main_character=character)
        if moved_from is not None:
            summary = _("%(character)s moved from %(previous)s to %(player)s") % {
                "character": character, "previous": moved_from, "player": player}
        else:
            summary = _("%(character)s linked to %(player)s") % {"character": character, "player": player}
        IdentityChange.objects.create(
            action=IdentityChange.Action.MOVE if moved_from else IdentityChange.Action.LINK, actor=actor,
            character=character, player=player, previous_player=moved_from, summary=summary[:255])
        linked_roles.queue_changed()
        integrity_checker.close_fixed(actor=actor, note=summary, character_ids=[character.pk],
                                      discord_user_ids=[player.discord_user_id] if player.discord_user_id else [])
    return link


def link_discord_user(discord_user_id: int, *, player_id: int, actor: str = "") -> Player:
    """An officer says which player a Discord member is (the fix of "Discord member with a
    guild role but no characters"). The player must not have another Discord account, and the
    member must not belong to another player: both refusals name who. Closes the member's
    open issues that this fixes, in the same transaction."""
    actor = _actor(actor)
    with transaction.atomic():
        lock_for_update("matching")
        user = DiscordUser.objects.filter(pk=discord_user_id).first()
        if user is None:
            raise IdentityNotFoundError(_("Discord user #%(id)s does not exist.") % {"id": discord_user_id})
        player = Player.objects.select_for_update().filter(pk=player_id).first()
        if player is None:
            raise IdentityNotFoundError(_("Player #%(id)s does not exist.") % {"id": player_id})
        owner = Player.objects.filter(discord_user=user).exclude(pk=player.pk).first()
        if owner is not None:
            raise GuildSyncError(_("%(member)s already belongs to the player %(player)s; nothing was changed.")
                                 % {"member": user, "player": owner})
        if player.discord_user_id not in (None, user.pk):
            raise GuildSyncError(_("%(player)s already has the Discord account %(member)s; nothing was changed.")
                                 % {"player": player, "member": player.discord_user})
        summary = _("Discord member %(member)s linked to %(player)s") % {"member": user, "player": player}
        if player.discord_user_id is None:
            Player.objects.filter(pk=player.pk).update(discord_user=user)
        integrity_checker.close_fixed(actor=actor, note=summary, discord_user_ids=[user.pk])
        linked_roles.queue_changed()
    player.refresh_from_db()
    return player


def check_player(player: Player) -> None:
    """The rules a player edited by an officer must follow, beyond the database's: the main
    character cannot be somebody else's character. Called by ``save_player`` and by the
    admin form (to show the message on the form rather than fail on save)."""
    if player.main_character_id is None:
        return
    owner = (PlayerCharacter.objects.filter(character_id=player.main_character_id)
             .exclude(player_id=player.pk).select_related("player", "character").first())
    if owner is not None:
        raise GuildSyncError(_("%(character)s belongs to %(owner)s: unlink it there before making it %(player)s's main.")
                             % {"character": owner.character, "owner": owner.player, "player": player})
    if player.discord_user_id is not None:
        other = Player.objects.filter(discord_user_id=player.discord_user_id).exclude(pk=player.pk).first()
        if other is not None:
            raise GuildSyncError(_("That Discord user already belongs to the player %(player)s.") % {"player": other})


def save_player(player: Player, actor: str = "") -> Player:
    """Create or change a player from the officers' admin. The main character, when it is
    nobody's yet, is linked to the player (manual link), so "main" always means "one of
    theirs"."""
    with transaction.atomic():
        lock_for_update("matching")
        check_player(player)
        try:
            with transaction.atomic():
                player.save()
        except IntegrityError as exc:  # a concurrent edit took the Discord user first
            raise GuildSyncError(_("That Discord user already belongs to another player.")) from exc
        if player.main_character_id is not None:
            PlayerCharacter.objects.get_or_create(
                character_id=player.main_character_id,
                defaults={"player": player, "link_source": Source.MANUAL, "confidence": 1.0})
        # an officer who gave the player a Discord account or a main fixed those issues
        integrity_checker.close_fixed(
            actor=(actor or "officer").strip()[:150], note=_("%(player)s edited: Discord account and main character set") % {"player": player},
            character_ids=[player.main_character_id] if player.main_character_id else [],
            discord_user_ids=[player.discord_user_id] if player.discord_user_id else [])
    return player


def delete_player(player_id: int, actor: str = "") -> None:
    """Delete a player; its characters become orphans that matching leaves alone (like an
    officer's unlink), so the player does not reappear at the next run."""
    with transaction.atomic():
        lock_for_update("matching")
        player = Player.objects.filter(pk=player_id).first()
        if player is None:
            raise GuildSyncError(_("Player #%(id)s does not exist.") % {"id": player_id})
        WowCharacter.objects.filter(player_link__player=player).update(skip_auto_match=True)
        player.delete()


def link_characters_to_player(character_ids: list[int], player_id: int, actor: str = "") -> int:
    """The admin's bulk action: several characters → one player, all or none."""
    if not character_ids:
        raise GuildSyncError(_("Select at least one character."))
    with transaction.atomic():
        for character_id in character_ids:
            link_character(character_id, player_id=player_id, actor=actor)
    return len(character_ids)


def unlink_character(link_id: int, actor: str = "") -> None:
    """Remove a link: the character becomes an orphan again, and matching leaves it alone
    from now on (``skip_auto_match``) — otherwise the same note would link it right back.
    An officer's next manual link clears the flag. If it was the player's main, the main
    moves to another of their characters (or none). Audited with ``actor``."""
    actor = _actor(actor)
    with transaction.atomic():
        lock_for_update("matching")
        link = PlayerCharacter.objects.filter(pk=link_id).select_related("player", "character").first()
        if link is None:
            raise IdentityNotFoundError(_("Link #%(id)s does not exist.") % {"id": link_id})
        WowCharacter.objects.filter(pk=link.character_id).update(skip_auto_match=True)
        link.delete()
        _character_left(link.player_id, link.character_id)
        IdentityChange.objects.create(action=IdentityChange.Action.UNLINK, actor=actor, character=link.character,
                                      player=link.player, summary=(_("%(character)s unlinked from %(player)s")
                                               % {"character": link.character, "player": link.player})[:255])
        linked_roles.queue_changed()


def fix_issue(issue_id: int, *, player_id: int, actor: str) -> AuditIssue:
    """The issue page's "Fix this issue": link the issue's character (``orphan_wow``,
    ``battlenet_conflict``) or Discord member (``orphan_discord``) to the player the officer chose; the link closes the issue
    (``integrity_checker.close_fixed``). Other types are not fixed by a link: the refusal says what fixes them."""
    with transaction.atomic():
        issue = AuditIssue.objects.select_for_update().filter(pk=issue_id).first()
        if issue is None:
            raise GuildSyncError(_("Issue #%(id)s does not exist.") % {"id": issue_id})
        if issue.resolved_at is not None:
            raise GuildSyncError(_("This issue is already closed (%(resolution)s by %(officer)s); nothing was changed.")
                                 % {"resolution": issue.get_resolution_display().lower(), "officer": issue.resolved_by})
        if issue.issue_type not in FIXABLE:
            raise GuildSyncError(_("%(issue_type)s is not fixed by linking a player. %(how_to_fix)s")
                                 % {"issue_type": issue.get_issue_type_display(),
                                    "how_to_fix": HOW_TO_FIX.get(issue.issue_type, "")})
        if issue.issue_type in ("orphan_wow", "battlenet_conflict"):
            link_character(issue.wow_character_id, player_id=player_id, actor=actor)
        else:
            link_discord_user(issue.discord_user_id, player_id=player_id, actor=actor)
        issue.refresh_from_db()
        if issue.resolved_at is None:  # the link is made but the condition holds: say so, change nothing
            raise GuildSyncError(_("The link was made but the issue's condition still holds; nothing was changed."))
    return issue
