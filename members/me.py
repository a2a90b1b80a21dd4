"""What a member's own page (``/me/``) shows, read in a fixed handful of queries: who they are on
Discord, their player's characters (with how each was linked), their Ark governors, their calendar
feed, their Ark reminder choices and whether Battle.net can be connected. Read-only: every change
the page makes goes through a service (members, ark, guildsync, core.privacy)."""

from __future__ import annotations

from dataclasses import dataclass, field

from allauth.socialaccount.models import SocialAccount
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ark import conf as ark_conf
from ark.models import Governor, ReminderPrefs
from core import i18n
from core.battlenet_signin.views import is_configured as battlenet_configured
from guildsync.models import DiscordUser, PlayerCharacter, RoleConnection
from guildsync.services import linked_roles
from members.models import CalendarToken


@dataclass(frozen=True)
class CharacterRow:
    name: str
    realm: str
    level: int | None
    wow_class: str
    spec: str
    rank: str
    source: str  # how the link was made, in words
    proven: bool  # linked by the member's own Battle.net account
    is_main: bool


@dataclass(frozen=True)
class ReminderChoice:
    name: str
    label: str
    wanted: bool


@dataclass
class MemberPage:
    discord_id: int
    name: str
    player: str = ""
    characters: list[CharacterRow] = field(default_factory=list)
    governors: list[Governor] = field(default_factory=list)
    calendar: CalendarToken | None = None
    reminders_on: bool = True
    reminders: list[ReminderChoice] = field(default_factory=list)
    battlenet_enabled: bool = False
    battlenet_account: str = ""
    linked_roles_on: bool = False
    linked_roles: RoleConnection | None = None
    linked_values: dict = field(default_factory=dict)


REMINDER_LABELS = {
    "24h": gettext_lazy("A day before the match"),
    "checkin_12h": gettext_lazy("When check-in opens (12 hours before)"),
    "4h": gettext_lazy("4 hours before"),
    "1h": gettext_lazy("1 hour before"),
    "start": gettext_lazy("When the match starts"),
}


def page_language(request: HttpRequest, discord_id: int | None) -> str | None:
    """The language of the member's page. The browser decides (Accept-Language, or Django's
    language cookie: ``LocaleMiddleware`` already activated it); a browser that says neither gets
    the member's last-seen Discord language (``guildsync.models.DiscordUser.locale``), if we ship
    it. Activates and returns that language, or None when the browser's (or the default) stays."""
    from django.conf import settings

    if discord_id is None or request.headers.get("Accept-Language") \
            or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return None
    locale = DiscordUser.objects.filter(discord_id=discord_id).values_list("locale", flat=True).first()
    language = i18n.language_of_locale(locale)
    if language is None:
        return None
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def _reminders(member: int) -> tuple[bool, list[ReminderChoice]]:
    prefs = ReminderPrefs.objects.filter(discord_user_id=member).first()
    choices = [ReminderChoice(r.name, REMINDER_LABELS.get(r.name, r.name),
                              prefs is None or r.name not in (prefs.disabled_types or []))
               for r in ark_conf.AVAILABLE_REMINDERS.values() if not r.to_channel]
    return (prefs is None or prefs.dm_enabled), choices


def dm_reminder_types() -> list[str]:
    """The Ark reminder types a member can turn off (the channel reminder is not theirs to mute)."""
    return [r.name for r in ark_conf.AVAILABLE_REMINDERS.values() if not r.to_channel]


def load(discord_id: int, fallback_name: str = "", login=None) -> MemberPage:
    user = DiscordUser.objects.filter(discord_id=discord_id).select_related("player").first()
    page = MemberPage(discord_id=discord_id, name=(str(user) if user else "") or fallback_name or str(discord_id))
    player = getattr(user, "player", None) if user else None
    if player is not None:
        page.player = player.display_name
        links = (PlayerCharacter.objects.filter(player=player)
                 .select_related("character__wow_class", "character__active_spec", "character__guild_rank")
                 .order_by("character__character_name"))
        for link in links:
            char = link.character
            page.characters.append(CharacterRow(
                name=char.character_name, realm=char.realm_name or char.realm_slug, level=char.level,
                wow_class=char.wow_class.name if char.wow_class else "", spec=char.active_spec.name if char.active_spec
                else "", rank=char.guild_rank.name if char.guild_rank else "",
                source=link.get_link_source_display(), proven=link.link_source == "battlenet",
                is_main=char.pk == player.main_character_id))
        page.characters.sort(key=lambda c: (not c.is_main, c.name.lower()))
    page.governors = list(Governor.objects.filter(discord_user_id=discord_id).order_by("name"))
    page.calendar = CalendarToken.objects.filter(discord_user_id=discord_id).first()
    page.reminders_on, page.reminders = _reminders(discord_id)
    page.linked_roles_on = linked_roles.enabled()
    if page.linked_roles_on and user is not None:
        page.linked_roles = RoleConnection.objects.filter(discord_user=user).first()
        page.linked_values = linked_roles.values_for([user.pk])[user.pk]["metadata"]
    page.battlenet_enabled = battlenet_configured()
    if page.battlenet_enabled and login is not None:
        account = SocialAccount.objects.filter(user=login, provider="battlenet").first()
        page.battlenet_account = (account.extra_data or {}).get("battletag") or _("connected") if account else ""
    return page
