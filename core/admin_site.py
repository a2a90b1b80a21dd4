"""The officers' admin site: Django's built-in admin, with the dashboard (``core.dashboard``)
as its home page, the domains first with a one-line description each, and the plumbing
(logins, API keys, Celery beat) under a "System" heading below them. "View site" leads back
to the dashboard: the project serves no public pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

# The order officers see the domains in, and what each is for (the app list's subtitle).
DOMAIN_APPS: dict[str, Any] = {
    "guildsync": gettext_lazy("Who is who: WoW characters, Discord members and the players they belong to; "
                   "integrity issues."),
    "raids": gettext_lazy("Raid seasons, weekly raid nights, booked events with their sign-ups, attendance reports."),
    "ark": gettext_lazy("Rise of Kingdoms Ark of Osiris: matches, governors' sign-ups, bans, reminders, results."),
    "ratmas": gettext_lazy("Secret Santa: events, participants, exclusions, the draw and the Santas' DMs."),
    "economy": gettext_lazy("Bytes: balances, transfers, daily streaks, squads, role rewards, moderation."),
    "bot": gettext_lazy("Every Discord message and action waiting for, or done by, the delivery worker."),
}
SYSTEM_APPS: dict[str, Any] = {
    "auth": gettext_lazy("Officer logins and the groups that give them their permissions."),
    "socialaccount": gettext_lazy("Discord sign-in: which login each Discord account signs in to."),
    "rest_framework_api_key": gettext_lazy("Keys of machine clients (the addon companion); stored hashed."),
    "django_celery_beat": gettext_lazy("Schedules of the periodic jobs (sync, reminders, auto-booking); Celery internals."),
    "core": gettext_lazy("Project plumbing."),
}


class GuildOpsAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Guild Ops — officers")
    site_title = "Guild Ops"
    index_title = gettext_lazy("What needs an officer now")
    index_template = "admin/guildops_index.html"

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        context["site_url"] = reverse(f"{self.name}:index")  # "View site" = the dashboard
        from core.discord_signin.views import is_configured

        context["discord_signin"] = is_configured()  # the login page's Discord button (or how to turn it on)
        return context

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """Domains in their fixed order, then everything else (System) alphabetically; each
        app carries its ``description`` and whether it is ``system``."""
        apps = super().get_app_list(request, app_label)
        order = {label: i for i, label in enumerate(DOMAIN_APPS)}
        for app in apps:
            label = app["app_label"]
            app["system"] = label not in DOMAIN_APPS
            app["description"] = DOMAIN_APPS.get(label) or SYSTEM_APPS.get(label, "")
        return sorted(apps, key=lambda a: (a["system"], order.get(a["app_label"], 0), a["name"].lower()))

    def get_urls(self) -> list:
        from django.urls import path

        return [path("language/", self.admin_view(self.language_view), name="language"), *super().get_urls()]

    def language_view(self, request: HttpRequest) -> HttpResponse:
        """"Language" in the user links: the officer's own admin language (overrides the
        browser's) and, for officers allowed to change it, the server language of the bot's
        public Discord posts. Both written through ``core.services``."""
        from django.contrib import messages
        from django.utils.translation import gettext as _

        from core import i18n, services
        from core.errors import DomainError
        from core.models import OfficerLanguage

        may_set_server = request.user.has_perm("core.change_serverlanguage")
        if request.method == "POST":
            try:
                chosen = services.set_officer_language(request.user, request.POST.get("language", ""))
                i18n.remember_in_session(request, chosen)
                if may_set_server and request.POST.get("server_language"):
                    services.set_server_language(request.POST["server_language"], actor=request.user.get_username())
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                with translation.override(chosen or translation.get_language()):
                    messages.success(request, _("Language settings saved."))
                return HttpResponseRedirect(reverse(f"{self.name}:language"))
        mine = OfficerLanguage.objects.filter(user_id=request.user.pk).values_list("language", flat=True).first()
        context = {
            **self.each_context(request),
            "title": _("Language"),
            "languages": settings.LANGUAGES,
            "mine": mine or "",
            "browser": translation.get_language_from_request(request),
            "server_language": i18n.server_language(),
            "may_set_server": may_set_server,
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/core/language.html", context)

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        from core import dashboard

        context = self.each_context(request)
        app_list = context["available_apps"]  # built once: some admins query in has_add_permission
        context = {
            **context,
            "title": self.index_title,
            "subtitle": None,
            "app_list": app_list,
            "domain_apps": [a for a in app_list if not a["system"]],
            "system_apps": [a for a in app_list if a["system"]],
            "dashboard": dashboard.build(request),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.index_template, context)


class GuildOpsAdminConfig(AdminConfig):
    """Replaces ``django.contrib.admin`` in INSTALLED_APPS so ``admin.site`` is the site above."""

    default_site = "core.admin_site.GuildOpsAdminSite"
