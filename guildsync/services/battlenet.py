"""Characters proven by Battle.net: a member connects their Battle.net account from their page
(``/me/``, allauth's Battle.net provider, scope ``wow.profile``) and the account's characters that
are in the guild's roster are linked to the member's player with the source ``battlenet``.

Why a proof outranks the guesses: matching (``identity_engine.run_matching``) links by exact name,
notes and fuzzy names, which can be wrong; Blizzard listing the character on the member's own
account cannot. So, for each character of the account found in the roster (by Blizzard's character
id, else by name and realm slug):

- nobody's yet → linked to the member's player (``battlenet``, confidence 1);
- linked to the member's player by a guess → the link becomes ``battlenet``;
- linked to another player by a guess (exact name, note, alt note, fuzzy) → moved to the member's
  player (audited as a move);
- linked by an officer (``manual``) or by another member's proof to someone else → **left alone**:
  the disagreement is an integrity issue (``battlenet_conflict``) for officers, opened at once and
  kept by every integrity run while the proof and the link disagree (``find_battlenet_conflicts``).

Each connection records a ``BattlenetProof`` per character (``seen_at`` refreshed): Battle.net user
tokens last 24 hours and cannot be refreshed, so the characters are re-read at each connection, never
in the background. Everything runs in one transaction under the ``matching`` lock, like officers'
links, so matching never interleaves with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guildsync.models import (
    AuditIssue,
    BattlenetProof,
    DiscordUser,
    IdentityChange,
    Player,
    PlayerCharacter,
    WowCharacter,
)
from guildsync.services import linked_roles
from guildsync.services.common import GuildSyncError, lock_for_update
from guildsync.services.identity_links import _character_left
from guildsync.services.integrity_checker import Finding, conflict_finding

Source = PlayerCharacter.LinkSource
GUESSES = {Source.EXACT_NAME, Source.NOTE, Source.ALT_NOTE, Source.FUZZY}


@dataclass
class ProofReport:
    linked: list[str] = field(default_factory=list)  # new links
    upgraded: list[str] = field(default_factory=list)  # the member's guessed links, now proven
    moved: list[str] = field(default_factory=list)  # taken from another player's guessed link
    unchanged: list[str] = field(default_factory=list)  # proven or officer-linked to the member already
    conflicts: list[str] = field(default_factory=list)  # an officer (or another proof) says someone else
    not_in_guild: int = 0  # characters of the account the roster does not know

    def summary(self) -> str:
        """What the member reads on their page, in the active language."""
        counts = ((len(self.linked), ngettext("%(count)s linked", "%(count)s linked", len(self.linked))),
                  (len(self.upgraded), ngettext("%(count)s confirmed", "%(count)s confirmed", len(self.upgraded))),
                  (len(self.moved), ngettext("%(count)s moved to you", "%(count)s moved to you", len(self.moved))),
                  (len(self.unchanged), ngettext("%(count)s already yours", "%(count)s already yours",
                                                 len(self.unchanged))))
        parts = ", ".join(text % {"count": n} for n, text in counts if n) \
            or _("no character of the guild on this account")
        if self.not_in_guild:
            text = ngettext("Battle.net: %(found)s; %(count)s not in the guild.",
                            "Battle.net: %(found)s; %(count)s not in the guild.", self.not_in_guild) % {
                "found": parts, "count": self.not_in_guild}
        else:
            text = _("Battle.net: %(found)s.") % {"found": parts}
        if self.conflicts:
            text += " " + ngettext("%(characters)s: an officer linked it to someone else; the officers are told.",
                                   "%(characters)s: an officer linked them to someone else; the officers are told.",
                                   len(self.conflicts)) % {"characters": ", ".join(self.conflicts)}
        return text


def _open_issue(finding: Finding) -> None:
    """Open the issue now (officers see it before the next integrity run); the run keeps it."""
    if AuditIssue.objects.filter(issue_hash=finding.hash, resolved_at__isnull=True).exists():
        return
    AuditIssue.objects.create(
        issue_type=finding.issue_type, severity=finding.severity, summary=finding.summary[:255],
        details=finding.details, issue_hash=finding.hash, last_seen=timezone.now(),
        wow_character_id=finding.wow_character_id, discord_user_id=finding.discord_user_id,
        player_id=finding.player_id)


def _find(characters: list[dict[str, Any]]) -> dict[int, WowCharacter]:
    """Roster rows for the account's characters, by index in ``characters`` (Blizzard id first)."""
    ids = [c["id"] for c in characters if c.get("id")]
    by_id = {w.blizzard_id: w for w in WowCharacter.objects.filter(blizzard_id__in=ids, removed_at__isnull=True)}
    condition = Q()
    for c in characters:
        condition |= Q(character_name__iexact=c["name"], realm_slug=c["realm_slug"])
    by_name = {(w.character_name.lower(), w.realm_slug): w
               for w in WowCharacter.objects.filter(condition, removed_at__isnull=True)} if characters else {}
    found = {}
    for i, c in enumerate(characters):
        row = by_id.get(c.get("id")) or by_name.get((c["name"].lower(), c["realm_slug"]))
        if row is not None:
            found[i] = row
    return found


def link_proven_characters(discord_id: int, battlenet_account_id: int,
                           characters: list[dict[str, Any]]) -> ProofReport:
    """Link the characters of the member's Battle.net account (``clients.account_characters``)
    that are in the roster to the member's player; see the module docstring for the rules."""
    actor = f"battlenet:{discord_id}"
    report = ProofReport()
    now = timezone.now()
    with transaction.atomic():
        lock_for_update("matching")
        member = DiscordUser.objects.filter(discord_id=discord_id).first()
        if member is None:
            raise GuildSyncError(_("Guild Ops does not know your Discord account yet (the Discord sync has not seen "
                                   "you): try again after the next sync, or ask an officer."))
        found = _find(characters)
        report.not_in_guild = len(characters) - len({row.pk for row in found.values()})
        player = Player.objects.filter(discord_user=member).first()
        for row in {r.pk: r for r in found.values()}.values():
            proof, _created = BattlenetProof.objects.update_or_create(
                character=row, discord_user=member,
                defaults={"battlenet_account_id": battlenet_account_id, "seen_at": now})
            link = PlayerCharacter.objects.filter(character=row).select_related("player").first()
            if player is None and (link is None or link.link_source in GUESSES):
                player = Player.objects.create(display_name=str(member)[:64], discord_user=member,
                                               guild_rank=row.guild_rank)
            if link is None:
                PlayerCharacter.objects.create(player=player, character=row, link_source=Source.BATTLENET,
                                               confidence=1.0)
                IdentityChange.objects.create(action=IdentityChange.Action.LINK, actor=actor, character=row,
                                              player=player, summary=_("%(character)s proven by Battle.net: linked to %(player)s")
                                              % {"character": row, "player": player})
                report.linked.append(str(row))
            elif player is not None and link.player_id == player.pk:
                if link.link_source in GUESSES:
                    PlayerCharacter.objects.filter(pk=link.pk).update(link_source=Source.BATTLENET, confidence=1.0)
                    report.upgraded.append(str(row))
                else:
                    report.unchanged.append(str(row))
            elif link.link_source in GUESSES:
                previous = link.player
                PlayerCharacter.objects.filter(pk=link.pk).update(player=player, link_source=Source.BATTLENET,
                                                                  confidence=1.0)
                _character_left(previous.pk, row.pk)
                IdentityChange.objects.create(
                    action=IdentityChange.Action.MOVE, actor=actor, character=row, player=player,
                    previous_player=previous, summary=_("%(character)s proven by Battle.net: moved from %(previous)s to %(player)s")
                    % {"character": row, "previous": previous, "player": player})
                report.moved.append(str(row))
            else:  # an officer's link, or another member's proof: never overwritten
                _open_issue(conflict_finding(proof.pk, row, member, link.player, link.link_source))
                report.conflicts.append(str(row))
        if player is not None and player.main_character_id is None:
            first = PlayerCharacter.objects.filter(player=player).order_by("-character__level").values_list(
                "character_id", flat=True).first()
            if first is not None:
                Player.objects.filter(pk=player.pk, main_character__isnull=True).update(main_character_id=first)
        linked_roles.queue_changed()
    return report
