from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Project-wide plumbing that belongs to no domain: officer groups, API authentication,
    the health check, demo data discovery and the admin login helpers."""

    name = "core"
    verbose_name = _("Guild Ops core")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        import core.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from core.groups import grant_core_permissions, grant_officer_permissions
        from core.i18n import on_sign_in
        from core.local_folders import ensure_local_folders

        post_migrate.connect(grant_officer_permissions, dispatch_uid="core.grant_officer_permissions")
        post_migrate.connect(grant_core_permissions, dispatch_uid="core.grant_core_permissions")
        user_logged_in.connect(on_sign_in, dispatch_uid="core.i18n.on_sign_in")  # the officer's language
        ensure_local_folders()  # var/broker/{queue,control} and the SQLite folder, for every command
