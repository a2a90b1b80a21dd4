from django.utils.translation import gettext_lazy as _

from core import groups


class MembersConfig(groups.OfficerAppConfig):
    """The members' own front door: private calendar feeds (and the public feed switches, which guild
    officers keep: they span raids and Ark)."""

    name = "members"
    verbose_name = _("Members' calendars")
    officer_group = "Guild officers"
    officer_view_models = ("ark.alliance",)  # the public Ark feed's alliance picker
