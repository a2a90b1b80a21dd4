import functools

from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask

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
