"""Discord members, servers, channels and roles by name in the admin (the member directory:
``guildsync.services.members`` and ``guildsync.services.directory``).

Officers never read a bare snowflake: a member shows by current name (server nickname, else
global name, else username), a server by name, a channel as ``#name``, a role as ``@name``,
each with the raw id on hover. One the directory has never seen shows as "unknown member
…1234" (the id's last digits; the whole id on hover), never as an 18-digit number.

Columns read names from annotations (``MemberNamesMixin``: one subquery per column inside the
changelist's one query); free-form details (audit JSON) look every snowflake up at once
(``readable_details``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.labels import PREFIX, UNKNOWN, plain_label, short_id  # noqa: F401  (re-exported)

SNOWFLAKE = re.compile(r"^\d{15,20}$")


def directory_label(kind: str, discord_id: Any, name: str | None) -> SafeString | str:
    """A server / channel / role / member by name, the raw id on hover."""
    if not discord_id:
        return "—"
    if not name:
        return format_html('<span title="{}">{}</span>',
                           _("Discord id %(id)s (not in the directory yet)") % {"id": discord_id},
                           plain_label(kind, discord_id, None))
    return format_html('<span title="{}">{}</span>', _("Discord id %(id)s") % {"id": discord_id},
                       plain_label(kind, discord_id, name))


def member_label(discord_id: int | None, name: str | None, *, recorded: bool = False) -> SafeString | str:
    """A Discord user as officers know them: the current name, the raw id on hover ("unknown
    member …1234" when the member directory has never seen them). ``recorded``: ``name`` is
    the row's own copy from when it was written, not the directory's (the bank, id 0, has only that)."""
    if not discord_id and not recorded:
        return "—"
    if not name:
        return directory_label("member", discord_id, None)
    title = (_("Discord id %(id)s (name when recorded)") if recorded else _("Discord id %(id)s")) % {"id": discord_id}
    return format_html('<span title="{}">{}</span>', title, name)


def member_column(field: str, description: str = "member", *, stored_name: str | None = None
                  ) -> Callable[[Any], str]:
    """A list_display / readonly_fields column showing the member whose Discord id is in
    ``field``, by name, sortable by name. The admin must list ``field`` in ``member_fields``
    (``MemberNamesMixin``), which annotates the names in the changelist's one query.
    ``stored_name``: the row's own copy of the name (written when the row was), shown when
    the directory does not know the id (the bank, a member who left before the first sync)."""

    @admin.display(description=description, ordering=f"{field}_name")
    def column(obj: Any) -> str:
        name = getattr(obj, f"{field}_name", None)
        discord_id = getattr(obj, field)
        if not name and stored_name and getattr(obj, stored_name, ""):
            return member_label(discord_id, getattr(obj, stored_name), recorded=True)
        if name is None and discord_id and not hasattr(obj, f"{field}_name"):
            from guildsync.services.directory import names_for

            name = names_for("member", [discord_id]).get(discord_id)  # a change page's one row
        return member_label(discord_id, name)

    column.__name__ = f"{field}_member"
    return column


def directory_column(kind: str, field: str, description: str) -> Callable[[Any], str]:
    """A column showing the server / channel / role whose id is in ``field`` by name. The admin
    lists ``field`` in ``server_fields`` / ``channel_fields`` / ``role_fields``
    (``MemberNamesMixin`` annotates the names); on a change page's single row without the
    annotation, the name is looked up once."""

    @admin.display(description=description, ordering=f"{field}_name")
    def column(obj: Any) -> str:
        discord_id = getattr(obj, field)
        if hasattr(obj, f"{field}_name"):
            name = getattr(obj, f"{field}_name")
        else:
            from guildsync.services.directory import names_for

            name = names_for(kind, [discord_id]).get(discord_id) if discord_id else None
        return directory_label(kind, discord_id, name)

    column.__name__ = f"{field}_{kind}"
    return column


def actor_label(value: str | None, name: str | None) -> str:
    """An audit row's actor (``core.discord_signin.officers.actor``): a Discord id by the
    member's current name, the id on hover; a username (an officer without Discord, an API
    key) as it is."""
    value = (value or "").strip()
    if not value:
        return "—"
    return member_label(int(value), name) if value.isdigit() else value


def actor_column(field: str, description: str = "by") -> Callable[[Any], str]:
    """A column for a text field holding an actor (Discord id or username), listed in the
    admin's ``actor_fields`` (``MemberNamesMixin``)."""

    @admin.display(description=description, ordering=field)
    def column(obj: Any) -> str:
        return actor_label(getattr(obj, field), getattr(obj, f"{field}_name", None))

    column.__name__ = f"{field}_actor"
    return column


def details_column(field: str = "details", description: str = "details") -> Callable[[Any], str]:
    """A column showing a JSON field through ``readable_details``; list ``field`` in the
    admin's ``details_fields`` so a changelist looks the page's snowflakes up at once."""

    @admin.display(description=description)
    def column(obj: Any) -> str:
        return readable_details(getattr(obj, field), getattr(obj, "_directory_known", None))

    column.__name__ = f"{field}_readable"
    return column


class MemberNamesMixin:
    """For admins of rows that hold Discord user ids (``member_fields``), audit actors
    (``actor_fields``: text holding a Discord id or a username), servers (``server_fields``),
    channels (``channel_fields``) or roles (``role_fields``): the queryset carries each name
    (``<field>_name``, from the directory, one subquery per column inside the same query) and
    the search box also finds rows by the members' names, not only by raw id."""

    member_fields: tuple[str, ...] = ()
    actor_fields: tuple[str, ...] = ()
    server_fields: tuple[str, ...] = ()
    channel_fields: tuple[str, ...] = ()
    role_fields: tuple[str, ...] = ()
    details_fields: tuple[str, ...] = ()

    def get_changelist_instance(self, request: HttpRequest):
        """Snowflakes in the page's JSON details (``details_column``) are looked up once for the page."""
        changelist = super().get_changelist_instance(request)
        if self.details_fields:
            from guildsync.services.directory import identify

            found: set[int] = set()
            rows = list(changelist.result_list)
            for row in rows:
                for field in self.details_fields:
                    _snowflakes(getattr(row, field), found)
            known = identify(found)
            for row in rows:
                row._directory_known = known
        return changelist

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        from guildsync.services import directory
        from guildsync.services.members import actor_id_expression, name_expression

        queryset = super().get_queryset(request)
        if self.actor_fields:
            queryset = queryset.annotate(**{f"{field}_as_id": actor_id_expression(field) for field in self.actor_fields})
        places = {f"{field}_name": directory.name_expression(kind, field)
                  for kind, fields in (("server", self.server_fields), ("channel", self.channel_fields),
                                       ("role", self.role_fields)) for field in fields}
        return queryset.annotate(**{f"{field}_name": name_expression(field) for field in self.member_fields},
                                 **{f"{field}_name": name_expression(f"{field}_as_id") for field in self.actor_fields},
                                 **places)

    def get_search_results(self, request: HttpRequest, queryset: models.QuerySet, search_term: str):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term or not (self.member_fields or self.actor_fields):
            return found, may_have_duplicates
        from guildsync.services.members import actor_values_matching, ids_matching

        by_name = models.Q()
        for field in self.member_fields:
            by_name |= models.Q(**{f"{field}__in": ids_matching(term)})
        for field in self.actor_fields:
            by_name |= models.Q(**{f"{field}__in": actor_values_matching(term)})
        if not self.get_search_fields(request):
            return queryset.filter(by_name), may_have_duplicates
        return found | queryset.filter(by_name), may_have_duplicates


def server_filter(field: str = "guild_id", title: str = "server") -> type[admin.SimpleListFilter]:
    """A changelist filter on a server id column that lists the servers by name."""

    class ServerFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            from guildsync.services.directory import names_for

            ids = list(model_admin.model._default_manager.order_by(field).values_list(field, flat=True).distinct())
            names = names_for("server", ids)
            return [(str(i), plain_label("server", i, names.get(i))) for i in ids if i]

        def queryset(self, request, queryset):
            value = self.value()
            if value and value.isdigit():
                return queryset.filter(**{field: int(value)})
            return queryset

    ServerFilter.title = title
    ServerFilter.__name__ = f"{field.title().replace('_', '')}ServerFilter"
    return ServerFilter


def _snowflakes(value: Any, found: set[int]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _snowflakes(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _snowflakes(item, found)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | str) and SNOWFLAKE.match(str(value)):
        found.add(int(value))


def _kind_from_key(key: str) -> str:
    """What an unknown snowflake probably is, from its key ("officer_channel_id" → channel)."""
    key = key.lower()
    for word, kind in (("channel", "channel"), ("role", "role"), ("guild", "server"), ("server", "server")):
        if word in key:
            return kind
    return "member"


def readable_details(data: Any, known: dict[int, tuple[str, str]] | None = None) -> SafeString | str:
    """Free-form details (an audit row's JSON, an integrity issue's context) as a short list
    of "key: value" lines, each snowflake replaced by whoever or whatever it is (member,
    server, channel, role; the id on hover). Keys are shown as words. ``known``: the
    directory's answer for a whole page (``details_column``), else looked up here."""
    if data in (None, "", {}, []):
        return "—"
    if known is None:
        found: set[int] = set()
        _snowflakes(data, found)
        from guildsync.services.directory import identify

        known = identify(found)

    def show(value: Any, key: str = "") -> SafeString | str:
        if isinstance(value, dict):
            return format_html("<ul style=\"margin:0;padding-left:1.2em\">{}</ul>", format_html_join(
                "", "<li>{}: {}</li>", ((str(k).replace("_", " "), show(v, str(k))) for k, v in value.items())))
        if isinstance(value, list | tuple):
            return mark_safe(", ".join(str(show(v, key)) for v in value)) if value else "—"  # noqa: S308 (parts escaped)
        if not isinstance(value, bool) and isinstance(value, int | str) and SNOWFLAKE.match(str(value)):
            kind, name = known.get(int(value), (_kind_from_key(key), None))
            return directory_label(kind, int(value), name)
        if value is None:
            return "—"
        return format_html("{}", value if isinstance(value, str) else json.dumps(value))

    return show(data)
