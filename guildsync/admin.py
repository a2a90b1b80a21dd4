"""The Guild officers' admin.

Discord owns ``DiscordUser`` and Blizzard/the addon own ``WowCharacter``'s columns: both are
read-only here. Officers own players, links, note patterns and guild-rank names. Actions call
services and report with ``message_user``; a ``DomainError`` becomes an error message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from core import i18n
from core.admin_tools import (
    DomainErrorPagesMixin,
    ExtraViewsMixin,
    MemberNamesMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    SaysWhatChangedMixin,
    ServiceFormMixin,
    actor_column,
    details_column,
    has_model_permission,
)
from core.discord_signin import officers
from core.errors import DomainError
from guildsync.issue_text import describe
from guildsync.models import (
    AuditIssue,
    DiscordRole,
    DiscordUser,
    GuildRank,
    IdentityChange,
    NotePattern,
    Player,
    PlayerCharacter,
    RankRoleMapping,
    Role,
    RoleChange,
    Specialization,
    SyncLog,
    WowCharacter,
    WowClass,
)
from guildsync.reference_data import class_label, role_label
from guildsync.services import identity_links, integrity_checker, pipeline, ranks, role_plans
from guildsync.services.addon_processor import UploadTooLargeError
from guildsync.services.common import delete_settings_row, save_settings_row


def _admin_link(obj, label: str | None = None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:guildsync_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


class ServiceWritesAdmin(SaysWhatChangedMixin, DomainErrorPagesMixin, admin.ModelAdmin):
    """Configuration rows officers (or superusers) edit: saved and deleted through the
    services, list_editable included (Django calls save_model for those too)."""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        save_settings_row(obj)

    def delete_model(self, request: HttpRequest, obj) -> None:
        delete_settings_row(obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            delete_settings_row(obj)


class SuperuserEditsAdmin(ServiceWritesAdmin):
    """Reference data: loaded by a migration, corrected by superusers only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Role)
class RoleAdmin(SuperuserEditsAdmin):
    list_display = ["name"]


@admin.register(WowClass)
class WowClassAdmin(SuperuserEditsAdmin):
    list_display = ["name", "blizzard_id", "colour"]
    search_fields = ["name"]

    @admin.display(description=gettext_lazy("Colour"))
    def colour(self, obj: WowClass) -> str:
        return format_html('<span style="display:inline-block;width:3em;background:{}">&nbsp;</span> {}',
                           obj.color_hex, obj.color_hex)


@admin.register(Specialization)
class SpecializationAdmin(SuperuserEditsAdmin):
    list_display = ["name", "wow_class", "default_role", "blizzard_id"]
    list_filter = ["wow_class", "default_role"]
    list_select_related = ["wow_class", "default_role"]
    search_fields = ["name", "wow_class__name"]


class GuildRankForm(forms.ModelForm):
    role_names = forms.CharField(
        label=gettext_lazy("Discord roles"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=gettext_lazy("One Discord role name per line: members holding any of them count as this rank "
                              "(e.g. “Guild Leader” and “GM”). A role counts for one rank only."),
    )

    class Meta:
        model = GuildRank
        fields = ["name", "level", "scheduling_weight"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role_names"].initial = "\n".join(
                self.instance.discord_roles.values_list("role_name", flat=True))


@admin.register(GuildRank)
class GuildRankAdmin(SaysWhatChangedMixin, ServiceFormMixin, admin.ModelAdmin):
    """Ranks 0–9 exist once each (the roster's numbers): officers name them and list the
    Discord roles that count as each; the addon's upload names placeholders."""

    form = GuildRankForm
    list_display = ["blizzard_rank_index", "name", "name_source", "discord_role_list", "level", "scheduling_weight"]
    list_display_links = ["blizzard_rank_index", "name"]
    readonly_fields = ["blizzard_rank_index", "name_source"]
    fields = ["blizzard_rank_index", "name", "name_source", "role_names", "level", "scheduling_weight"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("discord_roles")

    @admin.display(description=gettext_lazy("Discord roles"))
    def discord_role_list(self, obj: GuildRank) -> str:
        return ", ".join(r.role_name for r in obj.discord_roles.all()) or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # ranks 0–9 always exist

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def service_save(self, request: HttpRequest, obj, cleaned_data) -> GuildRank:
        return ranks.save_guild_rank(
            obj.pk, name=cleaned_data["name"], level=cleaned_data["level"],
            scheduling_weight=cleaned_data["scheduling_weight"],
            role_names=(cleaned_data.get("role_names") or "").splitlines())


@admin.register(NotePattern)
class NotePatternAdmin(ServiceWritesAdmin):
    list_display = ["name", "kind", "regex", "priority", "is_active"]
    list_editable = ["priority", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(DiscordUser)
class DiscordUserAdmin(ReadOnlyAdmin):
    list_display = ["username", "display_name", "discord_id", "highest_guild_role", "is_present", "player_link",
                    "last_sync"]
    list_filter = ["is_present", "highest_guild_role"]
    list_select_related = ["player"]
    search_fields = ["username", "display_name", "=discord_id"]

    @admin.display(description=gettext_lazy("Player"))
    def player_link(self, obj: DiscordUser) -> str:
        return _admin_link(getattr(obj, "player", None))


class PlayerCharacterInline(admin.TabularInline):
    model = PlayerCharacter
    extra = 1
    autocomplete_fields = ["character"]
    fields = ["character", "link_source", "confidence", "created_at"]
    readonly_fields = ["link_source", "confidence", "created_at"]


class PlayerForm(forms.ModelForm):
    """Shows the identity rules (``identity_links.check_player``) as form errors."""

    class Meta:
        model = Player
        fields = ["display_name", "discord_user", "main_character", "main_spec", "guild_rank", "is_active",
                  "auto_invite_events", "on_raid_hiatus", "notes"]

    def clean(self) -> dict:
        cleaned = super().clean()
        candidate = Player(pk=self.instance.pk, display_name=cleaned.get("display_name") or "",
                           main_character=cleaned.get("main_character"), discord_user=cleaned.get("discord_user"))
        try:
            identity_links.check_player(candidate)
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(Player)
class PlayerAdmin(SaysWhatChangedMixin, DomainErrorPagesMixin, admin.ModelAdmin):
    list_display = ["display_name", "discord_user", "main_character", "guild_rank", "characters", "is_active",
                    "on_raid_hiatus"]
    list_filter = ["is_active", "on_raid_hiatus", "auto_invite_events", "guild_rank"]
    list_select_related = ["discord_user", "main_character", "guild_rank"]
    search_fields = ["display_name", "discord_user__username", "discord_user__display_name",
                     "character_links__character__character_name"]
    autocomplete_fields = ["discord_user", "main_character", "main_spec"]
    inlines = [PlayerCharacterInline]
    form = PlayerForm

    def save_model(self, request: HttpRequest, obj: Player, form, change: bool) -> None:
        identity_links.save_player(obj, actor=officers.actor(request.user))

    def delete_model(self, request: HttpRequest, obj: Player) -> None:
        identity_links.delete_player(obj.pk, actor=officers.actor(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for player_id in queryset.values_list("pk", flat=True):
            identity_links.delete_player(player_id, actor=officers.actor(request.user))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(n_characters=Count("character_links"))

    @admin.display(description=gettext_lazy("Characters"), ordering="n_characters")
    def characters(self, obj: Player) -> int:
        return obj.n_characters

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Links added, changed or removed here go through the identity services: they become
        manual links (matching never changes them), and a character linked elsewhere moves."""
        if formset.model is not PlayerCharacter:
            return super().save_formset(request, form, formset, change)
        actor = officers.actor(request.user)
        instances = formset.save(commit=False)
        for link in formset.deleted_objects:
            identity_links.unlink_character(link.pk, actor=actor)
        for link in instances:
            identity_links.link_character(link.character_id, player_id=form.instance.pk, actor=actor)
        formset.save_m2m()
        return None


def null_filter(title: Any, parameter: str, field: str, null_label: Any, set_label: Any) -> type:
    """A list filter on whether ``field`` is null (linked/unlinked, in the guild/left, open/closed)."""

    class NullFilter(admin.SimpleListFilter):
        def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
            return [("null", null_label), ("set", set_label)]

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            if self.value() in ("null", "set"):
                return queryset.filter(**{f"{field}__isnull": self.value() == "null"})
            return queryset

    NullFilter.title = title
    NullFilter.parameter_name = parameter
    NullFilter.__name__ = f"{parameter.title()}Filter"
    return NullFilter


LinkedFilter = null_filter(gettext_lazy("linked to a player"), "linked", "player_link", gettext_lazy("Unlinked"),
                           gettext_lazy("Linked"))
RemovedFilter = null_filter(gettext_lazy("in the guild"), "removed", "removed_at", gettext_lazy("In the guild"),
                            gettext_lazy("Left (removed)"))
OpenFilter = null_filter(gettext_lazy("status"), "open", "resolved_at", pgettext_lazy("audit issue", "Open"),
                         pgettext_lazy("audit issue", "Closed"))


class AddonUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("SavedVariables file"),
                           # help texts are HTML: "<ACCOUNT>" would vanish as an unknown tag
                           help_text=gettext_lazy(
                               "The GuildSync addon's export of the guild roster and notes. In game, open the guild "
                               "roster, then type /reload (or log out) so that WoW writes the file; then upload "
                               "World of Warcraft/_retail_/WTF/Account/&lt;ACCOUNT&gt;/SavedVariables/GuildSync.lua, "
                               "where &lt;ACCOUNT&gt; is your account's folder (a number such as 123456789#1, or your "
                               "account name)."))


# What the upload page's summary table and line call a run's counts and steps (unknown keys as they are).
UPLOAD_STATS = {
    "created": gettext_lazy("characters created"), "updated": gettext_lazy("characters updated"),
    "removed": gettext_lazy("characters removed"), "restored": gettext_lazy("characters back in the guild"),
    "skipped": gettext_lazy("records listed twice (skipped)"), "records": gettext_lazy("records read"),
    "seconds": gettext_lazy("seconds"),
}
UPLOAD_STEPS = {"sync": pgettext_lazy("pipeline step", "sync"), "match": pgettext_lazy("pipeline step", "matching"),
                "check": pgettext_lazy("pipeline step", "integrity check"),
                "report": pgettext_lazy("pipeline step", "report")}


class PlayerPicker(AutocompleteSelect):
    """The player picker by name. A refused form shows it again with what was posted: a value
    that is no player id is left out (Django's widget would look it up and fail with a 500)."""

    def optgroups(self, name: str, value: list, attr: dict | None = None) -> list:
        return super().optgroups(name, [v for v in value if str(v).isdigit() and len(str(v)) < 19], attr)


class LinkToPlayerForm(forms.Form):
    player = forms.ModelChoiceField(
        queryset=Player.objects.order_by("display_name"), help_text=gettext_lazy("The player the selected characters belong to."),
        widget=PlayerPicker(PlayerCharacter._meta.get_field("player"), admin.site),
        error_messages={"required": gettext_lazy("Choose the player by name."),
                        "invalid_choice": gettext_lazy("That player does not exist (any more): choose one from the list.")})


def link_page(model_admin: admin.ModelAdmin, request: HttpRequest, *, obj, title: str, subject: str,
              explanation: str, help_text: str, button: str, link: Callable[[Player], str],
              back: str) -> HttpResponse:
    """A one-object "link to a player" page (the character page's and the issue page's fix):
    a player picker by name; on POST the link runs through the identity service (``link``
    returns the sentence for the success message) and the officer goes back to ``back``."""
    if not model_admin.has_view_permission(request, obj) or not request.user.has_perm("guildsync.change_wowcharacter"):
        raise PermissionDenied
    form = LinkToPlayerForm(request.POST if request.method == "POST" else None)  # an empty POST is refused too
    form.fields["player"].help_text = help_text
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sentence = link(form.cleaned_data["player"])
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                model_admin.message_user(request, sentence, messages.SUCCESS)
                return HttpResponseRedirect(back)
        status = 400
    return TemplateResponse(request, "admin/guildsync/link_one.html", {
        **model_admin.admin_site.each_context(request), "title": title, "opts": model_admin.model._meta,
        "original": obj, "subject": subject, "explanation": explanation, "form": form, "button": button,
        "media": model_admin.media + form.media, "back": back,
    }, status=status)


@admin.register(WowCharacter)
class WowCharacterAdmin(ExtraViewsMixin, admin.ModelAdmin):
    extra_views = (("composition/", "composition_view", "composition"),
                   ("<int:character_id>/link/", "link_view", "link"),
                   ("upload-addon/", "upload_addon_view", "upload_addon"),
                   ("run-matching/", "run_matching_view", "run_matching_now"),
                   ("run-integrity-check/", "run_integrity_check_view", "run_integrity_check_now"))
    list_display = ["character_name", "realm_slug", "wow_class", "active_spec", "level", "item_level", "guild_rank",
                    "player", "addon_note", "last_api_sync", "removed_at"]
    list_filter = ["wow_class", "guild_rank", LinkedFilter, RemovedFilter]
    list_select_related = ["wow_class", "active_spec__wow_class", "guild_rank", "player_link__player"]
    search_fields = ["character_name", "realm_slug", "addon_note", "addon_officer_note"]
    actions = ["link_to_player", "run_matching_now", "run_integrity_check_now"]
    change_list_template = "admin/guildsync/wowcharacter/change_list.html"
    change_form_template = "admin/guildsync/wowcharacter/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # characters come from Blizzard and the addon

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.display(description=gettext_lazy("Player"))
    def player(self, obj: WowCharacter) -> str:
        link = getattr(obj, "player_link", None)
        return _admin_link(link.player) if link else "—"

    @admin.action(description=gettext_lazy("Link selected characters to a player"), permissions=["change"])
    def link_to_player(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        form = LinkToPlayerForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                n = identity_links.link_characters_to_player(list(queryset.values_list("pk", flat=True)),
                                                              form.cleaned_data["player"].pk,
                                                              actor=officers.actor(request.user))
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(request, ngettext("Linked %(count)s character to %(player)s.",
                                                "Linked %(count)s characters to %(player)s.", n)
                              % {"count": n, "player": form.cleaned_data["player"]}, messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/guildsync/link_to_player.html", {
            **self.admin_site.each_context(request), "title": _("Link characters to a player"), "form": form,
            "media": self.media,
            "characters": queryset.select_related("wow_class"), "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def link_view(self, request: HttpRequest, character_id: int) -> HttpResponse:
        """The character page's "Link to a player": one character, the player chosen by name."""
        character = WowCharacter.objects.filter(pk=character_id).select_related("player_link__player").first()
        if character is None:
            raise Http404(_("No such character."))
        current = getattr(character, "player_link", None)

        def link(player: Player) -> str:
            identity_links.link_character(character.pk, player_id=player.pk, actor=officers.actor(request.user))
            return _("%(character)s is now linked to %(player)s (a manual link, which matching never changes).") % {
                "character": character, "player": player}

        return link_page(self, request, obj=character, title=_("Link %(character)s to a player") % {"character": character},
                         subject=str(character),
                         explanation=(_("Now linked to %(player)s: choosing another player moves it.")
                                      % {"player": current.player} if current else _("Not linked to any player yet.")),
                         help_text=_("The player who plays this character."), button=_("Link to this player"),
                         link=link, back=reverse("admin:guildsync_wowcharacter_change", args=[character.pk]))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "can_link": request.user.has_perm("guildsync.change_wowcharacter")})

    @admin.action(description=gettext_lazy("Run matching now"), permissions=["change"])
    def run_matching_now(self, request: HttpRequest, queryset=None) -> None:
        """Matching looks at the whole guild, whatever is selected (also a button above the list)."""
        self._run_logged(request, pipeline.run_matching_logged, lambda result: (
            _("Matching: %(links)s, %(players)s, %(unmatched)s.") % {
                "links": ngettext("%(count)s link", "%(count)s links", result.links_created)
                % {"count": result.links_created},
                "players": ngettext("%(count)s new player", "%(count)s new players", result.players_created)
                % {"count": result.players_created},
                "unmatched": ngettext("%(count)s character still unmatched", "%(count)s characters still unmatched",
                                      result.unmatched_characters) % {"count": result.unmatched_characters}}))

    @admin.action(description=gettext_lazy("Run integrity check now"), permissions=["change"])
    def run_integrity_check_now(self, request: HttpRequest, queryset=None) -> None:
        """The check looks at the whole guild, whatever is selected (also a button above the list)."""
        self._run_logged(request, pipeline.run_integrity_logged, lambda result: (
            _("Integrity check: %(new)s, %(still_open)s still open, %(auto_closed)s closed automatically.") % {
                "new": ngettext("%(count)s new issue", "%(count)s new issues", result.new) % {"count": result.new},
                "still_open": result.still_open, "auto_closed": result.auto_closed}))

    def _run_logged(self, request: HttpRequest, run: Callable[[str], tuple[Any, Any]],
                    summary: Callable[[Any], str]) -> None:
        """Run a whole-guild pipeline step in the officer's name; its summary or its refusal
        becomes the page message."""
        try:
            _log, result = run(officers.actor(request.user))
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, summary(result))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}),
                                                 "can_run": self.has_change_permission(request)})

    def run_matching_view(self, request: HttpRequest) -> HttpResponse:
        return self._run_button(request, self.run_matching_now)

    def run_integrity_check_view(self, request: HttpRequest) -> HttpResponse:
        return self._run_button(request, self.run_integrity_check_now)

    def _run_button(self, request: HttpRequest, action: Callable[[HttpRequest], None]) -> HttpResponse:
        """The changelist's "Run matching now" / "Run integrity check now" buttons (pages of
        ``extra_views``): Django's actions need a selection, these runs do not."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        action(request)
        return HttpResponseRedirect(reverse("admin:guildsync_wowcharacter_changelist"))

    # -- addon upload (issue 11, item 8) --------------------------------------------------
    def upload_addon_view(self, request: HttpRequest) -> TemplateResponse:
        """Upload the addon's SavedVariables file: the same service as the API
        (``addon_upload.submit_upload``), so the same limits, budgets and messages. It writes
        characters' addon columns, hence the change permission."""
        from guildsync.services.addon_processor import SavedVariablesError
        from guildsync.services.addon_upload import submit_upload

        if not self.has_change_permission(request):
            raise PermissionDenied
        form = AddonUploadForm(request.POST or None, request.FILES or None)
        context: dict = {**self.admin_site.each_context(request), "title": _("Upload the addon's SavedVariables file"),
                         "opts": self.model._meta, "form": form,
                         "max_bytes": settings.ADDON_UPLOAD_MAX_BYTES}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > settings.ADDON_UPLOAD_MAX_BYTES:
                    raise UploadTooLargeError(_("The file is over the %(limit)s-byte limit (ADDON_UPLOAD_MAX_BYTES). "
                                                "Nothing was changed.")
                                              % {"limit": i18n.number(settings.ADDON_UPLOAD_MAX_BYTES)})
                data = upload.read()
                outcome = submit_upload(data, triggered_by=officers.actor(request.user))
            except SavedVariablesError as exc:
                context["error"] = str(exc)
                if exc.line is not None:
                    lines = data.decode("utf-8", "replace").splitlines()
                    if exc.line <= len(lines):
                        context["error_line"] = {"number": exc.line, "text": lines[exc.line - 1][:300],
                                                 "caret": " " * max(0, min(exc.column or 1, 300) - 1) + "^"}
            except DomainError as exc:
                context["error"] = str(exc)
            else:
                context["outcome"] = outcome
                if outcome.sync_log_id:
                    context["log_url"] = reverse("admin:guildsync_synclog_change", args=[outcome.sync_log_id])
                if outcome.result is not None:
                    context["stats"] = sorted((str(UPLOAD_STATS.get(k, k.replace("_", " "))), v)
                                              for k, v in outcome.result.stats.items()
                                              if not isinstance(v, (list, dict)))
                    context["status_label"] = dict(SyncLog.Status.choices).get(outcome.result.status,
                                                                               outcome.result.status)
                    context["steps_label"] = ", ".join(str(UPLOAD_STEPS.get(s, s)) for s in outcome.result.steps)
        return TemplateResponse(request, "admin/guildsync/addon_upload.html", context,
                                status=400 if "error" in context else 200)

    # -- roster composition ---------------------------------------------------------
    def composition_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = WowCharacter.objects.filter(removed_at__isnull=True).values_list(
            "wow_class__name", "wow_class__color_hex", "active_spec__default_role__name")
        by_class: Counter = Counter()
        colours: dict[str, str] = {}
        by_role: Counter = Counter()
        unknown, no_spec = pgettext("wow class", "Unknown"), _("No spec yet")
        for cls, colour, role in rows:
            name = class_label(cls) if cls else unknown
            by_class[name] += 1
            colours[name] = colour or "#999999"
            by_role[role_label(role) if role else no_spec] += 1
        total = sum(by_class.values()) or 1
        widest = max(by_class.values(), default=1)
        classes = [{"name": n, "count": c, "colour": colours[n], "width": round(300 * c / widest),
                    "percent": round(100 * c / total)} for n, c in by_class.most_common()]
        roles = [{"name": n, "count": c, "percent": round(100 * c / total)} for n, c in by_role.most_common()]
        return TemplateResponse(request, "admin/guildsync/roster_composition.html", {
            **self.admin_site.each_context(request), "title": _("Roster composition"), "opts": self.model._meta,
            "classes": classes, "roles": roles, "total": sum(by_class.values()),
            "chart_height": 24 * len(classes) + 10,
        })


class RoleChangeInline(ReadOnlyInline):
    """A rank mismatch's planned Discord role changes and what became of them."""

    model = RoleChange
    fields = ["action", "role", "status", "outcome", "applied_by", "applied_at", "finished_at"]
    readonly_fields = fields


@admin.register(AuditIssue)
class AuditIssueAdmin(ExtraViewsMixin, ReadOnlyAdmin):
    list_display = ["issue_type", "severity", "summary_shown", "character_link", "discord_link", "player_link",
                    "first_detected", "last_seen", "resolution", "reported_at"]
    list_filter = [OpenFilter, "issue_type", "severity", "resolution"]
    list_select_related = ["wow_character", "discord_user", "player"]
    search_fields = ["summary", "wow_character__character_name", "discord_user__username",
                     "discord_user__display_name", "player__display_name"]
    # an internal key: the type and summary say what the issue is; the summary in the reader's language
    exclude = ["issue_hash", "details", "summary"]
    readonly_fields = ["summary_shown", "how_to_fix", details_column(description=gettext_lazy("details"))]  # the details with members, channels and roles by name
    actions = ["resolve", "dismiss"]
    inlines = [RoleChangeInline]
    extra_views = (("<int:issue_id>/fix/", "fix_view", "fix"),)
    change_form_template = "admin/guildsync/auditissue/change_form.html"

    @admin.display(description=gettext_lazy("summary"), ordering="summary")
    def summary_shown(self, obj: AuditIssue) -> str:
        """In the officer's language, from the issue's stored facts (``integrity_checker.describe``)."""
        return describe(obj)

    @admin.display(description=gettext_lazy("How to fix it"))
    def how_to_fix(self, obj: AuditIssue) -> str:
        return str(integrity_checker.HOW_TO_FIX.get(obj.issue_type, ""))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        issue = AuditIssue.objects.filter(pk=object_id).only("issue_type", "resolved_at").first() \
            if str(object_id).isdigit() else None
        fixable = (issue is not None and issue.resolved_at is None and issue.issue_type in integrity_checker.FIXABLE
                   and request.user.has_perm("guildsync.change_wowcharacter"))
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_fix": fixable})

    def fix_view(self, request: HttpRequest, issue_id: int) -> HttpResponse:
        """The issue page's "Fix this issue": the player chosen by name is linked to the issue's
        character or Discord member (``identity_links.fix_issue``), which closes the issue."""
        issue = AuditIssue.objects.filter(pk=issue_id).select_related("wow_character", "discord_user").first()
        if issue is None:
            raise Http404(_("No such issue."))
        if issue.issue_type == "orphan_discord":
            subject = _("Discord member %(member)s") % {"member": issue.discord_user}
            help_text = _("The player this Discord member is.")
        else:
            subject = _("character %(character)s") % {"character": issue.wow_character}
            help_text = _("The player who plays this character.")

        def fix(player: Player) -> str:
            closed = identity_links.fix_issue(issue.pk, player_id=player.pk, actor=officers.actor(request.user))
            return _("Fixed: %(note)s. The issue is closed (fixed by %(officer)s).") % {
                "note": closed.resolution_note, "officer": closed.resolved_by}

        return link_page(self, request, obj=issue, title=_("Fix: %(issue)s") % {"issue": describe(issue)}, subject=subject,
                         explanation=str(integrity_checker.HOW_TO_FIX.get(issue.issue_type, "")), help_text=help_text,
                         button=_("Link and close the issue"), link=fix,
                         back=reverse("admin:guildsync_auditissue_change", args=[issue.pk]))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # no edit form; the actions below need the officer's change permission
        return obj is None and request.user.has_perm("guildsync.change_auditissue")

    @admin.display(description=gettext_lazy("Character"))
    def character_link(self, obj: AuditIssue) -> str:
        return _admin_link(obj.wow_character)

    @admin.display(description=gettext_lazy("Discord user"))
    def discord_link(self, obj: AuditIssue) -> str:
        return _admin_link(obj.discord_user)

    @admin.display(description=gettext_lazy("Player"))
    def player_link(self, obj: AuditIssue) -> str:
        return _admin_link(obj.player)

    def _close(self, request: HttpRequest, queryset, resolution: str) -> None:
        try:
            n = integrity_checker.close_issues(list(queryset.values_list("pk", flat=True)), resolution,
                                               officers.actor(request.user))
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, (ngettext("%(count)s issue resolved.", "%(count)s issues resolved.", n)
                                    if resolution == AuditIssue.Resolution.RESOLVED else
                                    ngettext("%(count)s issue dismissed.", "%(count)s issues dismissed.", n))
                          % {"count": n})

    @admin.action(description=gettext_lazy("Resolve selected issues (fixed)"), permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._close(request, queryset, AuditIssue.Resolution.RESOLVED)

    @admin.action(description=gettext_lazy("Dismiss selected issues (not a problem)"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._close(request, queryset, AuditIssue.Resolution.DISMISSED)


@admin.register(SyncLog)
class SyncLogAdmin(MemberNamesMixin, ReadOnlyAdmin):
    actor_fields = ("triggered_by",)
    list_display = ["source", "status", "started_at", "finished_at", actor_column("triggered_by", gettext_lazy("triggered by")),
                    "short_error"]
    list_filter = ["source", "status"]
    date_hierarchy = "started_at"

    @admin.display(description=gettext_lazy("Error"))
    def short_error(self, obj: SyncLog) -> str:
        return obj.error[:80]


@admin.register(IdentityChange)
class IdentityChangeAdmin(MemberNamesMixin, ReadOnlyAdmin):
    """The audit trail of links (admin and API): written by the identity services only. An
    officer who signed in with Discord is recorded by Discord id and shown by name."""

    actor_fields = ("actor",)
    list_display = ["created_at", actor_column("actor", gettext_lazy("by")), "action", "summary"]
    list_filter = ["action"]
    list_select_related = ["character", "player", "previous_player"]
    search_fields = ["actor", "summary"]
    date_hierarchy = "created_at"


# -- guild ranks as Discord roles (issue #14) ---------------------------------------------------
@admin.register(DiscordRole)
class DiscordRoleAdmin(ReadOnlyAdmin):
    """The server's roles as the last Discord sync saw them: what ranks are mapped to."""

    list_display = ["name", "discord_id", "position", "managed", "is_present", "mapped_rank", "last_sync"]
    list_filter = ["is_present", "managed"]
    list_select_related = ["rank_mapping__rank"]
    search_fields = ["name"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "rankrolemapping":  # the mapping's role picker
            found = found.filter(is_present=True, managed=False)
        return found, duplicates

    @admin.display(description=gettext_lazy("Mapped rank"))
    def mapped_rank(self, obj: DiscordRole) -> str:
        mapping = getattr(obj, "rank_mapping", None)
        return str(mapping.rank) if mapping else "—"


class RankRoleMappingForm(forms.ModelForm):
    class Meta:
        model = RankRoleMapping
        fields = ["rank", "role", "mode"]


@admin.register(RankRoleMapping)
class RankRoleMappingAdmin(SaysWhatChangedMixin, MemberNamesMixin, ServiceFormMixin, admin.ModelAdmin):
    """Officers map a guild rank to a Discord role (picked from the roles the Discord sync
    saw; its name is shown, its id stored) and choose off / planned / automatic."""

    form = RankRoleMappingForm
    actor_fields = ("updated_by",)
    list_display = ["rank", "role", "role_id_shown", "mode", actor_column("updated_by", gettext_lazy("changed by")), "updated_at"]
    list_select_related = ["rank", "role"]
    autocomplete_fields = ["rank", "role"]

    @admin.display(description=gettext_lazy("Discord role ID"), ordering="role__discord_id")
    def role_id_shown(self, obj: RankRoleMapping) -> int:
        return obj.role.discord_id

    def service_save(self, request: HttpRequest, obj, cleaned_data) -> RankRoleMapping:
        return role_plans.save_rank_role_mapping(
            cleaned_data["rank"].pk, cleaned_data["role"].pk, cleaned_data["mode"],
            actor=officers.actor(request.user), mapping_id=obj.pk if obj else None)

    def delete_model(self, request: HttpRequest, obj: RankRoleMapping) -> None:
        role_plans.delete_rank_role_mapping(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            role_plans.delete_rank_role_mapping(obj.pk)


@admin.register(RoleChange)
class RoleChangeAdmin(MemberNamesMixin, ReadOnlyAdmin):
    """The role plan: per member, the rank they hold in game and the mapped Discord roles to
    add or remove. Officers holding "Can apply planned Discord role changes" apply the
    selected rows with one action; the outcome (queued, done, skipped, failed and why) stays
    on each row and on its audit issue."""

    actor_fields = ("applied_by",)
    list_display = ["member", "rank", "action", "role", "status", "outcome", "issue_link",
                    actor_column("applied_by", gettext_lazy("applied by")), "created_at"]
    list_filter = ["status", "action", "rank"]
    list_select_related = ["discord_user", "rank", "role", "issue"]
    search_fields = ["discord_user__username", "discord_user__display_name", "role__name", "rank__name"]
    actions = ["apply_selected"]

    @admin.display(description=gettext_lazy("Member"), ordering="discord_user__username")
    def member(self, obj: RoleChange) -> str:
        return str(obj.discord_user)

    @admin.display(description=gettext_lazy("Issue"))
    def issue_link(self, obj: RoleChange) -> str:
        return _admin_link(obj.issue, describe(obj.issue)[:60])

    def has_apply_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, RoleChange, "apply")

    @admin.action(description=gettext_lazy("Apply selected role changes (queue them for Discord)"), permissions=["apply"])
    def apply_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            applied = role_plans.apply_role_changes(list(queryset.values_list("pk", flat=True)),
                                                    actor=officers.actor(request.user))
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        for row in applied:
            level = messages.SUCCESS if row.queued else messages.WARNING
            self.message_user(request, row.message, level)
