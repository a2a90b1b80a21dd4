import functools

from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from core.permissions import key_scopes

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

    @admin.display(description="scopes")
    def scope_names(self, obj: APIKey) -> str:
        scopes = key_scopes(obj)
        return ", ".join(scopes.names()) if scopes else "none (recreate it with create_api_key --scope …)"


admin.site.unregister(APIKey)
admin.site.register(APIKey, ScopedAPIKeyAdmin)
