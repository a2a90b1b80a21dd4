"""A player's main character is one of the player's own characters, in the database: a composite
foreign key (player, main character) → the character links (player, character), checked at commit."""

import core.constraints
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('guildsync', '0016_player_main_character_repair'),
    ]

    operations = [
        migrations.AlterField(
            model_name='player',
            name='main_character',
            field=models.ForeignKey(blank=True, help_text="One of the player's own characters (the database checks it).", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='guildsync.wowcharacter'),
        ),
        migrations.AddConstraint(
            model_name='playercharacter',
            constraint=models.UniqueConstraint(fields=('player', 'character'), name='playercharacter_player_character'),
        ),
        migrations.AddConstraint(
            model_name='player',
            constraint=core.constraints.CompositeForeignKey(fields=('id', 'main_character'), name='player_main_character_owned', to='guildsync.PlayerCharacter', to_fields=('player', 'character'), violation_error_message="The main character must be one of the player's own characters: unlink it from its player first."),
        ),
    ]
