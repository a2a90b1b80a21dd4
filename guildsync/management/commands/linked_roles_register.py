"""``manage.py linked_roles_register``: tell Discord which facts Guild Ops vouches for in Linked
Roles (guild_member, guild_rank, verified_main). Run once after setting DISCORD_LINKED_ROLES, and
again after an upgrade that changes the records (PUT replaces the list: running twice is harmless)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from guildsync.services import linked_roles


class Command(BaseCommand):
    help = "Register Guild Ops' Linked Roles metadata (guild_member, guild_rank, verified_main) with Discord."

    def handle(self, *args, **options) -> None:
        try:
            records = linked_roles.register_metadata()
        except linked_roles.LinkedRolesError as exc:
            raise CommandError(str(exc)) from None
        for record in records:
            self.stdout.write(f"registered {record['key']}: {record['name']}")
        self.stdout.write("Server admins can now pick Guild Ops in a role's Links (Server Settings → Roles → "
                          "a role → Links → Add requirement).")
