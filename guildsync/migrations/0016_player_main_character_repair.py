"""Before the database ties a player's main character to the player's own characters (0017):
a main that is nobody's character gets linked to the player (a manual link, as ``save_player``
does), a main that belongs to another player gives way to one of the player's own characters
(or none). A separate migration: PostgreSQL refuses to add a constraint to a table with
pending deferred checks from rows changed in the same transaction."""

from django.db import migrations


def repair(apps, schema_editor):
    Player = apps.get_model("guildsync", "Player")
    PlayerCharacter = apps.get_model("guildsync", "PlayerCharacter")
    owners = dict(PlayerCharacter.objects.values_list("character_id", "player_id"))
    for player in Player.objects.filter(main_character__isnull=False).only("pk", "main_character_id"):
        owner = owners.get(player.main_character_id)
        if owner == player.pk:
            continue
        if owner is None:
            PlayerCharacter.objects.create(player_id=player.pk, character_id=player.main_character_id,
                                           link_source="manual", confidence=1.0)
            owners[player.main_character_id] = player.pk
            continue
        own = (PlayerCharacter.objects.filter(player_id=player.pk).order_by("character__character_name", "pk")
               .values_list("character_id", flat=True).first())
        Player.objects.filter(pk=player.pk).update(main_character_id=own)


class Migration(migrations.Migration):
    dependencies = [("guildsync", "0015_synclog_api_key")]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
