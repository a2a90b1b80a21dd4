"""Issue #12 defects 3 and 4: ranks keyed by the roster's index 0–9, Discord role names per rank.

Existing data: ranks without an index get the seed's index for their name, else the next free
one; indexes 0–9 nobody has get a placeholder "Rank N". A rank keeping the seed's default name
is marked a placeholder so the addon's upload may give it the guild's own name; a renamed one
is the officers'. Each rank's old ``discord_role_name`` (or its name) becomes its first Discord
role, and rank 0 also accepts "GM" (the seed's rank_mismatch note). More than ten rank rows
cannot be kept: the extra ones (least senior) are removed and their characters and players are
left without a rank until the next sync gives them one.
"""

import django.db.models.functions.text
from django.db import migrations, models

SEED_NAMES = {0: "Guild Leader", 1: "Officer", 2: "Veteran", 3: "Member", 4: "Initiate"}
EXTRA_ROLES = {0: ("GM",)}


def forwards(apps, schema_editor):
    GuildRank = apps.get_model("guildsync", "GuildRank")
    GuildRankRole = apps.get_model("guildsync", "GuildRankRole")
    ranks = list(GuildRank.objects.order_by("-level", "pk"))
    taken = {r.blizzard_rank_index for r in ranks if r.blizzard_rank_index is not None and r.blizzard_rank_index <= 9}
    seed_index = {name: i for i, name in SEED_NAMES.items()}
    for rank in ranks:  # out-of-range indexes are reassigned like missing ones
        if rank.blizzard_rank_index is not None and rank.blizzard_rank_index > 9:
            rank.blizzard_rank_index = None
    for rank in ranks:
        if rank.blizzard_rank_index is None and seed_index.get(rank.name) not in taken | {None}:
            rank.blizzard_rank_index = seed_index[rank.name]
            taken.add(rank.blizzard_rank_index)
    for rank in ranks:
        if rank.blizzard_rank_index is None:
            free = [i for i in range(10) if i not in taken]
            if free:
                rank.blizzard_rank_index = free[0]
                taken.add(free[0])
    for rank in ranks:
        if rank.blizzard_rank_index is None:
            rank.delete()
            continue
        rank.name_source = "placeholder" if SEED_NAMES.get(rank.blizzard_rank_index) == rank.name else "officer"
        rank.save(update_fields=["blizzard_rank_index", "name_source"])
    names = {r.name.casefold() for r in GuildRank.objects.all()}
    for index in range(10):
        if index not in taken:
            name = f"Rank {index}" if f"rank {index}" not in names else f"Rank {index} (index {index})"
            GuildRank.objects.create(blizzard_rank_index=index, name=name, name_source="placeholder", level=0)
    used: set[str] = set()
    for rank in GuildRank.objects.filter(blizzard_rank_index__lte=4).order_by("blizzard_rank_index"):
        for role in ((rank.discord_role_name or rank.name).strip(), *EXTRA_ROLES.get(rank.blizzard_rank_index, ())):
            if role and role.casefold() not in used:
                used.add(role.casefold())
                GuildRankRole.objects.create(rank=rank, role_name=role[:100])
    for rank in GuildRank.objects.filter(blizzard_rank_index__gt=4).exclude(discord_role_name=""):
        if rank.discord_role_name.casefold() not in used:
            used.add(rank.discord_role_name.casefold())
            GuildRankRole.objects.create(rank=rank, role_name=rank.discord_role_name[:100])


def backwards(apps, schema_editor):
    GuildRank = apps.get_model("guildsync", "GuildRank")
    for rank in GuildRank.objects.prefetch_related("discord_roles"):
        first = next(iter(rank.discord_roles.all()), None)
        rank.discord_role_name = first.role_name if first else ""
        rank.save(update_fields=["discord_role_name"])


class Migration(migrations.Migration):
    dependencies = [("guildsync", "0007_identitychange")]

    operations = [
        migrations.AddField(
            model_name="guildrank",
            name="name_source",
            field=models.CharField(
                choices=[("placeholder", "Placeholder (not named yet)"), ("addon", "From the addon's upload"),
                         ("officer", "Named by an officer")],
                default="officer",
                help_text="Who named the rank: the addon's upload renames placeholders and its own names, never an "
                          "officer's.",
                max_length=11,
            ),
        ),
        migrations.AlterField(
            model_name="guildrank",
            name="level",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Raid standing: 2 or more is signed up when raids are booked (accepted with auto-invite, "
                          "else tentative), below 2 is benched. Defaults: Guild Leader 5 … Initiate 1, ranks 5–9 0.",
            ),
        ),
        migrations.CreateModel(
            name="GuildRankRole",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role_name", models.CharField(help_text="As the role is named in Discord (case is ignored).",
                                               max_length=100)),
                ("rank", models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="discord_roles",
                                           to="guildsync.guildrank")),
            ],
            options={"ordering": ["rank__blizzard_rank_index", "id"]},
        ),
        migrations.AddConstraint(
            model_name="guildrankrole",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("role_name"), name="guildrankrole_unique_name",
                violation_error_message="This Discord role already counts as another rank.",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
