from django.db import migrations

from guildsync.reference_data import CLASSES, GUILD_RANKS, ROLES, SPECIALIZATIONS


def load(apps, schema_editor):
    Role = apps.get_model("guildsync", "Role")
    WowClass = apps.get_model("guildsync", "WowClass")
    Specialization = apps.get_model("guildsync", "Specialization")
    GuildRank = apps.get_model("guildsync", "GuildRank")
    roles = {name: Role.objects.get_or_create(name=name)[0] for name in ROLES}
    classes = {}
    for blizzard_id, name, colour in CLASSES:
        classes[name], _ = WowClass.objects.update_or_create(
            blizzard_id=blizzard_id, defaults={"name": name, "color_hex": colour}
        )
    for blizzard_id, name, class_name, role in SPECIALIZATIONS:
        Specialization.objects.update_or_create(
            blizzard_id=blizzard_id,
            defaults={"name": name, "wow_class": classes[class_name], "default_role": roles[role]},
        )
    for name, level, weight, index, role_name in GUILD_RANKS:
        GuildRank.objects.get_or_create(
            level=level,
            defaults={"name": name, "scheduling_weight": weight, "blizzard_rank_index": index,
                      "discord_role_name": role_name},
        )


class Migration(migrations.Migration):
    dependencies = [("guildsync", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
