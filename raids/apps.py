from django.utils.translation import gettext_lazy

from core import groups


class RaidsConfig(groups.OfficerAppConfig):
    name = "raids"
    verbose_name = gettext_lazy("Raids")
    officer_group = "Raid officers"  # the auth group's name, stored in the database
    officer_view_models = ("guildsync.player",)  # the attendance form's player picker
