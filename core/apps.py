from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Project-wide plumbing that belongs to no domain: officer groups, API authentication,
    the health check, demo data discovery and the admin login helpers."""

    name = "core"
    verbose_name = "Guild Ops core"

    def ready(self) -> None:
        import core.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from core.groups import grant_officer_permissions
        from core.local_folders import ensure_local_folders

        post_migrate.connect(grant_officer_permissions, dispatch_uid="core.grant_officer_permissions")
        ensure_local_folders()  # var/broker/{queue,control} and the SQLite folder, for every command
