from core import groups


class RaidsConfig(groups.OfficerAppConfig):
    name = "raids"
    verbose_name = "Raids"
    officer_group = "Raid officers"
    officer_view_models = ("guildsync.player",)  # the attendance form's player picker
