"""``/ratmas`` slash commands. Thin: each one finds the guild's event and calls a service on
the bot's database pool; ``bot.interactions.respond`` answers (deferring slow work), and a
:class:`core.errors.DomainError` becomes an ephemeral reply with its message.

Who is an organiser: Discord users are not Django users, so the "Ratmas organisers" group
cannot be checked from Discord. Organiser commands are allowed to members holding the
event's ``managing_role_id``, or Discord's *Manage Server* (or Administrator) permission —
the people who could configure the bot anyway. Creating an event (``/ratmas open`` with no
event in progress) needs *Manage Server*, since there is no managing role yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot.interactions import db, respond
from ratmas import services
from ratmas.models import Event

MEMBER_HELP = "Secret Santa: join, wishlist, anonymous messages"


def is_organiser(member: Any, event: Event | None) -> bool:
    perms = getattr(member, "guild_permissions", None)
    if perms is not None and (perms.manage_guild or perms.administrator):
        return True
    if event is not None and event.managing_role_id:
        return any(role.id == event.managing_role_id for role in getattr(member, "roles", []))
    return False


async def _event(interaction: discord.Interaction, *, organiser: bool = False) -> Event:
    if interaction.guild_id is None:
        raise services.RatmasError(_("Use this command in a server."))
    event = await db(services.get_active_event, interaction.guild_id)
    if event is None:
        raise services.RatmasError(_("There is no Ratmas in progress on this server."))
    if organiser and not is_organiser(interaction.user, event):
        raise services.RatmasError(_("Only Ratmas organisers (the managing role or Manage Server) can do that."))
    return event


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="ratmas", description=MEMBER_HELP, guild_only=True)

    # ----------------------------------------------------------------- members

    @group.command(name="status", description="Where the Ratmas stands, and your part in it")
    async def status(interaction: discord.Interaction) -> None:
        async def work() -> str:
            event = await _event(interaction)
            return await db(services.describe_event, event, interaction.user.id)
        await respond(interaction, work)

    @group.command(name="join", description="Join this year's Ratmas")
    @app_commands.describe(wishlist="Link to your wishlist (http or https)")
    async def join(interaction: discord.Interaction, wishlist: str | None = None) -> None:
        async def work() -> str:
            event = await _event(interaction)
            await db(services.join, event, interaction.user.id, interaction.user.display_name, wishlist)
            return "🎄 " + _("You're in! Set or change your wishlist any time with `/ratmas wishlist`.")
        await respond(interaction, work)

    @group.command(name="leave", description="Leave the Ratmas (while signups are open)")
    async def leave(interaction: discord.Interaction) -> None:
        async def work() -> str:
            event = await _event(interaction)
            await db(services.leave, event, interaction.user.id)
            return _("You have left this Ratmas.")
        await respond(interaction, work)

    @group.command(name="wishlist", description="Set your wishlist link (empty to clear it)")
    @app_commands.describe(url="Link to your wishlist (http or https)")
    async def wishlist(interaction: discord.Interaction, url: str | None = None) -> None:
        async def work() -> str:
            event = await _event(interaction)
            saved = await db(services.update_wishlist, event, interaction.user.id, url)
            if saved.wishlist_url:
                return _("Wishlist set to %(url)s.") % {"url": saved.wishlist_url}
            return _("Wishlist cleared.")
        await respond(interaction, work)

    @group.command(name="message-recipient", description="Send your recipient an anonymous message")
    @app_commands.describe(text="What to tell them (your name is never shown)")
    async def message_recipient(interaction: discord.Interaction, text: str) -> None:
        async def work() -> str:
            event = await _event(interaction)
            await db(services.message_recipient, event, interaction.user.id, text)
            return "📨 " + _("Sent anonymously to your recipient.")
        await respond(interaction, work)

    @group.command(name="message-santa", description="Send your Secret Santa a message")
    @app_commands.describe(text="What to tell your Santa")
    async def message_santa(interaction: discord.Interaction, text: str) -> None:
        async def work() -> str:
            event = await _event(interaction)
            await db(services.message_santa, event, interaction.user.id, text)
            return "📨 " + _("Sent to your Secret Santa.")
        await respond(interaction, work)

    # ----------------------------------------------------------------- organisers

    @group.command(name="open", description="Organisers: start a Ratmas, or reopen locked signups")
    @app_commands.describe(
        signup_deadline="YYYY-MM-DD HH:MM (in the time zone)", purchase_deadline="YYYY-MM-DD HH:MM",
        reveal_date="YYYY-MM-DD HH:MM", time_zone="IANA name, e.g. Europe/Berlin (default UTC)",
        budget="e.g. 20 EUR", participant_role="Members with this role are the participants",
        managing_role="Members with this role may organise")
    async def open_(interaction: discord.Interaction, signup_deadline: str | None = None,
                    purchase_deadline: str | None = None, reveal_date: str | None = None,
                    time_zone: str = "UTC", budget: str = "", participant_role: discord.Role | None = None,
                    managing_role: discord.Role | None = None) -> None:
        async def work() -> str:
            if interaction.guild_id is None:
                raise services.RatmasError(_("Use this command in a server."))
            _event_row, reopened = await db(
                services.open_signups, interaction.guild_id,
                may_organise=lambda event: is_organiser(interaction.user, event),
                signup_deadline=signup_deadline, purchase_deadline=purchase_deadline, reveal_date=reveal_date,
                time_zone=time_zone, budget=budget, announcement_channel_id=interaction.channel_id,
                participant_role_id=participant_role.id if participant_role else None,
                managing_role_id=managing_role.id if managing_role else None)
            if reopened:
                return "🔓 " + _("Signups are open again.")
            return "🎄 " + _("Ratmas created; signups are open and announced in this channel.")
        await respond(interaction, work)

    def lifecycle(name: str, *, description: str, action: Callable[[Event], Any], done: Any) -> None:
        async def callback(interaction: discord.Interaction) -> None:
            async def work() -> str:
                event = await _event(interaction, organiser=True)
                result = await db(action, event)
                return str(done) + (f" {result}" if result is not None and not isinstance(result, Event) else "")
            await respond(interaction, work)

        group.add_command(app_commands.Command(name=name, description=description, callback=callback))

    lifecycle("lock", description="Organisers: close signups",
              action=lambda e: services.set_status(e, Event.Status.LOCKED),
              done=format_lazy("🔒 {}", gettext_lazy("Signups locked.")))
    lifecycle("notify", description="Organisers: DM every Santa their recipient (again for failed ones)",
              action=services.notify_santas, done=format_lazy("🎅 {}", gettext_lazy("Notifications:")))
    lifecycle("complete", description="Organisers: end the Ratmas and thank everyone", action=services.complete_event,
              done=format_lazy("🎁 {}", gettext_lazy("Ratmas completed.")))
    lifecycle("cancel", description="Organisers: cancel the Ratmas",
              action=lambda e: services.set_status(e, Event.Status.CANCELLED),
              done=format_lazy("❌ {}", gettext_lazy("Ratmas cancelled.")))

    @group.command(name="match", description="Organisers: draw the pairings (secret; dry run only checks)")
    @app_commands.describe(dry_run="Only check that a valid draw exists", avoid_previous="Avoid last time's pairs")
    async def match(interaction: discord.Interaction, dry_run: bool = False, avoid_previous: bool = True) -> None:
        async def work() -> str:
            event = await _event(interaction, organiser=True)
            plan = await db(services.generate_pairings, event, avoid_previous=avoid_previous, dry_run=dry_run)
            return plan.summary() + ("" if dry_run else " " + _("Send the DMs with `/ratmas notify`."))
        await respond(interaction, work)

    @group.command(name="exclude", description="Organisers: stop someone drawing someone else")
    @app_commands.describe(giver="Must not draw…", receiver="…this participant", both_ways="And the reverse",
                           remove="Remove this exclusion instead")
    async def exclude(interaction: discord.Interaction, giver: discord.Member, receiver: discord.Member,
                      both_ways: bool = False, remove: bool = False) -> None:
        async def work() -> str:
            event = await _event(interaction, organiser=True)
            if remove:
                await db(services.remove_exclusion, event, giver.id, receiver.id)
                return _("Exclusion %(giver)s → %(receiver)s removed.") % {
                    "giver": giver.display_name, "receiver": receiver.display_name}
            saved = await db(services.add_exclusion, event, giver.id, receiver.id, both_ways)
            return _("Exclusion saved: %(giver)s %(arrow)s %(receiver)s.") % {
                "giver": giver.display_name, "arrow": "↮" if saved.both_ways else "↛",
                "receiver": receiver.display_name}
        await respond(interaction, work)

    @group.command(name="sync", description="Organisers: make participants match the participant role")
    async def sync(interaction: discord.Interaction) -> None:
        async def work() -> str:
            event = await _event(interaction, organiser=True)
            role = interaction.guild.get_role(event.participant_role_id) if event.participant_role_id else None
            if role is None:
                raise services.RatmasError(_("This Ratmas has no participant role to sync from."))
            members = [(m.id, m.display_name) for m in role.members if not m.bot]
            diff = await db(services.sync_participants_from_role, event, members)
            lines = [_("Synced with @%(role)s: %(diff)s.") % {"role": role.name, "diff": diff}]
            if diff.added:
                lines.append(_("Added: %(names)s") % {"names": ", ".join(diff.added)[:800]})
            if diff.removed:
                lines.append(_("Removed: %(names)s") % {"names": ", ".join(diff.removed)[:800]})
            return "\n".join(lines)
        await respond(interaction, work)

    return group


def setup(bot) -> None:
    """Called by ``bot.runner.GuildOpsBot.setup_hook``."""
    bot.tree.add_command(build_group())
