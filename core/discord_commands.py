"""``/privacy``: members see, take and erase their data from Discord (all answers ephemeral).

- ``info``: what Guild Ops stores about them, why and for how long, with the statement's link;
- ``export``: a JSON file of everything stored about them, sent privately (gzip-compressed when
  larger than Discord's attachment limit allows, refused with what to do beyond that);
- ``forget``: the consequences and a "Forget me" button; pressed, it erases
  (``core.privacy.requests.process``) and answers with a receipt.

The forget button does not go through ``bot.interactions.respond``: that helper records the
member in the member directory after answering, which would write their name back right after
erasing it.
"""

from __future__ import annotations

import gzip
import io
import json
import logging

import discord
from discord import app_commands
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bot.interactions import SEND_ERRORS, Reply, db, refuse, register_buttons, respond
from core import i18n
from core.errors import DomainError
from core.observability import report_exception
from core.privacy import counts, parts
from core.privacy.requests import process

log = logging.getLogger(__name__)

ATTACHMENT_LIMIT = 8 * 1024 * 1024  # under Discord's smallest upload limit for bots (10 MiB)
STATEMENT = "docs/PRIVACY.md"


def policy_link() -> str:
    return settings.PRIVACY_POLICY_URL or _("the privacy statement (%(file)s of Guild Ops; ask an officer for it)") % {
        "file": STATEMENT}


def info_text() -> str:
    rules = [rule for part in parts() for rule in part.retention_rules]
    lines = ["🔒 " + _("**Your data in Guild Ops**"),
             _("Guild Ops keeps what the server's activities need: your Discord id and names, your game characters "
               "and sign-ups (raids, Ark), Secret Santa participation and messages, bytes and moderation cases, and "
               "messages the bot sends you."),
             _("**How long:**"), *[f"• {rule}" for rule in rules],
             _("**Your rights:** `/privacy export` sends you a copy; `/privacy forget` erases it (moderation cases "
               "about you and Ark bans are kept as a record, without your name)."),
             _("**Policy:** %(link)s") % {"link": policy_link()}]
    text = "\n".join(lines)
    for name in ("RETENTION_OUTBOX_DAYS", "RETENTION_RATMAS_DAYS", "RETENTION_MODERATION_DAYS",
                 "RETENTION_LEFT_MEMBER_DAYS", "ARK_RETENTION_DAYS"):
        text = text.replace(f"{name} days", f"{getattr(settings, name)} days")
    return text[:2000]


def export_file(user_id: int) -> tuple[str, bytes]:
    _record, data = process(user_id, kind="export", source="member", actor="member")
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    if len(body) <= ATTACHMENT_LIMIT:
        return "guildops-my-data.json", body
    packed = gzip.compress(body)
    if len(packed) <= ATTACHMENT_LIMIT:
        return "guildops-my-data.json.gz", packed
    raise DomainError(_("Your data is larger than Discord lets a bot attach: ask an officer for the file "
                        "(admin → Privacy requests)."))


FORGET_TEXT = gettext_lazy("⚠️ **Forget me** erases your data from Guild Ops and cannot be undone:\n"
               "• your bytes balance, squad and rewards go; transfers stay for the other members as "
               "\"a forgotten member\";\n"
               "• Secret Santa: you leave events that are not over (your Santa takes your recipient); your wishlist "
               "and messages go;\n"
               "• Ark: you are withdrawn from matches to come; your governors stay as game accounts without you;\n"
               "• raids and guild: your characters and attendance stay with your player, without your Discord "
               "account;\n"
               "• messages waiting for you are cancelled;\n"
               "• moderation cases about you and Ark bans are kept as a record, without your name.\n"
               "Press the button to confirm.")  # noqa: E501


def forget_receipt(user_id: int) -> str:
    record, report = process(user_id, kind="forget", source="member", actor="member")
    totals = counts(report)
    return "🧾 " + _("Done. %(erased)s record(s) erased, %(anonymised)s anonymised, %(kept)s kept (moderation cases "
                     "and bans, without your name). Reference: %(reference)s (%(when)s UTC). Using Guild Ops again "
                     "starts a new record.") % {
        "erased": totals["erased"], "anonymised": totals["anonymised"], "kept": totals["kept"],
        "reference": record.target_hash[:12], "when": f"{record.processed_at:%Y-%m-%d %H:%M}"}


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="privacy", description="Your data in Guild Ops: what is kept, a copy, erasure")

    @group.command(name="info", description="What Guild Ops stores about you, why and for how long")
    async def info(interaction: discord.Interaction) -> None:
        async def work() -> str:
            return info_text()
        await respond(interaction, work)

    @group.command(name="export", description="A copy of everything Guild Ops stores about you (a private file)")
    async def export(interaction: discord.Interaction) -> None:
        with translation.override(i18n.language_of_locale(getattr(interaction, "locale", None)) or i18n.SOURCE):
            await interaction.response.defer(ephemeral=True, thinking=True)
            try:
                name, body = await db(export_file, interaction.user.id)
                await interaction.edit_original_response(
                    content="📦 " + _("Everything Guild Ops stores about you (what each part means: %(link)s).") % {
                        "link": policy_link()},
                    attachments=[discord.File(io.BytesIO(body), filename=name)])
            except DomainError as exc:
                await _finish(interaction, str(exc))
            except Exception as exc:
                log.exception("/privacy export failed")
                report_exception(exc, where="bot.interaction", interaction="/privacy export")
                await _finish(interaction, _("Something went wrong on our side; please try again later."))

    @group.command(name="forget", description="Erase your data from Guild Ops (asks you to confirm)")
    async def forget(interaction: discord.Interaction) -> None:
        async def work() -> Reply:  # in the member's language (respond)
            view = discord.ui.View(timeout=None)
            view.add_item(discord.ui.Button(label=_("Forget me"), style=discord.ButtonStyle.danger,
                                            custom_id=f"privacy:forget:{interaction.user.id}"))
            return Reply(content=str(FORGET_TEXT), view=view)
        await respond(interaction, work)

    return group


async def _finish(interaction: discord.Interaction, text: str) -> None:
    try:
        await interaction.edit_original_response(content=text[:2000], attachments=[])
    except SEND_ERRORS as exc:
        log.warning("/privacy: the answer could not be delivered (%s)", exc)


async def on_button(interaction: discord.Interaction, custom_id: str) -> None:
    _prefix, action, owner = (custom_id.split(":") + ["", ""])[:3]
    if action != "forget" or owner != str(interaction.user.id):
        await refuse(interaction, gettext_lazy("This button belongs to the member who asked; use `/privacy forget` "
                                               "yourself."))
        return
    language = i18n.language_of_locale(getattr(interaction, "locale", None)) or i18n.SOURCE
    with translation.override(language):
        await _forget(interaction)


async def _forget(interaction: discord.Interaction) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        text = await db(forget_receipt, interaction.user.id)
    except DomainError as exc:
        text = str(exc)
    except Exception as exc:
        log.exception("/privacy forget failed")
        report_exception(exc, where="bot.interaction", interaction="/privacy forget")
        text = _("Something went wrong on our side; nothing was erased. Please try again later.")
    await _finish(interaction, text)


def setup(bot) -> None:
    """Called by ``bot.runner.GuildOpsBot.setup_hook``."""
    bot.tree.add_command(build_group())
    register_buttons(bot, "privacy", on_button)
