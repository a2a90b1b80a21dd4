"""Every slash command (each subcommand), autocomplete, context menu, button family and gateway
listener the apps register must be driven at least once through the real bot process by an
end-to-end test (tests/bot/test_e2e_*.py), with a real payload (issue #10): a new command
without one fails here.

What is registered comes from each app's ``discord_commands.setup()`` run on a
:class:`bot.runner.GuildOpsBot` that never connects (exactly what ``runbot`` loads). What is
exercised is read from the e2e modules' source: the fake gateway's payload builders
(``slash``, ``button``, ``user_command``, ``message_command``, ``dispatch``,
``message_create``) called with literal names.
"""

from __future__ import annotations

import ast
import asyncio
from importlib import import_module
from pathlib import Path

import discord
from discord import app_commands

HERE = Path(__file__).resolve().parent

# discord.py listener name → the gateway event that triggers it (what a test dispatches)
GATEWAY_EVENT_OF = {
    "on_member_join": "GUILD_MEMBER_ADD",
    "on_member_remove": "GUILD_MEMBER_REMOVE",
    "on_member_update": "GUILD_MEMBER_UPDATE",
    "on_message": "MESSAGE_CREATE",
    "on_message_edit": "MESSAGE_UPDATE",
    "on_raw_message_edit": "MESSAGE_UPDATE",
    "on_message_delete": "MESSAGE_DELETE",
    "on_raw_message_delete": "MESSAGE_DELETE",
    "on_raw_reaction_add": "MESSAGE_REACTION_ADD",
    "on_reaction_add": "MESSAGE_REACTION_ADD",
    "on_raw_reaction_remove": "MESSAGE_REACTION_REMOVE",
    "on_guild_role_update": "GUILD_ROLE_UPDATE",
    "on_guild_role_delete": "GUILD_ROLE_DELETE",
    "on_voice_state_update": "VOICE_STATE_UPDATE",
    "on_guild_available": "GUILD_CREATE",
    "on_guild_join": "GUILD_CREATE",
    "on_guild_update": "GUILD_UPDATE",
    "on_guild_channel_create": "CHANNEL_CREATE",
    "on_guild_channel_update": "CHANNEL_UPDATE",
    "on_guild_channel_delete": "CHANNEL_DELETE",
}


def _leaves(command, prefix: str = ""):
    path = f"{prefix} {command.name}".strip()
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from _leaves(child, path)
    else:
        yield path, command


def registered() -> set[tuple[str, ...]]:
    """(kind, name[, option]) for everything the five apps' ``setup()`` register."""
    from bot.runner import GuildOpsBot, discord_command_modules

    found: set[tuple[str, ...]] = set()
    for module_name in discord_command_modules():
        module = import_module(module_name)
        setup = getattr(module, "setup", None)
        if setup is None:
            continue
        bot = GuildOpsBot()
        listeners_before = {name: list(fns) for name, fns in bot.extra_events.items()}
        result = setup(bot)
        if hasattr(result, "__await__"):
            asyncio.run(result)
        for top in bot.tree.get_commands(type=discord.AppCommandType.chat_input):
            for path, command in _leaves(top):
                found.add(("slash", path))
                for parameter in command.parameters:
                    if parameter.autocomplete:
                        found.add(("autocomplete", path, parameter.name))
        for kind, label in ((discord.AppCommandType.user, "user"), (discord.AppCommandType.message, "message")):
            for menu in bot.tree.get_commands(type=kind):
                found.add((label, menu.name))
        for prefix in bot.components.handlers:
            families = getattr(module, "BUTTONS", None)
            if isinstance(families, dict) and families:
                found.update(("button", f"{prefix}:{action}") for action in families)
            else:
                found.add(("button", prefix))
        for name, fns in bot.extra_events.items():
            new = [fn for fn in fns if fn not in listeners_before.get(name, [])]
            if new:
                assert name in GATEWAY_EVENT_OF, f"{module_name} listens to {name}: add its gateway event here"
                found.add(("event", GATEWAY_EVENT_OF[name]))
    return found


def _literal(node: ast.AST) -> str | None:
    """A string argument, or the constant start of an f-string (``f"ark:join:{pk}"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def exercised() -> set[tuple[str, ...]]:
    """What the e2e modules send through the real bot (literal names in the payload builders)."""
    found: set[tuple[str, ...]] = set()
    for path in sorted(HERE.glob("test_e2e_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            if method == "message_create":
                found.add(("event", "MESSAGE_CREATE"))
                continue
            first = _literal(node.args[0]) if node.args else None
            if first is None:
                continue
            if method == "slash":
                found.add(("slash", first))
                for keyword in node.keywords:
                    if keyword.arg == "focused" and _literal(keyword.value):
                        found.add(("autocomplete", first, _literal(keyword.value)))
            elif method in ("button", "modal_submit"):  # custom-id families (register_buttons)
                found.add(("button", ":".join(first.split(":")[:2]).rstrip(":")))
                found.add(("button", first.split(":")[0]))
            elif method in ("user_command", "message_command"):
                found.add((method.removesuffix("_command"), first))
            elif method == "dispatch" and first.isupper():
                found.add(("event", first))
    return found


def test_every_registered_command_button_menu_and_listener_has_an_e2e_test():
    missing = sorted(registered() - exercised())
    assert not missing, "driven by no tests/bot/test_e2e_*.py through the real bot: " + ", ".join(
        " ".join(item) for item in missing)


def test_the_coverage_walk_sees_the_known_kinds():
    """Guard against a walk that finds nothing (and so can never fail)."""
    found = registered()
    kinds = {item[0] for item in found}
    assert kinds >= {"slash", "autocomplete", "user", "message", "button", "event"}, kinds
    assert ("slash", "ark governor register") in found and ("autocomplete", "ark signup", "match_id") in found
    assert ("button", "ark:join_player") in found and ("event", "GUILD_MEMBER_ADD") in found
