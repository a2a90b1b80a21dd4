"""Which language each reader gets, and the helpers every app renders text with.

Django's gettext catalogues under ``locale/`` are the one source of truth: the admin, services'
messages, Discord replies, posts and DMs, and the slash commands' localizations
(``bot.translator``) all read them. Who reads decides the language:

- an officer in the admin: their own choice (:class:`OfficerLanguageMiddleware`, stored by
  ``core.services.set_officer_language``), else the browser's Accept-Language (Django's
  ``LocaleMiddleware``), else English;
- a member's ephemeral reply: the member's Discord client language (``interaction.locale``,
  :func:`language_of_locale`; ``bot.interactions.respond`` activates it);
- a public post (a channel message, its later edits): the server language officers choose
  (:func:`server_language`, never a member's own locale: replying in public in a member's
  language would reveal their setting); a post keeps the language it was created in unless
  officers changed the setting since (:func:`post_language`);
- a DM: the member's last-seen locale, kept in the member directory
  (``guildsync.models.DiscordUser.locale``, :func:`member_language`).

The outbox records the language active when a message was queued (``OutboxMessage.language``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import formats, translation

from core.errors import DomainError

SOURCE = "en"

# Discord's locale codes (discord-api-docs reference.mdx, "Locales") → our languages. Spanish
# serves both Spain's and Latin America's clients; English both of Discord's Englishes.
DISCORD_LOCALES: dict[str, str] = {
    "en-US": "en",
    "en-GB": "en",
    "de": "de",
    "fr": "fr",
    "es-ES": "es",
    "es-419": "es",
    "pt-BR": "pt-br",
}


def languages() -> list[str]:
    """The codes of the languages shipped (settings.LANGUAGES), English first."""
    return [code for code, _name in settings.LANGUAGES]


def check_language(language: str) -> str:
    """``language`` if shipped, else a DomainError naming the ones that are."""
    code = (language or "").strip().lower()
    if code not in languages():
        raise DomainError(translation.gettext("%(language)s is not a language Guild Ops speaks; choose one of %(choices)s.")
                          % {"language": language or "''", "choices": ", ".join(languages())})
    return code


def language_of_locale(locale: Any) -> str | None:
    """Our language for a Discord locale (``"de"``, ``discord.Locale.brazil_portuguese``...),
    None for a locale we do not ship."""
    code = str(getattr(locale, "value", locale) or "")
    return DISCORD_LOCALES.get(code)


def discord_locales(language: str) -> list[str]:
    """Discord's locale codes one of our languages serves (the command localizations)."""
    return [locale for locale, lang in DISCORD_LOCALES.items() if lang == language]


# -- the server language ---------------------------------------------------------------------------
_SERVER_TTL = 10.0  # seconds a process trusts its copy (another process may change the setting)
_server_lock = threading.Lock()
_server_cache: tuple[float, str, Any] | None = None


def server_setting() -> tuple[str, Any]:
    """(language, changed_at) of the server language setting; English until officers choose."""
    global _server_cache
    now = time.monotonic()
    with _server_lock:
        cached = _server_cache
    if cached is not None and now - cached[0] < _SERVER_TTL:
        return cached[1], cached[2]
    from core.models import ServerLanguage

    row = ServerLanguage.objects.filter(id=1).values_list("language", "changed_at").first()
    language, changed_at = row if row is not None else (SOURCE, None)
    if language not in languages():
        language = SOURCE
    with _server_lock:
        _server_cache = (now, language, changed_at)
    return language, changed_at


def server_language() -> str:
    """The language of the bot's public posts (``core.models.ServerLanguage``)."""
    return server_setting()[0]


def cached_server_language() -> str | None:
    """The server language if this process read it recently (no database access), else None."""
    with _server_lock:
        cached = _server_cache
    if cached is not None and time.monotonic() - cached[0] < _SERVER_TTL:
        return cached[1]
    return None


def forget_server_language() -> None:
    """Drop this process's copy (after a change, and between tests)."""
    global _server_cache
    with _server_lock:
        _server_cache = None


def member_language(discord_id: int | None) -> str:
    """A member's language for DMs: their last-seen Discord locale if we ship it, else the
    server language."""
    if discord_id:
        from guildsync.models import DiscordUser

        locale = DiscordUser.objects.filter(discord_id=discord_id).values_list("locale", flat=True).first()
        language = language_of_locale(locale)
        if language:
            return language
    return server_language()


def post_language(post: Any) -> str:
    """The language to (re)render a public post in: the one it was created in (its outbox row's
    ``language``), unless officers changed the server language after it was created."""
    language, changed_at = server_setting()
    kept = getattr(post, "language", "") or ""
    created = getattr(post, "created_at", None)
    if kept in languages() and (changed_at is None or (created is not None and created >= changed_at)):
        return kept
    return language


@contextmanager
def public() -> Iterator[str]:
    """Render a public post (a channel message) in the server language."""
    language = server_language()
    with translation.override(language):
        yield language


@contextmanager
def for_member(discord_id: int | None) -> Iterator[str]:
    """Render a DM in the member's last-seen language."""
    language = member_language(discord_id)
    with translation.override(language):
        yield language


@contextmanager
def for_post(post: Any) -> Iterator[str]:
    """Re-render a public post (an edit) in its own language (:func:`post_language`)."""
    language = post_language(post)
    with translation.override(language):
        yield language


# -- numbers ---------------------------------------------------------------------------------------
def number(value: int | float | Decimal, decimals: int | None = None) -> str:
    """A number as the active language writes it: 12,345 / 12.345 / 12 345."""
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def percent(value: int | float | Decimal, decimals: int = 0) -> str:
    """A percentage (``value`` in percent) as the language writes it: "12.5%" (English), "12,5%"
    (Brazilian Portuguese), "12,5 %" with a no-break space (German, French, Spanish)."""
    if translation.get_language() in ("en", "pt-br", None):
        return f"{number(value, decimals)}%"
    return f"{number(value, decimals)}\u00a0%"


# -- the admin -------------------------------------------------------------------------------------
SESSION_KEY = "guildops_language"  # the officer's choice ("" for none), copied at sign-in


def officer_language(user: Any) -> str:
    """The admin language ``user`` chose, "" for none."""
    from core.models import OfficerLanguage

    chosen = OfficerLanguage.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return chosen if chosen in languages() else ""


def remember_in_session(request: HttpRequest | None, language: str) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language


def on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: copy the officer's choice into the session, so that no request
    pays a query for it (``core.apps`` connects it)."""
    remember_in_session(request, officer_language(user))


class OfficerLanguageMiddleware:
    """After ``AuthenticationMiddleware``: a signed-in officer's own language choice
    (``core.models.OfficerLanguage``, copied into the session at sign-in and by the Language
    page) overrides what ``LocaleMiddleware`` took from the browser. A session from before the
    choice existed reads it once."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            chosen = session[SESSION_KEY]
        else:
            user = getattr(request, "user", None)
            chosen = ""
            if user is not None and user.is_authenticated:
                chosen = officer_language(user)
                remember_in_session(request, chosen)
        if chosen and chosen in languages():
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)
