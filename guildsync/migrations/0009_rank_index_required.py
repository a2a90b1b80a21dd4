from django.db import migrations, models


class Migration(migrations.Migration):
    """After 0006 gave every rank an index 0–9: the index is required, the old single role goes."""

    dependencies = [("guildsync", "0008_ranks_0_9_discord_roles")]

    operations = [
        migrations.RemoveField(model_name="guildrank", name="discord_role_name"),
        migrations.AlterField(
            model_name="guildrank",
            name="blizzard_rank_index",
            field=models.PositiveSmallIntegerField(
                help_text="The roster's rank number: 0 is the Guild Master, 9 the lowest rank.", unique=True),
        ),
        migrations.AlterModelOptions(name="guildrank", options={"ordering": ["blizzard_rank_index"]}),
        migrations.AddConstraint(
            model_name="guildrank",
            constraint=models.CheckConstraint(
                condition=models.Q(blizzard_rank_index__lte=9), name="guildrank_index_0_9",
                violation_error_message="A guild has ranks 0 (Guild Master) to 9."),
        ),
    ]
