"""The writes of Discord sign-in: an officer's groups follow their Discord roles."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction


def role_group_map() -> dict[int, list[str]]:
    """``DISCORD_OFFICER_ROLE_GROUPS`` ("role id:group name,…", parsed in settings) as a dict."""
    mapping: dict[int, list[str]] = {}
    for role_id, group in settings.DISCORD_OFFICER_ROLE_GROUPS:
        mapping.setdefault(role_id, []).append(group)
    return mapping


@transaction.atomic
def apply_role_groups(user, role_ids: set[int]) -> tuple[list[str], list[str]]:
    """Give ``user`` the officer groups their Discord roles map to and take away the mapped
    groups whose role they lost (groups outside the mapping are left alone). Staff status
    follows: a member with a mapped group may use the admin, one without loses it (unless a
    superuser). Returns (added, removed) group names."""
    mapping = role_group_map()
    managed = {name for names in mapping.values() for name in names}
    wanted = {name for role in role_ids for name in mapping.get(role, [])}
    groups = {g.name: g for g in Group.objects.filter(name__in=managed)}
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    added = sorted((wanted - current) & groups.keys())
    removed = sorted(current - wanted)
    user.groups.add(*(groups[name] for name in added))
    user.groups.remove(*(groups[name] for name in removed))
    staff = bool(wanted & groups.keys()) or user.is_superuser or (
        user.is_staff and user.groups.exclude(name__in=managed).exists())
    if staff != user.is_staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    return added, removed
