"""Officer groups: one Django group per domain, holding the permissions of its app.

Each domain app names its group on its AppConfig (``officer_group``) and may keep some of
its permissions out of it (``officer_permissions_exclude``: e.g. the Ratmas pairings, which
are secret). After every ``migrate`` the group receives the permissions of the app's
current models, so a new model is covered without another data migration. ``officer_view_models`` adds
the view permission of other apps' models the group's forms pick from. Permissions are
only ever added: an officer who removed one by hand keeps it removed until the model changes.
"""

from __future__ import annotations

from django.apps import AppConfig, apps

OFFICER_GROUPS = (
    "Guild officers",
    "Raid officers",
    "Ark officers",
    "Ratmas organisers",
    "Economy moderators",
)


# core's own permissions that belong to an officer group. The server language of the bot's public
# posts is one setting for the whole community (the admin's "Language" page): the officers who
# run the guild as a whole set it, not each domain's group.
CORE_GRANTS: dict[str, tuple[str, ...]] = {
    "Guild officers": ("change_serverlanguage",),
}


class OfficerAppConfig(AppConfig):
    """The AppConfig of a domain app run by an officer group: the app names its group and,
    where needed, the permissions kept out of it and the other apps' models its forms pick
    from. Subclass it through the module (``groups.OfficerAppConfig``) so that the app's
    ``apps.py`` holds one AppConfig class, the one Django picks."""

    officer_group: str = ""
    officer_permissions_exclude: tuple[str, ...] = ()
    officer_view_models: tuple[str, ...] = ()


def officer_group_for(app_config: AppConfig) -> str | None:
    return getattr(app_config, "officer_group", None)


def grant_officer_permissions(sender: AppConfig, using: str = "default", **kwargs) -> None:
    group_name = officer_group_for(sender)
    if not group_name:
        return
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    excluded = set(getattr(sender, "officer_permissions_exclude", ()))
    group, _ = Group.objects.using(using).get_or_create(name=group_name)
    permissions = Permission.objects.using(using).filter(content_type__app_label=sender.label).exclude(
        codename__in=excluded
    )
    group.permissions.add(*permissions)
    # Rows of other apps the officers pick in their forms (a player on a raid's attendance, a
    # member on an Ark ban): seeing them is what the admin's pickers need.
    for label in getattr(sender, "officer_view_models", ()):
        app_label, model_name = label.split(".")
        group.permissions.add(*Permission.objects.using(using).filter(
            content_type__app_label=app_label, codename=f"view_{model_name}"))


def grant_core_permissions(sender: AppConfig, using: str = "default", **kwargs) -> None:
    """After core's migrate: :data:`CORE_GRANTS` (only ever added, like the apps' grants)."""
    if sender.label != "core":
        return
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in CORE_GRANTS.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.using(using).filter(content_type__app_label="core",
                                                                      codename__in=codenames))
