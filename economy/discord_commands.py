"""Discord UI of the economy: /bytes, /squads, moderators' /warn /timeout /cases, the
"Send Bytes" context menus and the auto-moderation listener. Thin: every callback calls a
service on the bot's database pool through ``bot.interactions`` (one reply helper: deferral of
slow answers, a DomainError's message shown ephemerally). Auto-moderation runs on the gateway
event lane, never on the threads that answer members."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot import interactions, outbox
from bot.interactions import Reply, db, respond
from core import i18n
from core.errors import DomainError
from core.i18n import number
from economy import services
from economy.models import SYSTEM_ID

log = logging.getLogger(__name__)
COLOUR = 0x417690
# Moderation actions as the moderator reads them (the database keeps the codes).
ACTIONS = {"warn": gettext_lazy("Warn"), "timeout": gettext_lazy("Timeout"), "kick": gettext_lazy("Kick"),
           "ban": gettext_lazy("Ban"), "delete": gettext_lazy("Delete message")}

bytes_group = app_commands.Group(name="bytes", description="Bytes: the server's currency", guild_only=True)
squads_group = app_commands.Group(name="squads", description="Squads: teams with their own role", guild_only=True)


def _name(user: Any) -> str:
    return getattr(user, "display_name", None) or getattr(user, "name", None) or str(user.id)


def _party(user_id: int, username: str) -> str:
    return username if user_id != SYSTEM_ID else username or _("the bank")


# -- /bytes ----------------------------------------------------------------------------------
@bytes_group.command(name="balance", description="Show your bytes (or another member's)")
async def balance(interaction: discord.Interaction, member: discord.Member | None = None) -> None:
    target = member or interaction.user

    async def work() -> str:
        row = await db(services.get_or_create_balance, interaction.guild_id, target.id)
        return _("**%(member)s** has **%(balance)s** bytes (streak %(streak)s, received %(received)s, "
                 "sent %(sent)s).") % {"member": _name(target), "balance": number(row.balance),
                                       "streak": number(row.streak_count), "received": number(row.total_received),
                                       "sent": number(row.total_sent)}
    await respond(interaction, work, ephemeral=member is None)


async def _send(interaction: discord.Interaction, receiver: Any, amount: int, reason: str) -> None:
    async def work() -> Reply:
        record = await db(services.transfer, interaction.guild_id, interaction.user.id,
                          _name(interaction.user), receiver.id, _name(receiver), amount, reason)
        suffix = f" — {record.reason}" if record.reason else ""
        return Reply(_("%(giver)s sent **%(amount)s** bytes to %(receiver)s") % {
            "giver": interaction.user.mention, "amount": number(record.amount), "receiver": receiver.mention} + suffix,
                     allowed_mentions=discord.AllowedMentions(users=[receiver]))
    await respond(interaction, work, ephemeral=False)


@bytes_group.command(name="send", description="Send bytes to a member")
@app_commands.describe(member="Who receives", amount="How many bytes", reason="Why (shown in the log)")
async def send(interaction: discord.Interaction, member: discord.Member, amount: app_commands.Range[int, 1, 1_000_000],
               reason: str = "") -> None:
    await _send(interaction, member, amount, reason)


@bytes_group.command(name="daily", description="Claim your daily bytes")
async def daily(interaction: discord.Interaction) -> None:
    async def work() -> str:
        row, streak, amount = await db(services.award_daily, interaction.guild_id, interaction.user.id,
                                       username=_name(interaction.user))
        return _("+**%(amount)s** bytes! Streak: **%(streak)s** day(s). Balance: **%(balance)s**.") % {
            "amount": number(amount), "streak": number(streak), "balance": number(row.balance)}
    await respond(interaction, work, ephemeral=False)


@bytes_group.command(name="leaderboard", description="The richest members")
async def leaderboard(interaction: discord.Interaction) -> None:
    async def work() -> Reply:
        rows = await db(services.get_leaderboard, interaction.guild_id, 10)
        lines = [f"**{i}.** <@{r.user_id}> — {number(r.balance)}" for i, r in enumerate(rows, 1)] or \
            [_("Nobody has bytes yet.")]
        return Reply(embed=discord.Embed(title=_("Bytes leaderboard"), description="\n".join(lines), colour=COLOUR),
                     allowed_mentions=discord.AllowedMentions.none())
    await respond(interaction, work, ephemeral=False)


@bytes_group.command(name="history", description="Your latest bytes movements")
async def history(interaction: discord.Interaction) -> None:
    async def work() -> str:
        rows = await db(services.get_history, interaction.guild_id, interaction.user.id, 10)
        me = interaction.user.id
        lines = []
        for t in rows:
            sign, other = ("-", _party(t.receiver_id, t.receiver_username)) if t.giver_id == me else \
                ("+", _party(t.giver_id, t.giver_username))
            lines.append(f"{outbox.discord_timestamp(t.created_at, 'd')} {sign}{number(t.amount)} {other}"
                         f"{' — ' + t.reason[:60] if t.reason else ''}")
        return "\n".join(lines) or _("No movements yet.")
    await respond(interaction, work)


@bytes_group.command(name="info", description="How bytes work on this server")
async def info(interaction: discord.Interaction) -> None:
    async def work() -> Reply:
        config = await db(services.get_config, interaction.guild_id)
        bonuses = ", ".join(_("%(days)s+ days ×%(factor)s") % {"days": d, "factor": number(m)}
                            for d, m in services.parse_streak_bonuses(config.streak_bonuses)) or _("none")
        rewards = ", ".join(_("%(role)s at %(amount)s") % {"role": f"<@&{r}>", "amount": number(t)}
                            for r, t in services.parse_role_rewards(config.role_rewards)) or _("none")
        cooldown = (_("%(hours)s h") % {"hours": number(config.transfer_cooldown_hours)}
                    if config.transfer_cooldown_hours else _("none"))
        return Reply(embed=discord.Embed(title=_("Bytes"), colour=COLOUR, description=(
            _("Daily: **%(daily)s** (streak bonuses: %(bonuses)s)") % {"daily": number(config.daily_amount),
                                                                      "bonuses": bonuses} + "\n"
            + _("New members start with **%(amount)s**") % {"amount": number(config.starting_balance)} + "\n"
            + _("Max transfer: **%(amount)s**, cooldown: %(cooldown)s") % {"amount": number(config.max_transfer),
                                                                        "cooldown": cooldown} + "\n"
            + _("Role rewards: %(rewards)s") % {"rewards": rewards})))
    await respond(interaction, work)


SEND_BYTES = "economy:send_bytes"  # + ":<receiver id>": the modal's custom id, understood by any process


class SendBytesModal(discord.ui.Modal, title="Send Bytes"):
    """The "Send Bytes" form. Its custom id names the receiver, and its submit is routed by that
    id (:func:`on_form`), not by this object: a form opened before a restart or a deploy still
    sends when submitted to the new process."""

    amount: discord.ui.TextInput = discord.ui.TextInput(label="Amount", max_length=9, custom_id="amount")
    reason: discord.ui.TextInput = discord.ui.TextInput(label="Reason", required=False, max_length=200,
                                                        custom_id="reason")

    def __init__(self, receiver: Any) -> None:
        super().__init__(custom_id=f"{SEND_BYTES}:{receiver.id}")
        self.title = _("Send Bytes")  # in the member's language (the caller activates it)
        self.amount.label = _("Amount")
        self.reason.label = _("Reason")


async def _open_send_bytes(interaction: discord.Interaction, receiver: Any) -> None:
    with translation.override(i18n.language_of_locale(getattr(interaction, "locale", None)) or i18n.SOURCE):
        modal = SendBytesModal(receiver)
    await interaction.response.send_modal(modal)
    modal.stop()  # discord.py forgets it: the submit goes through the router like any other process's


@app_commands.context_menu(name="Send Bytes")
@app_commands.guild_only()
async def send_bytes_to_member(interaction: discord.Interaction, member: discord.Member) -> None:
    await _open_send_bytes(interaction, member)


@app_commands.context_menu(name="Send Bytes")
@app_commands.guild_only()
async def send_bytes_to_author(interaction: discord.Interaction, message: discord.Message) -> None:
    await _open_send_bytes(interaction, message.author)


@dataclass(frozen=True)
class _Departed:
    """A receiver the bot no longer has in its member cache (named by id)."""

    id: int

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    @property
    def display_name(self) -> str:
        return str(self.id)


async def on_form(interaction: discord.Interaction, custom_id: str) -> None:
    """Economy's modal submits (routed by custom id, see :class:`SendBytesModal`)."""
    prefix, _sep, receiver_id = custom_id.rpartition(":")
    if prefix != SEND_BYTES or not receiver_id.isdigit() or interaction.type != discord.InteractionType.modal_submit:
        await interactions.refuse(interaction, interactions.STALE_FORM)
        return
    values = interactions.form_values(interaction)
    try:
        amount = int(values.get("amount", "").strip())
    except ValueError:
        await interactions.refuse(interaction, gettext_lazy("The amount must be a whole number of bytes."))
        return
    guild = interaction.guild
    receiver = (guild.get_member(int(receiver_id)) if guild is not None else None) or _Departed(int(receiver_id))
    await _send(interaction, receiver, amount, values.get("reason", ""))


# -- /squads ---------------------------------------------------------------------------------
def _squad_line(squad: Any) -> str:
    size = f"{squad.member_count}/{squad.max_members}" if squad.max_members else str(squad.member_count)
    return _("**%(squad)s** %(role)s — %(size)s members, switch %(cost)s bytes") % {
        "squad": squad.name, "role": f"<@&{squad.role_id}>", "size": size, "cost": number(squad.switch_cost)}


@squads_group.command(name="list", description="All squads")
async def squads_list(interaction: discord.Interaction) -> None:
    async def work() -> Reply:
        squads = await db(services.list_squads, interaction.guild_id)
        return Reply("\n".join(_squad_line(s) for s in squads) or _("No squads yet."),
                     allowed_mentions=discord.AllowedMentions.none())
    await respond(interaction, work)


@squads_group.command(name="join", description="Join a squad (switching costs bytes)")
@app_commands.describe(name="The squad's name")
async def squads_join(interaction: discord.Interaction, name: str) -> None:
    async def work() -> str:
        squad = await db(services.get_squad, interaction.guild_id, name)
        joined, cost = await db(services.join_squad, interaction.guild_id, interaction.user.id, squad.pk,
                                _name(interaction.user))
        if cost:
            return _("You joined **%(squad)s** for %(cost)s bytes.") % {"squad": joined.name, "cost": number(cost)}
        return _("You joined **%(squad)s**.") % {"squad": joined.name}
    await respond(interaction, work)


@squads_group.command(name="leave", description="Leave your squad")
async def squads_leave(interaction: discord.Interaction) -> None:
    async def work() -> str:
        squad = await db(services.leave_squad, interaction.guild_id, interaction.user.id)
        return _("You left **%(squad)s**.") % {"squad": squad.name}
    await respond(interaction, work)


@squads_group.command(name="info", description="About one squad")
async def squads_info(interaction: discord.Interaction, name: str) -> None:
    async def work() -> Reply:
        squad = await db(services.get_squad, interaction.guild_id, name)
        embed = discord.Embed(title=squad.name, description=(squad.description or "")[:4000], colour=COLOUR)
        embed.add_field(name=_("Members"), value=_squad_line(squad))
        return Reply(embed=embed)
    await respond(interaction, work)


@squads_group.command(name="members", description="Who is in a squad")
async def squads_members(interaction: discord.Interaction, name: str) -> None:
    async def work() -> Reply:
        squad = await db(services.get_squad, interaction.guild_id, name)
        members = await db(services.squad_members, squad, 50)
        text = ", ".join(f"<@{m.user_id}>" for m in members) or _("Nobody yet.")
        return Reply(f"**{squad.name}**: {text}", allowed_mentions=discord.AllowedMentions.none())
    await respond(interaction, work)


async def squad_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for the squad commands' ``name`` option."""
    squads = await interactions.choices(services.list_squads, interaction.guild_id)
    wanted = current.lower()
    return [app_commands.Choice(name=s.name, value=s.name) for s in squads if wanted in s.name.lower()][:25]


for _command in (squads_join, squads_info, squads_members):
    _command.autocomplete("name")(squad_names)


# -- moderation ------------------------------------------------------------------------------
async def _open(interaction: discord.Interaction, member: Any, action: str, reason: str,
                minutes: int | None = None) -> None:
    async def work() -> str:
        case = await db(services.open_case, interaction.guild_id, member.id, str(member),
                        interaction.user.id, str(interaction.user), action, reason, duration_minutes=minutes)
        return _("Case %(case)s: %(action)s %(member)s — %(reason)s") % {
            "case": f"`{str(case.pk)[:8]}`", "action": str(ACTIONS.get(case.action) or case.get_action_display()).lower(),
            "member": member.mention, "reason": case.reason}
    await respond(interaction, work)


@app_commands.command(name="warn", description="Warn a member (DM and a case)")
@app_commands.guild_only()
@app_commands.default_permissions(moderate_members=True)
async def warn(interaction: discord.Interaction, member: discord.Member, reason: str) -> None:
    await _open(interaction, member, "warn", reason)


@app_commands.command(name="timeout", description="Time a member out")
@app_commands.guild_only()
@app_commands.default_permissions(moderate_members=True)
async def timeout(interaction: discord.Interaction, member: discord.Member,
                  minutes: app_commands.Range[int, 1, services.MAX_TIMEOUT_MINUTES], reason: str) -> None:
    await _open(interaction, member, "timeout", reason, minutes)


@app_commands.command(name="cases", description="A member's moderation cases")
@app_commands.guild_only()
@app_commands.default_permissions(moderate_members=True)
async def cases(interaction: discord.Interaction, member: discord.Member) -> None:
    async def work() -> str:
        rows = await db(services.list_cases, interaction.guild_id, member.id)
        resolved = " (" + _("resolved") + ")"
        lines = [f"`{str(c.pk)[:8]}` {outbox.discord_timestamp(c.created_at, 'd')} "
                 f"{ACTIONS.get(c.action) or c.get_action_display()}"
                 f"{resolved if c.resolved else ''} — {c.reason[:80]}" for c in rows]
        return "\n".join(lines) or _("%(member)s has no cases.") % {"member": member}
    await respond(interaction, work)


# -- auto-moderation -------------------------------------------------------------------------
def moderate(message_id: int, guild_id: int, author_id: int, author_tag: str, roles: list[int], channel_id: int,
             content: str, mention_ids: list[int], created_at: dt.datetime) -> None:
    """One message through the guild's auto-moderation rules (on the gateway event lane)."""
    match = services.evaluate_message(guild_id, author_id, roles, channel_id, content, mention_ids, created_at)
    if match is None:
        return
    try:
        services.apply_automod_action(guild_id, author_id, author_tag, channel_id, message_id, match)
    except DomainError:
        log.warning("automod: could not act on message %s", message_id, exc_info=True)


async def on_message(message: discord.Message) -> None:
    """Every guild message from a person goes through auto-moderation, queued on the bot's
    gateway event lane: a busy chat may make it lag, never the members' commands (a message
    skipped under overload is logged and counted)."""
    if message.guild is None or message.author.bot:
        return
    roles = [r.id for r in getattr(message.author, "roles", [])]
    await interactions.EVENTS.submit("automod", moderate, message.id, message.guild.id, message.author.id,
                                     str(message.author), roles, message.channel.id, message.content,
                                     [m.id for m in message.mentions], message.created_at)


def setup(bot: Any) -> None:
    for command in (bytes_group, squads_group, send_bytes_to_member, send_bytes_to_author, warn, timeout, cases):
        bot.tree.add_command(command)
    bot.add_listener(on_message, "on_message")
    interactions.register_buttons(bot, "economy", on_form)
