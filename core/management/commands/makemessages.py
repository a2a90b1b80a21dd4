"""``manage.py makemessages``: Django's, plus ``locale_str`` as a gettext keyword, so the slash
commands' names, descriptions and choices (``discord.app_commands.locale_str``) land in the
same catalogues as every other string (one source of truth, read by ``bot.translator``).

The workflow (README, "Languages"): ``manage.py makemessages -l de -l fr -l es -l pt_BR
--ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=docs``, translate, then
``manage.py compilemessages`` (the run and test commands compile too)."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=locale_str"]
