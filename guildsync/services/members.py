"""The member directory: Discord ids → the names officers know people by.

Every app stores Discord users as bare snowflakes (balances, signups, bans, outbox rows…).
``DiscordUser`` is the one place their names live. The full member sync and the gateway
member events (``discord_sync``) keep it complete; ``record_member`` adds what the bot sees
in between (whoever uses a command or a button), so a name is known from a member's first
interaction on. The admin reads names through ``name_expression`` (an annotation: no query
per row) and finds rows by name through ``ids_matching``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BigIntegerField, Case, CharField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf

from guildsync.models import DiscordUser

NAME_LENGTH = DiscordUser._meta.get_field("display_name").max_length
LOCALE_LENGTH = DiscordUser._meta.get_field("locale").max_length


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())[:NAME_LENGTH]


def record_member(discord_id: int, username: str, display_name: str = "", *, in_server: bool = False,
                  locale: str = "") -> bool:
    """Remember the current names of a Discord user seen by the bot (an interaction, a
    message), and the language of their Discord client (``locale``, an interaction's: the
    language of the bot's DMs to them, ``core.i18n.member_language``). Writes only when
    something changed, so the hot path is one indexed read.
    A user seen for the first time is created as present only when seen on the server
    (``in_server``); presence and roles otherwise stay the member sync's business.
    Returns whether a row was written."""
    discord_id, username, display_name = int(discord_id), _clean(username), _clean(display_name)
    locale = _clean(locale)[:LOCALE_LENGTH]
    if discord_id <= 0 or not username:
        return False
    known = DiscordUser.objects.filter(discord_id=discord_id).values_list("username", "display_name", "locale").first()
    if (known is not None and known[0] == username and (not display_name or known[1] == display_name)
            and (not locale or known[2] == locale)):
        return False
    kept = {**({"display_name": display_name} if display_name else {}), **({"locale": locale} if locale else {})}
    if known is not None:
        return DiscordUser.objects.filter(discord_id=discord_id).update(username=username, **kept) > 0
    DiscordUser.objects.bulk_create(
        [DiscordUser(discord_id=discord_id, username=username, is_present=in_server, **kept)],
        update_conflicts=True, unique_fields=["discord_id"], update_fields=["username", *kept],
    )
    return True


def name_expression(id_field: str) -> Subquery:
    """An annotation giving the current name of the Discord user whose id is in ``id_field``
    (display name, else username; NULL when the directory does not know them)."""
    names = DiscordUser.objects.filter(discord_id=OuterRef(id_field)).annotate(
        shown=Coalesce(NullIf("display_name", Value("")), "username", output_field=CharField()))
    return Subquery(names.values("shown")[:1], output_field=CharField())


# A text column holding a Discord id or a username (an audit row's actor): only digit strings
# that fit a signed 64-bit integer are read as ids (a 19-digit username could not be cast).
SNOWFLAKE_TEXT = r"^[1-8]?[0-9]{1,18}$"


def actor_id_expression(text_field: str) -> Case:
    """The Discord id in a text column holding a Discord id or a username (audit rows'
    actors), NULL for a username: annotate it, then ``name_expression`` on the annotation
    gives the member's current name in the same query."""
    return Case(When(**{f"{text_field}__regex": SNOWFLAKE_TEXT}, then=Cast(text_field, BigIntegerField())),
                default=None, output_field=BigIntegerField())


def actor_values_matching(text: str) -> QuerySet:
    """Discord ids (as text, as actors are stored) of members whose name contains ``text``."""
    return ids_matching(text).annotate(as_text=Cast("discord_id", CharField())).values("as_text")


def ids_matching(text: str) -> QuerySet:
    """Discord ids whose username or display name contains ``text`` (for searches)."""
    return DiscordUser.objects.filter(Q(username__icontains=text) | Q(display_name__icontains=text)).values(
        "discord_id")


def names_for(discord_ids: Iterable[int]) -> dict[int, str]:
    """Current names of these Discord ids in one query (unknown ids are left out)."""
    ids = {int(i) for i in discord_ids if i}
    if not ids:
        return {}
    return {discord_id: display or username for discord_id, username, display in
            DiscordUser.objects.filter(discord_id__in=ids).values_list("discord_id", "username", "display_name")}
