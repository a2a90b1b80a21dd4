import copy
import functools

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from core import services
from core.admin_tools import ServiceFormMixin
from core.discord_signin import officers
from core.models import SecretSetting
from core.permissions import key_scopes
from core.secrets import secret_source

# The site's titles, home page (the officers' dashboard) and app order: core.admin_site.


def _requires(permission: str, action):
    """django-celery-beat's actions declare no permission, so anyone allowed to *see* the
    periodic tasks could enable, disable or run them: the same actions, requiring ``permission``."""

    @functools.wraps(action)
    def guarded(model_admin, request, queryset):
        return action(model_admin, request, queryset)

    guarded.allowed_permissions = (permission,)
    return guarded


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    enable_tasks = _requires("change", beat_admin.PeriodicTaskAdmin.enable_tasks)
    disable_tasks = _requires("change", beat_admin.PeriodicTaskAdmin.disable_tasks)
    toggle_tasks = _requires("change", beat_admin.PeriodicTaskAdmin.toggle_tasks)
    run_tasks = _requires("change", beat_admin.PeriodicTaskAdmin.run_tasks)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)


class ScopedAPIKeyAdmin(APIKeyModelAdmin):
    """The library's key admin, with each key's scopes shown (they are chosen once, by
    ``manage.py create_api_key NAME --scope ...``; a key added here has none until then)."""

    list_display = (*APIKeyModelAdmin.list_display, "scope_names")
    list_select_related = ["scopes"]

    @admin.display(description=gettext_lazy("scopes"))
    def scope_names(self, obj: APIKey) -> str:
        scopes = key_scopes(obj)
        return ", ".join(scopes.names()) if scopes else _("none (recreate it with create_api_key --scope …)")


admin.site.unregister(APIKey)
admin.site.register(APIKey, ScopedAPIKeyAdmin)


NO_KEY = gettext_lazy(
    "Secrets cannot be stored on this server yet: FIELD_ENCRYPTION_KEY is not set. Whoever runs the "
    "server sets it (any long random string, e.g. `openssl rand -hex 32`) and restarts; the run command "
    "(scripts/run.sh) makes one under var/ by itself. Until then, keys can only come from the environment.")


class SecretSettingForm(forms.ModelForm):
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False), strip=True, label=pgettext_lazy("secret setting", "Value"),
        help_text=gettext_lazy("Stored encrypted and never shown again; enter it anew to replace it. The "
                               "environment variable of the same name, when set, takes precedence."),
    )

    class Meta:
        model = SecretSetting
        fields = ["name"]


@admin.register(SecretSetting)
class SecretSettingAdmin(ServiceFormMixin, admin.ModelAdmin):
    """API keys and secrets set without a restart, for holders of ``core.manage_secrets`` only.
    The value is write-only: the list and the form show "set on <date> by <officer>"."""

    form = SecretSettingForm
    list_display = ["name", "status", "in_use"]
    fields = ["name", "value", "status"]
    readonly_fields = ["status"]

    @admin.display(description=pgettext_lazy("secret setting", "Status"))
    def status(self, obj: SecretSetting) -> str:
        if not obj or not obj.pk:
            return _("not set")
        return _("set on %(when)s UTC by %(officer)s") % {"when": f"{obj.set_at:%Y-%m-%d %H:%M}", "officer": obj.set_by}

    @admin.display(description=gettext_lazy("Value in use"))
    def in_use(self, obj: SecretSetting) -> str:
        return (_("the environment's (it takes precedence)") if secret_source(obj.name) == "environment"
                else _("this one"))

    def get_readonly_fields(self, request, obj=None):
        return ["name", "status"] if obj else ["status"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Without an encryption key nothing can be stored: the value box is disabled, so
        nobody types a key only to be told so afterwards (the page says why, above the form)."""
        form = super().get_form(request, obj, change, **kwargs)
        if not settings.FIELD_ENCRYPTION_KEY and "value" in form.base_fields:
            value = copy.deepcopy(form.base_fields["value"])  # the declared field is shared by every request
            value.disabled, value.required, value.help_text = True, False, NO_KEY
            form.base_fields["value"] = value
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "GET" and not settings.FIELD_ENCRYPTION_KEY:
            self.message_user(request, NO_KEY, messages.ERROR)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not settings.FIELD_ENCRYPTION_KEY:
            self.message_user(request, NO_KEY, messages.ERROR)
        return super().changelist_view(request, extra_context)

    def _allowed(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("core.manage_secrets")

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def service_save(self, request, obj, cleaned_data) -> SecretSetting:
        name = obj.name if obj else cleaned_data["name"]
        return services.set_secret(name, cleaned_data["value"], officers.actor(request.user))

    def delete_model(self, request, obj) -> None:
        services.clear_secret(obj.name)

    def delete_queryset(self, request, queryset) -> None:
        for row in queryset:
            services.clear_secret(row.name)
from core.privacy import admin as _privacy_admin  # noqa: E402,F401  (the Privacy requests page registers itself)
