"""The reference data (``guildsync.reference_data``: roles, classes, specs, ranks 0–9 with their
Discord roles, note patterns, the sync lock rows) written into a database: the one service the
migrations and the tests call.

``load_reference_data`` creates what is missing and leaves what exists (an officer's renamed
rank, an edited note pattern) as it is. Given a migration's ``apps`` it works on the historical
models, so a migration runs the very code a test runs on a flushed database.
"""

from __future__ import annotations

from django.apps import apps as django_apps
from django.db import transaction
from django.db.models.functions import Lower

from guildsync.reference_data import (
    CLASSES,
    DEFAULT_RANK_ROLES,
    GUILD_RANKS,
    NOTE_PATTERNS,
    ROLES,
    SPECIALIZATIONS,
    SYNC_LOCKS,
)
from guildsync.services.ranks import PLACEHOLDER, ensure_ranks


def load_reference_data(apps=None) -> None:
    """Create what is missing of the reference data, as the migrations load it on a fresh database;
    rows that exist are left as they are. Idempotent: a handful of queries when everything is
    there. One transaction. ``apps``: a migration's model registry (default: today's models)."""
    apps = apps or django_apps
    Role, WowClass, Specialization, GuildRank, GuildRankRole, NotePattern, SyncLock = (  # noqa: N806
        apps.get_model("guildsync", name) for name in
        ("Role", "WowClass", "Specialization", "GuildRank", "GuildRankRole", "NotePattern", "SyncLock"))
    with transaction.atomic():
        Role.objects.bulk_create([Role(name=name) for name in ROLES], ignore_conflicts=True)
        WowClass.objects.bulk_create([WowClass(blizzard_id=bid, name=name, color_hex=colour)
                                      for bid, name, colour in CLASSES], ignore_conflicts=True)
        specs = set(Specialization.objects.values_list("blizzard_id", flat=True))
        if len(specs) < len(SPECIALIZATIONS):
            roles = {r.name: r for r in Role.objects.filter(name__in=ROLES)}
            classes = {c.name: c for c in WowClass.objects.all()}
            Specialization.objects.bulk_create(
                [Specialization(blizzard_id=bid, name=name, wow_class=classes[cls], default_role=roles[role])
                 for bid, name, cls, role in SPECIALIZATIONS if bid not in specs], ignore_conflicts=True)
        ranks = set(GuildRank.objects.values_list("blizzard_rank_index", flat=True))
        GuildRank.objects.bulk_create(
            [GuildRank(name=name, level=level, scheduling_weight=weight, blizzard_rank_index=index,
                       name_source=PLACEHOLDER)
             for name, level, weight, index, _role in GUILD_RANKS if index not in ranks], ignore_conflicts=True)
        by_index = ensure_ranks(GuildRank)
        taken = set(GuildRankRole.objects.annotate(lower=Lower("role_name")).values_list("lower", flat=True))
        GuildRankRole.objects.bulk_create(
            [GuildRankRole(rank=by_index[index], role_name=name)
             for index, names in DEFAULT_RANK_ROLES.items() if index not in ranks
             for name in names if name.casefold() not in taken], ignore_conflicts=True)
        NotePattern.objects.bulk_create([NotePattern(name=name, kind=kind, regex=regex, priority=priority)
                                         for name, kind, regex, priority in NOTE_PATTERNS], ignore_conflicts=True)
        SyncLock.objects.bulk_create([SyncLock(name=name) for name in SYNC_LOCKS], ignore_conflicts=True)
