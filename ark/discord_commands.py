"""``/ark`` slash commands and the Ark buttons. Thin: each handler calls ``ark.services`` and
answers ephemerally with the service's result or its error message.

The ``do_*`` functions are the synchronous bodies (run on the bot's database pool through
``bot.interactions``, which also defers slow answers and words failures); commands
and buttons share them. Officer commands are allowed to members holding the role
``ARK_OFFICER_ROLE_ID`` or the Manage Server permission.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot import interactions
from bot.outbox import discord_timestamp

from . import conf, services
from .messages import governor_label

log = logging.getLogger(__name__)

DAY_CHOICES = [
    app_commands.Choice(name="Saturday", value="Sat"),
    app_commands.Choice(name="Sunday", value="Sun"),
]
SLOT_CHOICES = [
    app_commands.Choice(name="Player", value="Player"),
    app_commands.Choice(name="Sub", value="Sub"),
]
ROSTER_NAME_WIDTH = 24  # 30 players + 30 subs stay within one 2000-character reply
RESULT_CHOICES = [app_commands.Choice(name=r, value=r) for r in ("Win", "Loss", "No-show")]
ATTENDANCE_CHOICES = [
    app_commands.Choice(name="Played", value="played"),
    app_commands.Choice(name="No-show", value="no_show"),
    app_commands.Choice(name="Excused", value="excused"),
]


ONLY_OFFICERS = gettext_lazy("Only Ark officers can do that.")
# The slots and outcomes as the member reads them (the database keeps the English values).
SLOT_LABELS = {"Player": gettext_lazy("Player"), "Sub": gettext_lazy("Sub")}
RESULT_LABELS = {"Win": gettext_lazy("Win"), "Loss": gettext_lazy("Loss"), "No-show": gettext_lazy("No-show")}
ATTENDANCE_LABELS = {"played": gettext_lazy("Played"), "no_show": gettext_lazy("No-show"),
                     "excused": gettext_lazy("Excused")}


def slot_label(slot: str) -> str:
    return str(SLOT_LABELS.get(slot, slot))


def is_officer(member: Any) -> bool:
    perms = getattr(member, "guild_permissions", None)
    if perms is not None and (perms.manage_guild or perms.administrator):
        return True
    role_id = conf.officer_role_id()
    return bool(role_id) and any(r.id == role_id for r in getattr(member, "roles", []))


def _parse_time(text: str, what: str) -> dt.datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise services.ArkError(_("%(what)s: write the UTC time as YYYY-MM-DD HH:MM, e.g. 2030-03-09 12:00.")
                            % {"what": what})


def _parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise services.ArkError(_("%(what)s: write the date as YYYY-MM-DD.") % {"what": what}) from None


def _ts(moment: dt.datetime) -> str:
    return discord_timestamp(moment, "F")


# --- the synchronous bodies -----------------------------------------------------------------


def do_signup(user_id: int, match_id: int, governor_id: int | None = None, slot: str | None = None) -> str:
    if governor_id is None:
        governor_id = services.governor_for(
            discord_user_id=user_id, match_id=match_id, signed_up=False
        ).governor_id
    s = services.add_signup(
        match_id=match_id,
        governor_id=governor_id,
        discord_user_id=user_id,
        slot_type=slot,
        actor_discord_id=user_id,
    )
    return _("%(governor)s is signed up as **%(slot)s** for %(match)s.") % {
        "governor": s.governor.name, "slot": slot_label(s.slot), "match": s.match}


def do_withdraw(user_id: int, match_id: int, governor_id: int | None = None) -> str:
    s = services.withdraw(match_id=match_id, discord_user_id=user_id, governor_id=governor_id)
    return _("%(governor)s left %(match)s.") % {"governor": s.governor.name, "match": s.match}


def do_checkin(user_id: int, match_id: int, governor_id: int | None = None) -> str:
    done = services.mark_checked_in(match_id=match_id, discord_user_id=user_id, governor_id=governor_id)
    return _("Checked in: %(governors)s.") % {"governors": ", ".join(s.governor.name for s in done)}


def do_switch(
    user_id: int, match_id: int, new_governor_id: int | None = None, old_governor_id: int | None = None
) -> str:
    if old_governor_id is None:
        old_governor_id = services.governor_for(
            discord_user_id=user_id, match_id=match_id, signed_up=True
        ).governor_id
    if new_governor_id is None:
        new_governor_id = services.governor_for(
            discord_user_id=user_id, match_id=match_id, signed_up=False
        ).governor_id
    s = services.switch_signup_governor(
        match_id=match_id,
        old_governor_id=old_governor_id,
        new_governor_id=new_governor_id,
        actor_discord_id=user_id,
    )
    return _("Switched: %(governor)s keeps the %(slot)s slot.") % {"governor": s.governor.name,
                                                                    "slot": slot_label(s.slot)}


def do_roster(match_id: int) -> str:
    match = services.get_match(match_id)
    if match is None:
        raise services.NotFoundError(_("Ark match #%(number)s does not exist.") % {"number": match_id})
    roster = services.get_roster(match_id)
    lines = [f"**{match}** — {_ts(match.match_time_utc)} · {match.status}"]
    for slot in ("Player", "Sub"):
        names = [
            governor_label(s.governor.name, ROSTER_NAME_WIDTH) + (" ✅" if s.checked_in_at else "")
            for s in roster
            if s.slot == slot
        ]
        heading = _("Players") if slot == "Player" else _("Subs")
        lines.append(f"**{heading} ({len(names)})**: " + (", ".join(names) or "—"))
    return "\n".join(lines)[:1900]


def do_prefs(
    user_id: int, dm_enabled: bool | None = None, disable: str | None = None, enable: str | None = None
) -> str:
    def types(text: str | None) -> set[str]:
        return {t.strip() for t in (text or "").split(",") if t.strip()}

    if dm_enabled is None and not disable and not enable:
        prefs = services.get_reminder_prefs(user_id)
    else:
        prefs = services.change_reminder_prefs(discord_user_id=user_id, dm_enabled=dm_enabled,
                                               disable=types(disable), enable=types(enable))
    active = [t.name for t in conf.reminder_types() if not t.to_channel]
    if prefs is None:
        return _("You get every reminder DM: %(types)s.") % {"types": ", ".join(active)}
    wanted = [t for t in active if prefs.wants(t)]
    state = _("Reminder DMs are on.") if prefs.dm_enabled else _("Reminder DMs are off.")
    return state + " " + _("You get: %(wanted)s. Types: %(types)s.") % {
        "wanted": ", ".join(wanted) or _("none"), "types": ", ".join(conf.AVAILABLE_REMINDERS)}


def do_governor_register(user_id: int, governor_id: int, name: str) -> str:
    g = services.register_governor(
        governor_id=governor_id, name=name, discord_user_id=user_id, actor_discord_id=user_id
    )
    return _("Registered %(governor)s (%(id)s).") % {"governor": g.name, "id": g.governor_id}


def do_governor_list(user_id: int) -> str:
    govs = services.list_governors(user_id)
    return "\n".join(f"• {g.name} ({g.governor_id})" for g in govs) or _("No governor registered yet.")


def do_create_match(user_id: int, alliance: str, weekend: str, slot: str, notes: str = "") -> str:
    """Only a slot of the alliance's calendar, on an Ark weekend; the close follows the calendar."""
    ally = services.get_alliance(alliance)
    if ally is None:
        raise services.NotFoundError(_("Unknown alliance %(alliance)r.") % {"alliance": alliance})
    day, start, close = services.slot_schedule(ally, _parse_date(weekend, "weekend"), slot)
    m = services.create_match(
        alliance=ally,
        ark_weekend_date=_parse_date(weekend, "weekend"),
        match_day=day,
        match_time_utc=start,
        signup_close_utc=close,
        notes=notes,
        actor_discord_id=user_id,
    )
    return _("Created %(match)s — %(start)s, signups close %(close)s. The registration message is on its way.") % {
        "match": m, "start": _ts(m.match_time_utc), "close": _ts(m.signup_close_utc)}


def slot_choices_for(alliance: str | None, current: str = "") -> list[app_commands.Choice[str]]:
    """The alliance's calendar slots (what ``/ark create_match`` offers)."""
    ally = services.get_alliance(alliance) if alliance else None
    calendar = services.get_calendar(ally) if ally else None
    labels = [s.label for s in services.calendar_slots(calendar)] if calendar else []
    return [app_commands.Choice(name=f"{label} UTC", value=label) for label in labels if current.lower() in label.lower()][:25]


def do_attendance(user_id: int, match_id: int, governor_id: int, attendance: str) -> str:
    s = services.set_attendance(
        match_id=match_id, governor_id=governor_id, attendance=attendance, actor_discord_id=user_id
    )
    record = services.governor_record(s.governor)
    return _("%(governor)s: **%(attendance)s** in %(match)s. Record: %(played)s played, %(no_show)s no-show, "
             "%(excused)s excused of %(signed_up)s signups.") % {
        "governor": s.governor.name, "attendance": str(ATTENDANCE_LABELS.get(s.attendance) or s.get_attendance_display()),
        "match": s.match, "played": record.played, "no_show": record.no_show, "excused": record.excused,
        "signed_up": record.signed_up}


def do_amend_match(
    user_id: int,
    match_id: int,
    day: str | None = None,
    start: str | None = None,
    close: str | None = None,
    notes: str | None = None,
) -> str:
    m = services.amend_match(
        match_id=match_id,
        match_day=day,
        match_time_utc=_parse_time(start, "start") if start else None,
        signup_close_utc=_parse_time(close, "close") if close else None,
        notes=notes,
        actor_discord_id=user_id,
    )
    return _("Amended %(match)s: %(start)s, signups close %(close)s.") % {
        "match": m, "start": _ts(m.match_time_utc), "close": _ts(m.signup_close_utc)}


def do_cancel_match(user_id: int, match_id: int, reason: str = "") -> str:
    m = services.cancel_match(match_id=match_id, actor_discord_id=user_id, reason=reason)
    return _("Cancelled %(match)s; the signed-up members get a DM.") % {"match": m}


def do_ban_add(
    user_id: int,
    reason: str,
    member_id: int | None = None,
    governor_id: int | None = None,
    weekends: int | None = None,
    until: str | None = None,
) -> str:
    b = services.add_ban(
        reason=reason,
        discord_user_id=member_id,
        governor_id=governor_id,
        weekends=weekends,
        until_date=_parse_date(until, "until") if until else None,
        actor_discord_id=user_id,
    )
    note = services.ban_coverage_note(b)
    return _("Ban #%(number)s: %(ban)s.") % {"number": b.pk, "ban": b} + (f" {note}" if note else "")


def do_ban_revoke(user_id: int, ban_id: int) -> str:
    return _("Revoked: %(ban)s.") % {"ban": services.revoke_ban(ban_id=ban_id, actor_discord_id=user_id)}


def do_ban_list() -> str:
    bans = services.list_bans()
    return "\n".join(f"#{b.pk} {b} — {b.reason[:80]}" for b in bans[:30])[:1900] or _("No active bans.")


def do_set_result(user_id: int, match_id: int, result: str, notes: str = "") -> str:
    m = services.set_match_result(
        match_id=match_id, result=result, result_notes=notes, actor_discord_id=user_id
    )
    return _("Recorded **%(result)s** for %(match)s.") % {"result": str(RESULT_LABELS.get(m.result, m.result)), "match": m}


def confirm_withdraw(user_id: int, match_id: int) -> interactions.Reply:
    """The Emergency withdraw button first asks, ephemerally: leaving a locked match hands the
    slot to a sub and tells the officers, so a stray click must not do it."""
    match = services.get_match(match_id)
    if match is None:
        raise services.NotFoundError(_("Ark match #%(number)s does not exist.") % {"number": match_id})
    view = discord.ui.View(timeout=300)
    view.add_item(
        discord.ui.Button(
            label=_("Yes, withdraw me"), style=discord.ButtonStyle.danger, custom_id=f"ark:withdraw_confirm:{match_id}"
        )
    )
    return interactions.Reply(
        content=_("Withdraw from **%(match)s** (%(start)s)? Your slot goes to the first sub and the officers are "
                  "told. Press the button to confirm, or dismiss this message.") % {
            "match": match, "start": _ts(match.match_time_utc)},
        view=view,
    )


BUTTONS: dict[str, Callable[[int, int], str | interactions.Reply]] = {
    "join_player": lambda user, match: do_signup(user, match, slot="Player"),
    "join_sub": lambda user, match: do_signup(user, match, slot="Sub"),
    "leave": lambda user, match: do_withdraw(user, match),
    "switch": lambda user, match: do_switch(user, match),
    "checkin": lambda user, match: do_checkin(user, match),
    "withdraw": confirm_withdraw,
    "withdraw_confirm": lambda user, match: do_withdraw(user, match),
}


def do_button(user_id: int, custom_id: str) -> str | interactions.Reply | None:
    """Route ``ark:<action>:<match_id>``; None when the button is not ours."""
    parts = custom_id.split(":")
    if len(parts) != 3 or parts[0] != "ark" or parts[1] not in BUTTONS or not parts[2].isdigit():
        return None
    return BUTTONS[parts[1]](user_id, int(parts[2]))


# --- discord.py wiring ------------------------------------------------------------------------


async def _officer(
    interaction: discord.Interaction, fn: Callable[..., str], *args: Any, **kwargs: Any
) -> None:
    if not is_officer(interaction.user):
        await interactions.refuse(interaction, ONLY_OFFICERS)
        return
    await interactions.answer(interaction, fn, *args, **kwargs)


def build_group() -> app_commands.Group:
    ark = app_commands.Group(
        name="ark", description="Ark of Osiris: signups, check-in, reminders and officer tools"
    )
    governor = app_commands.Group(
        name="governor", description="Your in-game governors (accounts)", parent=ark
    )

    @ark.command(name="signup", description="Sign up for an Ark match")
    @app_commands.choices(slot=SLOT_CHOICES)
    async def signup(
        interaction: discord.Interaction,
        match_id: int,
        governor_id: int | None = None,
        slot: app_commands.Choice[str] | None = None,
    ) -> None:
        await interactions.answer(
            interaction, do_signup, interaction.user.id, match_id, governor_id, slot.value if slot else None
        )

    @ark.command(name="withdraw", description="Leave a match (an emergency withdraw once signups closed)")
    async def withdraw(
        interaction: discord.Interaction, match_id: int, governor_id: int | None = None
    ) -> None:
        await interactions.answer(interaction, do_withdraw, interaction.user.id, match_id, governor_id)

    @ark.command(name="checkin", description="Check in (from 12 hours before the start)")
    async def checkin(
        interaction: discord.Interaction, match_id: int, governor_id: int | None = None
    ) -> None:
        await interactions.answer(interaction, do_checkin, interaction.user.id, match_id, governor_id)

    @ark.command(name="switch", description="Put another of your governors in your signup (same slot)")
    async def switch(
        interaction: discord.Interaction,
        match_id: int,
        new_governor_id: int,
        old_governor_id: int | None = None,
    ) -> None:
        await interactions.answer(interaction, do_switch, interaction.user.id, match_id, new_governor_id, old_governor_id)

    @ark.command(name="roster", description="Show a match's roster")
    async def roster(interaction: discord.Interaction, match_id: int) -> None:
        await interactions.answer(interaction, do_roster, match_id)

    @ark.command(name="prefs", description="Your reminder DMs: turn them on/off or pick types")
    async def prefs(
        interaction: discord.Interaction,
        dm_enabled: bool | None = None,
        disable: str | None = None,
        enable: str | None = None,
    ) -> None:
        await interactions.answer(interaction, do_prefs, interaction.user.id, dm_enabled, disable, enable)

    @governor.command(name="register", description="Add a governor to your registry")
    async def governor_register(interaction: discord.Interaction, governor_id: int, name: str) -> None:
        await interactions.answer(interaction, do_governor_register, interaction.user.id, governor_id, name)

    @governor.command(name="list", description="Your registered governors")
    async def governor_list(interaction: discord.Interaction) -> None:
        await interactions.answer(interaction, do_governor_list, interaction.user.id)

    @ark.command(
        name="create_match", description="Officers: schedule a match in a calendar slot (weekend YYYY-MM-DD)"
    )
    async def create_match(
        interaction: discord.Interaction, alliance: str, weekend: str, slot: str, notes: str = ""
    ) -> None:
        await _officer(interaction, do_create_match, interaction.user.id, alliance, weekend, slot, notes)

    @ark.command(name="attendance", description="Officers: mark a governor played, no-show or excused")
    @app_commands.choices(status=ATTENDANCE_CHOICES)
    async def attendance(
        interaction: discord.Interaction, match_id: int, governor_id: int, status: app_commands.Choice[str]
    ) -> None:
        await _officer(interaction, do_attendance, interaction.user.id, match_id, governor_id, status.value)

    @ark.command(name="amend_match", description="Officers: change a match's day, time or notes")
    @app_commands.choices(day=DAY_CHOICES)
    async def amend_match(
        interaction: discord.Interaction,
        match_id: int,
        day: app_commands.Choice[str] | None = None,
        start: str | None = None,
        close: str | None = None,
        notes: str | None = None,
    ) -> None:
        await _officer(
            interaction,
            do_amend_match,
            interaction.user.id,
            match_id,
            day.value if day else None,
            start,
            close,
            notes,
        )

    @ark.command(name="cancel_match", description="Officers: cancel a match (members get a DM)")
    async def cancel_match(interaction: discord.Interaction, match_id: int, reason: str = "") -> None:
        await _officer(interaction, do_cancel_match, interaction.user.id, match_id, reason)

    @ark.command(
        name="ban_add", description="Officers: ban a member and/or governor for N weekends or until a date"
    )
    async def ban_add(
        interaction: discord.Interaction,
        reason: str,
        member: discord.User | None = None,
        governor_id: int | None = None,
        weekends: int | None = None,
        until: str | None = None,
    ) -> None:
        await _officer(
            interaction,
            do_ban_add,
            interaction.user.id,
            reason,
            member.id if member else None,
            governor_id,
            weekends,
            until,
        )

    @ark.command(name="ban_revoke", description="Officers: lift a ban")
    async def ban_revoke(interaction: discord.Interaction, ban_id: int) -> None:
        await _officer(interaction, do_ban_revoke, interaction.user.id, ban_id)

    @ark.command(name="ban_list", description="Officers: active bans")
    async def ban_list(interaction: discord.Interaction) -> None:
        await _officer(interaction, do_ban_list)

    @ark.command(name="set_result", description="Officers: record Win, Loss or No-show")
    @app_commands.choices(result=RESULT_CHOICES)
    async def set_result(
        interaction: discord.Interaction, match_id: int, result: app_commands.Choice[str], notes: str = ""
    ) -> None:
        await _officer(interaction, do_set_result, interaction.user.id, match_id, result.value, notes)

    for command in (signup, withdraw, checkin, switch, roster, amend_match, cancel_match, set_result, attendance):
        command.autocomplete("match_id")(match_choices)
    create_match.autocomplete("alliance")(alliance_choices)
    create_match.autocomplete("slot")(slot_choices)
    return ark


def match_choices_for(current: str) -> list[app_commands.Choice[int]]:
    """Open matches whose label contains what the user typed, or whose number starts with the
    digits typed (Discord shows at most 25)."""
    wanted = current.strip().lower()
    number = wanted.lstrip("#")
    choices = []
    for m in services.list_open_matches():
        label = f"#{m.pk} {m.alliance.name} · {m.ark_weekend_date} {m.match_day} {m.match_time_utc:%H:%M} UTC"
        hit = str(m.pk).startswith(number) if number.isdigit() else wanted in label.lower()
        if hit:
            choices.append(app_commands.Choice(name=f"{label} ({m.status})"[:100], value=m.pk))
    return choices[:25]


async def match_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """Autocomplete for ``match_id``: members pick a match by alliance and date, not by number."""
    return await interactions.choices(match_choices_for, current)


async def alliance_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for ``alliance`` (active alliances)."""
    names = await interactions.choices(lambda: [a.name for a in services.list_alliances()])
    return [app_commands.Choice(name=n, value=n) for n in names if current.lower() in n.lower()][:25]


async def slot_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for ``slot``: only the chosen alliance's calendar slots."""
    alliance = getattr(interaction.namespace, "alliance", None)
    return await interactions.choices(slot_choices_for, alliance, current)


async def on_button(interaction: discord.Interaction, custom_id: str) -> None:
    """Buttons ``ark:<action>:<match_id>`` (routed here by ``bot.interactions.ComponentRouter``)."""
    user_id = interaction.user.id

    def press() -> str | interactions.Reply:
        text = do_button(user_id, custom_id)
        if text is None:
            raise interactions.StaleComponentError()
        return text

    await interactions.answer(interaction, press)


def setup(bot) -> None:
    bot.tree.add_command(build_group())
    interactions.register_buttons(bot, "ark", on_button)
