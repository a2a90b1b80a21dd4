"""The member's own page, ``/me/`` (thin: reads come from ``members.me``, every change is a
service call). Signed out, it offers "Sign in with Discord" (allauth; a plain member login, never
staff: ``core.discord_signin.adapters``). Signed in, it shows their characters and governors,
their calendar feed (make a new URL, turn it off), their Ark reminder DMs, Battle.net (when on),
and their data rights (download, forget with a confirmation). Every form is a POST with Django's
CSRF token; no JavaScript.

Language: the one chosen with the page's switch (Django's ``set_language``: a cookie), else the
browser's (Accept-Language; both read by ``LocaleMiddleware``); a browser that sends neither gets
the member's last-seen Discord language (``members.me.page_language``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ark import services as ark_services
from core.discord_signin.officers import discord_id
from core.discord_signin.views import is_configured as discord_configured
from core.errors import DomainError
from core.privacy import counts
from core.privacy.requests import process
from members import me, services

NEW_URL_KEY = "members_me_new_calendar_url"


def _member_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in members with a Discord account only; anyone else goes to the page's sign-in."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member = discord_id(request.user)
        if member is None:
            return redirect("members-me")
        me.page_language(request, member)
        return view(request, member, *args, **kwargs)

    return guarded


@require_http_methods(["GET", "HEAD"])
def page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return TemplateResponse(request, "members/signin.html", {"discord_on": discord_configured(),
                                                                 "title": _("Sign in")})
    member = discord_id(request.user)
    if member is None:
        return TemplateResponse(request, "members/no_discord.html", {"title": _("Your page")})
    me.page_language(request, member)
    context = {"me": me.load(member, request.user.get_username(), request.user), "title": _("Your page"),
               "new_calendar_url": request.session.pop(NEW_URL_KEY, None)}
    return TemplateResponse(request, "members/me.html", context)


@require_POST
@_member_view
def calendar(request: HttpRequest, member: int) -> HttpResponse:
    action = request.POST.get("action")
    if action == "rotate":
        issued = services.issue_token(member, rotate=True)
        request.session[NEW_URL_KEY] = issued.url  # shown once, on the next page; only its hash is kept
        messages.success(request, _("Your calendar has a new private URL: copy it now, it is shown only once. "
                                    "Any earlier URL stopped working."))
    elif action == "revoke":
        if services.revoke_token(member):
            messages.success(request, _("Your calendar feed is off: its URL stopped working."))
        else:
            messages.info(request, _("You had no calendar feed."))
    else:
        messages.error(request, _("Unknown calendar action."))
    return redirect("members-me")


@require_POST
@_member_view
def reminders(request: HttpRequest, member: int) -> HttpResponse:
    wanted = set(request.POST.getlist("reminder"))
    known = me.dm_reminder_types()
    try:
        ark_services.upsert_reminder_prefs(discord_user_id=member, dm_enabled=request.POST.get("dm_enabled") == "on",
                                           disabled_types=[name for name in known if name not in wanted])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your reminder choices are saved."))
    return redirect("members-me")


@require_POST
@_member_view
def export(request: HttpRequest, member: int) -> HttpResponse:
    _record, data = process(member, kind="export", source="member", actor="member")
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="guildops-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@_member_view
def forget(request: HttpRequest, member: int) -> HttpResponse:
    """GET: what forgetting does, and the confirmation. POST (with the box ticked): erase, sign
    out, and show the receipt."""
    if request.method != "POST":
        return TemplateResponse(request, "members/forget.html", {"title": _("Forget me")})
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm: forgetting cannot be undone."))
        return redirect("members-forget")
    try:
        record, report = process(member, kind="forget", source="member", actor="member")
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("members-me")
    logout(request)
    return TemplateResponse(request, "members/forgotten.html", {
        "title": _("Forgotten"), "totals": counts(report), "reference": record.target_hash[:12],
        "processed_at": record.processed_at})
