"""No stray user-facing string: every sentence a member or an officer reads is marked for
translation (``gettext``/``_``, ``gettext_lazy``, ``format_lazy``; ``{% translate %}`` in
templates), found by an AST scan of the Python files and a scan of the templates below.

Scope: every app of the project (:data:`APPS`): all its Python files but migrations, its
templates, and the project's ``templates/`` (with ``core``). A new app must join :data:`APPS`
(``test_every_app_of_the_project_is_scanned``).

What counts as user-facing: a string literal (or f-string) with at least two words, outside a
docstring, a gettext call, a logging call, an error report, a comparison or a subscript, and
not a ``name=``/``description=`` of a slash command, option or choice: discord.py wraps those
in ``locale_str`` itself and ``bot/command_strings.py`` carries them to the catalogues
(``tests/i18n/test_discord_localizations.py`` checks that). Single words are not caught (a
label such as "Players" looks like an identifier to a scan); the catalogue tests and the
end-to-end tests cover the ones that matter. :data:`ALLOWED` is the reviewed exception list.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# (file, scope) → why the sentences there stay as they are. A scope is the name of an enclosing
# function or class, or of the module-level constant the text is assigned to.
ALLOWED: dict[tuple[str, str], str] = {
    ("bot/gateway.py", "FATAL_CLOSES"): "the operator's sentences: runbot stops with them in its log (English)",
    ("bot/gateway.py", "stay_connected"): "the reconnect loop's log wording",
    ("bot/interactions.py", "_describe"): "an interaction's label in log lines",
    ("ratmas/discord_commands.py", "MEMBER_HELP"): "the /ratmas description: discord.py's locale_str",
    ("economy/discord_commands.py", "SendBytesModal"):
        "the class keyword title discord.py requires; __init__ sets the member's translated title",
    ("core/admin_site.py", "site_title"): "the product's name (the browser tab), the same in every language",
}

# The apps marked whole: every ``.py`` file of the app (migrations aside) and every template
# under ``<app>/templates/`` is scanned. One block per app, each app's engineer keeps theirs (set
# ``marked``, add reviewed exceptions to ``allowed`` as (file, scope) → why). ``core`` also
# covers the project's ``templates/``.
APPS: dict[str, dict] = {}

# ---- ark ---------------------------------------------------------------------------------------
APPS["ark"] = {"marked": True, "allowed": {
    ("ark/apps.py", "officer_group"): "the name of the officers' auth group: a database row's name, not UI text",
    ("ark/apps.py", "on_outcome"): "a log line (logger.exception on a getLogger() call)",
    ("ark/conf.py", "reminder_types"): "ImproperlyConfigured at start-up: the operator's message (English)",
    ("ark/conf.py", "retention_period"): "ImproperlyConfigured at start-up: the operator's message (English)",
    ("ark/conf.py", "officer_role_id"): "ImproperlyConfigured at start-up: the operator's message (English)",
    ("ark/admin/matches.py", "draft_summary"): "HTML markup around the translated sentences (format_html)",
    ("ark/admin/season.py", "governor_record_html"): "SVG markup around the translated labels (format_html)",
    ("ark/demo.py", "ALLIANCES"): "demo data: alliance names, as officers would type them",
    ("ark/demo.py", "GOVERNORS"): "demo data: governor names",
    ("ark/demo.py", "STATS_CSV"): "demo data: a stats tool's CSV export (its English column names are the format)",
    ("ark/demo.py", "OPEN_NOTES"): "demo data: an officer's match notes, shown as typed",
    ("ark/demo.py", "STARTED_NOTES"): "demo data: an officer's match notes, shown as typed",
    ("ark/demo.py", "DRAFTED_NOTES"): "demo data: an officer's match notes, shown as typed",
    ("ark/demo.py", "BAN_REASON"): "demo data: an officer's ban reason, shown as typed",
    ("ark/management/commands/ark_retention.py", "Command"):
        "the operator's command help and argument check (manage.py, English like Django's own commands)",
    ("ark/privacy.py", "PART"): "the privacy statement's words: core.privacy.statement writes docs/PRIVACY.md in English",
    ("ark/services/lifecycle.py", "__str__"): "the lifecycle task's run summary: the worker's log (English)",
    ("ark/services/nudges.py", "__str__"): "the fill-post task's run summary: the worker's log (English)",
    ("ark/services/retention.py", "__str__"): "the retention run summary: the worker's log and the operator's command",
}}

# ---- raids -------------------------------------------------------------------------------------
APPS["raids"] = {"marked": True, "allowed": {
    ("raids/admin.py", "WARNING_HTML"): "markup around a translated word",
    ("raids/admin.py", "TITLED_HTML"): "markup around translated words",
    ("raids/admin.py", "CSV_DISPOSITION"): "an HTTP header (the CSV's file name)",
    ("raids/apps.py", "officer_group"): "the officers' auth group name, stored in the database",
    ("raids/clients.py", "SCRIPT"): "a Lua script run in Redis",
    ("raids/clients.py", "_retry_after"): "a pattern read in Raid-Helper's answers",
    ("raids/clients.py", "slot_for"): "ValueErrors the callers catch (never shown: they record a translated reason)",
    ("raids/demo.py", "NIGHTS"): "demo data: raid night titles officers would write",
    ("raids/demo.py", "ROSTER"): "demo data: WoW class names as the game data stores them",
    ("raids/demo.py", "_players"): "the demo seeder's console output (operator)",
    ("raids/demo.py", "seed_demo"): "the demo seeder's console output (operator)",
    ("raids/management/commands/raids_autobook.py", "Command"): "a management command's help and console output",
    ("raids/privacy.py", "PART"): "the privacy registry's texts, printed in docs/PRIVACY.md (English)",
    ("raids/roster.py", "ROLES"): "role names as stored in guildsync.Role (keys; the labels beside them are marked)",
    ("raids/services/signups.py", "SLOT_ROLES"): "role names as stored in guildsync.Role (keys)",
    ("raids/services/booking.py", "BookingRun"): "the auto-booking run's summary: the task's log and the command's output",
    ("raids/services/common.py", "NOT_CONFIGURED_SKIP"):
        "a marker stored on held-back sign-ups and matched again when the event is pushed: never translated",
    ("raids/warcraftlogs.py", "REPORTS_QUERY"): "a GraphQL query",
    ("raids/warcraftlogs.py", "REPORT_PLAYERS_QUERY"): "a GraphQL query",
    ("raids/warcraftlogs.py", "FORMAT_PROBLEMS"):
        "schema detail after the translated 'unexpected answer:' (for whoever debugs the answer)",
    ("raids/warcraftlogs.py", "_answer_json"): "schema detail after the translated 'unexpected answer:'",
    ("raids/warcraftlogs.py", "parse_reports"): "schema detail after the translated 'unexpected answer:'",
    ("raids/warcraftlogs.py", "parse_report_players"):
        "schema detail of a report (after the translated 'unexpected answer:' or 'report %(code)s:')",
}}

# ---- ratmas ------------------------------------------------------------------------------------
APPS["ratmas"] = {"marked": True, "allowed": {
    ("ratmas/admin.py", "export_json"): "the download's Content-Disposition header, not a sentence",
    ("ratmas/apps.py", "RatmasConfig"): "the organisers' group name, a name stored in auth_group like a role's",
    ("ratmas/demo.py", "NAMES"): "the demo members' character names",
    ("ratmas/demo.py", "seed_demo"): "the operator's console output of the demo seeding (English, like manage.py's)",
    ("ratmas/management/commands/ratmas_export.py", "Command"):
        "an operator's manage.py command (help and console lines in English, like Django's own commands)",
    ("ratmas/management/commands/ratmas_import.py", "Command"):
        "an operator's manage.py command (help and console lines in English, like Django's own commands)",
    ("ratmas/matching.py", "InfeasibleError"): "the exception's text for logs; services.pairings words it for people",
    ("ratmas/matching.py", "draw"): "a programming error (ValueError), never shown to anyone",
    ("ratmas/models.py", "permissions"): "a permission's name: stored in auth_permission at migrate time, "
                                         "shown as stored (like Django's own 'Can view …')",
    ("ratmas/privacy.py", "PART"): "the privacy statement's text, a document generated in English "
                                   "(core/privacy/statement.py)",
    ("ratmas/services/pairings.py", "_insert_pairings"): "SQL",
}}

# ---- economy -----------------------------------------------------------------------------------
APPS["economy"] = {"marked": True, "allowed": {
    ("economy/demo.py", "SQUADS"): "demo data: the made-up squads' descriptions and welcome texts, officers' own words",
    ("economy/demo.py", "RULES"): "demo data: the made-up auto-moderation rules' names, officers' own words",
    ("economy/demo.py", "_history"): "demo data: made-up members' transfer reasons and officers' corrections",
    ("economy/demo.py", "_cases"): "demo data: made-up moderators' case reasons",
    ("economy/demo.py", "seed_demo"): "the seeding command's console line for the operator (English, like the log)",
    ("economy/privacy.py", "PART"): "the privacy statement's sentences: docs/PRIVACY.md, generated in English",
    ("economy/apps.py", "officer_group"): "the name of the officers' Django group (a database row, like a login)",
    ("economy/automod.py", "_ensure"): "the operator's error when the regex worker process cannot start (logged)",
    ("economy/automod_form.py", "_unknown_type"): "a programming error, never shown (the admin checks the type first)",
    ("economy/services.py", "_TRANSFER_CALL"): "SQL",
}}

# ---- guildsync ---------------------------------------------------------------------------------
APPS["guildsync"] = {"marked": True, "allowed": {
    ("guildsync/api.py", "TAG_IDENTITY"): "OpenAPI schema text (summaries, descriptions, help texts): the API's reference for the companion's developers, English like its field names",
    ("guildsync/api.py", "TAG_SYNC"): "OpenAPI schema text (summaries, descriptions, help texts): the API's reference for the companion's developers, English like its field names",
    ("guildsync/api.py", "TRIGGER_DESCRIPTION"): "OpenAPI schema text (summaries, descriptions, help texts): the API's reference for the companion's developers, English like its field names",
    ("guildsync/api.py", "QUEUED"): "OpenAPI schema text (summaries, descriptions, help texts): the API's reference for the companion's developers, English like its field names",
    ("guildsync/api.py", "UPLOAD_QUEUED"): "OpenAPI schema text (summaries, descriptions, help texts): the API's reference for the companion's developers, English like its field names",
    ("guildsync/api.py", "PlayerListView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "OrphanWowView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "OrphanDiscordView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "MismatchView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "LinkView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "RunMatchingView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "BlizzardTriggerView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "DiscordTriggerView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "AddonUploadView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "SyncLogDetailView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "StatusView"): "@extend_schema's OpenAPI summary and examples (English schema); the view's error texts are marked",
    ("guildsync/api.py", "DiscordUserSerializer"): 'OpenAPI help_text of the fields (English schema); validation errors are marked',
    ("guildsync/api.py", "PlayerSerializer"): 'OpenAPI help_text of the fields (English schema); validation errors are marked',
    ("guildsync/api.py", "MismatchSerializer"): 'OpenAPI help_text of the fields (English schema); validation errors are marked',
    ("guildsync/api.py", "LinkRequestSerializer"): 'OpenAPI help_text of the fields (English schema); validation errors are marked',
    ("guildsync/apps.py", "officer_group"): 'the name of a Django auth group (a database row officers are put in), the same in every language',
    ("guildsync/admin.py", "colour"): 'HTML markup of the colour swatch, no words',
    ("guildsync/models.py", "permissions"): "a permission's name: a database row Django creates at migrate, not translated by Django",
    ("guildsync/clients.py", "BlizzardClient"): 'the Blizzard sync\'s errors for the operator (HTTP paths, statuses, settings), stored in the sync log; officers read them inside the marked "Blizzard API: …"',
    ("guildsync/clients.py", "parse_account_profile"): "the TypeError's text inside the parser, never shown (it becomes the marked BlizzardError)",
    ("guildsync/companion.py", "Companion"): "the companion runs on the officer's PC as a standalone script without Django or the catalogues; its console output is English like its --help",
    ("guildsync/companion.py", "main"): "the companion runs on the officer's PC as a standalone script without Django or the catalogues; its console output is English like its --help",
    ("guildsync/demo.py", "REALM"): "demo data (realm, notes, a team name) and the run command's console line",
    ("guildsync/demo.py", "ALT_STYLES"): "demo data (realm, notes, a team name) and the run command's console line",
    ("guildsync/demo.py", "seed_demo"): "demo data (realm, notes, a team name) and the run command's console line",
    ("guildsync/management/commands/linked_roles_register.py", "Command"): "the operator's console command (help and result line)",
    ("guildsync/management/commands/linked_roles_register.py", "handle"): "the operator's console command (help and result line)",
    ("guildsync/privacy.py", "PART"): "the privacy registry's record of what is held and why, printed into docs/PRIVACY.md (English, for operators)",
    ("guildsync/reference_data.py", "ROLES"): "identifiers matched against Blizzard's API, the addon and Discord role names, stored in rows; people read the labels (role_label, class_label, spec_label), marked below",
    ("guildsync/reference_data.py", "CLASSES"): "identifiers matched against Blizzard's API, the addon and Discord role names, stored in rows; people read the labels (role_label, class_label, spec_label), marked below",
    ("guildsync/reference_data.py", "SPECIALIZATIONS"): "identifiers matched against Blizzard's API, the addon and Discord role names, stored in rows; people read the labels (role_label, class_label, spec_label), marked below",
    ("guildsync/reference_data.py", "GUILD_RANKS"): "identifiers matched against Blizzard's API, the addon and Discord role names, stored in rows; people read the labels (role_label, class_label, spec_label), marked below",
    ("guildsync/reference_data.py", "DEFAULT_RANK_ROLES"): "identifiers matched against Blizzard's API, the addon and Discord role names, stored in rows; people read the labels (role_label, class_label, spec_label), marked below",
    ("guildsync/reference_data.py", "NOTE_PATTERNS"): "identifiers matched against Blizzard's API, the addon and Discord role names, stored in rows; people read the labels (role_label, class_label, spec_label), marked below",
    ("guildsync/services/addon_lua_writer.py", "_lua_scalar"): 'a programming error of the writer (tests, demo data, the benchmark), never shown to people',
    ("guildsync/services/addon_records.py", "ORIGIN_ADDON"): "the origin addon's name and file path, a value inside marked messages",
    ("guildsync/services/addon_upload.py", "parse_upload"): "a crash of the parser process for the operator's error report (the page answers 500)",
    ("guildsync/services/addon_parser.py", "_ENTRY_RE"): 'a regular expression',
    ("guildsync/services/db_sync.py", "_update_rows"): 'SQL',
    ("guildsync/services/linked_roles.py", "values_for"): "the product's name shown by Discord as the connection's platform, the same in every language",
    ("guildsync/tasks.py", "matching_on_arrival_task"): "who started a run, stored in SyncLog.triggered_by like 'schedule' or an officer's id",
}}

# ---- members -----------------------------------------------------------------------------------
APPS["members"] = {"marked": True, "allowed": {
    ("members/apps.py", "officer_group"): "the name of the officers' auth group (data, matched by name)",
    ("members/feeds.py", "render"): "the iCalendar PRODID (an identifier, RFC 5545)",
    ("members/management/commands/calendar_url.py", "help"): "a management command's help (operators, English)",
    ("members/management/commands/calendar_url.py", "handle"): "a management command's console output (operators)",
    ("members/me_views.py", "export"): "an HTTP header (Content-Disposition)",
    ("members/privacy.py", "PART"): "the privacy registry's wording for docs/PRIVACY.md (an English document)",
    ("members/services.py", "_versions"): "SQL",
    ("members/views.py", "_answer"): "HTTP headers (Cache-Control, Content-Disposition)",
    ("members/views.py", "_too_many"): "HTTP headers (the body is marked)",
}}

# ---- core (and the project's templates/) -------------------------------------------------------
APPS["core"] = {"marked": True, "allowed": {
    # markup, SQL, headers: no sentence anyone reads
    ("core/admin_names.py", "directory_label"): "the HTML template around the (translated) hover title",
    ("core/admin_names.py", "member_label"): "the HTML template around the (translated) hover title",
    ("core/admin_names.py", "readable_details"): "the HTML list template of audit details",
    ("core/admin_tools.py", "_changed_successfully"):
        "Django's own msgid, looked up in Django's catalogue (not ours) to recognise its success message",
    ("core/constraints.py", "CompositeForeignKey"): "SQL, and a developer's error in a model definition",
    ("core/privacy/retention.py", "_purge_in_one_statement_per_batch"): "SQL",
    ("core/privacy/sealed.py", "seal_rows"): "SQL",
    ("core/privacy/statement.py", "START"): "the HTML comment marking the generated part of docs/PRIVACY.md",
    ("core/privacy/statement.py", "render"): "a Markdown table row: its words are translated parts",
    ("core/views.py", "metrics"): "the /metrics endpoint: Prometheus and the operator who configures it (English, "
                                  "as Prometheus' own texts), its headers and content types",
    ("core/metrics.py", "_outbox"): "Prometheus metric help texts: for the operator's monitoring, not officers",
    ("core/metrics.py", "_discord"): "Prometheus metric help texts: for the operator's monitoring, not officers",
    ("core/metrics.py", "_tasks"): "Prometheus metric help texts: for the operator's monitoring, not officers",
    ("core/metrics.py", "_clocks"): "Prometheus metric help texts: for the operator's monitoring, not officers",
    ("core/metrics.py", "ServiceCollector"): "Prometheus metric help texts: for the operator's monitoring, not officers",
    # developers' errors (a bug, never an officer's input)
    ("core/heartbeats.py", "record"): "a programming error: an unknown component name in code",
    ("core/privacy/__init__.py", "Holds"): "a programming error in an app's privacy registry entry",
    ("core/reports.py", "RunReport"): "a programming error (adding unrelated reports)",
    # data, the same in every language
    ("core/groups.py", "OFFICER_GROUPS"): "names of auth.Group rows that AppConfig.officer_group matches (data); "
                                          "officers may rename groups in the admin",
    ("core/privacy/redact.py", "FORGOTTEN"): "the stand-in written into stored texts and payloads when a member is "
                                             "forgotten: stored data, matched by the retention and tests",
    ("core/privacy/sealed.py", "UNREADABLE"): "the stand-in value a sealed text reads as without its key; code "
                                              "compares payloads with it (never delivered)",
    # the operator's command line and logs (whoever runs the server; English, like the README)
    ("core/backups.py", "engine"): "backup/restore: the operator's command line (manage.py backup/restore) and "
                                   "the beat task's log; no officer page shows them",
    ("core/backups.py", "BackupReport"): "backup/restore: the operator's command line and the beat task's result",
    ("core/backups.py", "DROP_EVERYTHING_SQL"): "SQL",
    ("core/backups.py", "pg_tool"): "backup/restore: the operator's command line",
    ("core/backups.py", "_run_tool"): "backup/restore: the operator's command line",
    ("core/backups.py", "create_backup"): "backup/restore: the operator's command line",
    ("core/backups.py", "backup_kind"): "backup/restore: the operator's command line",
    ("core/backups.py", "rows_held"): "SQL",
    ("core/backups.py", "restore_backup"): "backup/restore: the operator's command line",
    ("core/backups.py", "_restore_postgresql"): "backup/restore: the operator's command line, and SQL",
    ("core/backups.py", "_restore_sqlite"): "backup/restore: the operator's command line, and SQL",
    ("core/tasks.py", "backup_task"): "a Celery task result, read in the operator's logs",
    ("core/privacy/retention.py", "describe"): "the retention run's summary for the command line and the task log "
                                               "(officers read the run in the admin: translated field names)",
    ("core/management/commands/backup.py", "Command"): "the operator's command line: help and output",
    ("core/management/commands/restore.py", "Command"): "the operator's command line: help and output",
    ("core/management/commands/compilemessages.py", "Command"): "the developer's command line: help and output",
    ("core/management/commands/makemessages.py", "give_project_header"): "the catalogues' PO header (data)",
    ("core/management/commands/create_api_key.py", "Command"): "the operator's command line: help and output",
    ("core/management/commands/ensure_admin.py", "Command"): "the operator's command line: help and output",
    ("core/management/commands/privacy_retention.py", "Command"): "the operator's command line: help and output",
    ("core/management/commands/privacy_seal.py", "Command"): "the operator's command line: help and output",
    ("core/management/commands/privacy_statement.py", "Command"):
        "the operator's command line (the statement it prints is translated: --language)",
    ("core/management/commands/seed_demo.py", "Command"): "the developer's command line: help and output",
    # the API reference: for the developers of API clients
    ("core/schema.py", "ERROR"): "OpenAPI descriptions: the API reference for developers of API clients, "
                                 "English like the API's field and path names (the error *bodies* are translated)",
    ("core/schema.py", "ERROR_SCHEMA"): "OpenAPI descriptions: the API reference for developers (see ERROR)",
    ("core/schema.py", "ERROR_DESCRIPTIONS"): "OpenAPI descriptions: the API reference for developers (see ERROR)",
    ("core/schema.py", "document_link_targets"): "OpenAPI descriptions: the API reference for developers (see ERROR)",
    ("core/schema.py", "APIKeyAuthenticationScheme"): "OpenAPI descriptions: the API reference for developers "
                                                      "(see ERROR)",
}}

# ---- bot ---------------------------------------------------------------------------------------
BOT_STORED = ("a failure reason stored in last_error in English (the worker's words, grepped by operators); "
              "bot.failures renders it in the officer's language")
APPS["bot"] = {"marked": True, "allowed": {
    ("bot/clients.py", "PERMANENT_CODES"): "Discord's own error messages (English, as its API answers); bot.failures "
                                           "translates them for the outbox admin",
    ("bot/clients.py", "SCRIPT"): "a Lua script for Redis",
    ("bot/guard.py", "_RECORD"): "a Lua script for Redis",
    ("bot/guard.py", "_WINDOW"): "a Lua script for Redis",
    ("bot/clients.py", "classify"): BOT_STORED,
    ("bot/clients.py", "__aenter__"): BOT_STORED,
    ("bot/clients.py", "failure_from_answer"): BOT_STORED,
    ("bot/clients.py", "acquire"): BOT_STORED,
    ("bot/clients.py", "call"): BOT_STORED,
    ("bot/delivery.py", "ABANDONED"): BOT_STORED,
    ("bot/delivery.py", "_send"): BOT_STORED,
    ("bot/delivery.py", "check"): BOT_STORED,
    ("bot/delivery.py", "deliver_one"): BOT_STORED,
    ("bot/delivery.py", "record_failure"): BOT_STORED,
    ("bot/scheduled_events.py", "deliver"): BOT_STORED,
    ("bot/outbox.py", "cancel_event"): BOT_STORED + " (a withdrawal's reason)",
    ("bot/privacy.py", "forget"): BOT_STORED + " (a withdrawal's reason)",
    ("bot/delivery.py", "__str__"): "a delivery run's summary for the worker's log",
    ("bot/delivery.py", "deliver_due"): "the run report's errors: the worker's log (operators, English)",
    ("bot/failures.py", "PATTERNS"): "regular expressions matching the stored English reasons",
    ("bot/outbox.py", "validate_message_body"): "OutboxError: a programming error of the calling service "
                                                "(developers, English), never shown to a member or officer",
    ("bot/outbox.py", "enqueue"): "OutboxError: a programming error (developers, English)",
    ("bot/outbox.py", "timeout_member"): "OutboxError: a programming error (developers, English)",
    ("bot/outbox.py", "withdraw_pending"): "OutboxError: a programming error (developers, English)",
    ("bot/outbox.py", "_fit"): "OutboxError: a programming error (developers, English)",
    ("bot/outbox.py", "event_body"): "OutboxError: a programming error (developers, English)",
    ("bot/outbox.py", "mirror_event"): "OutboxError: a programming error (developers, English)",
    ("bot/demo.py", "STATES"): "demo data (rows as a real server would hold them)",
    ("bot/demo.py", "seed_demo"): "demo data and the run script's console line",
    ("bot/management/commands/discord_strings.py", "help"): "a management command's help (operators, English)",
    ("bot/management/commands/runbot.py", "help"): "a management command's help (operators, English)",
    ("bot/management/commands/runbot.py", "handle"): "runbot's console output (operators, English)",
    ("bot/management/commands/runbot.py", "_run"): "runbot's console output (operators, English)",
    ("bot/privacy.py", "PART"): "the privacy registry's wording for docs/PRIVACY.md (an English document)",
    ("bot/privacy.py", "REDACTED"): "the stored placeholder that replaces an erased message's text (data)",
    ("bot/privacy.py", "export"): "a note in the data export's JSON (English keys and notes, machine-readable)",
    ("bot/translator.py", "name_problem"): "the localization check's findings: warnings in runbot's log and test "
                                          "failures (developers, English)",
    ("bot/translator.py", "lines"): "the generated Python source of bot/command_strings.py",
    ("bot/translator.py", "rule"): "the localization check's findings (developers, English)",
    ("bot/translator.py", "tree_strings"): "where a command string comes from, for the catalogue's translators",
    ("bot/translator.py", "NAME_CONTEXT"): "a catalogue context (msgctxt) for translators, never shown",
    ("bot/vitals.py", "ACK_SECONDS"): "Prometheus metric help (/metrics, operators)",
    ("bot/vitals.py", "ANSWER_SECONDS"): "Prometheus metric help (/metrics, operators)",
    ("bot/vitals.py", "latency"): "Prometheus metric help (/metrics, operators)",
    ("bot/vitals.py", "skipped"): "Prometheus metric help (/metrics, operators)",
    ("bot/vitals.py", "handled"): "Prometheus metric help (/metrics, operators)",
    ("bot/vitals.py", "collect"): "Prometheus metric help (/metrics, operators)",
}}


def app_python_files(app: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def app_templates(app: str) -> list[str]:
    folder = ROOT / ("templates" if app == "core" else f"{app}/templates")
    extra = [] if app != "core" else list((ROOT / "core").rglob("*.html"))
    return sorted(str(p.relative_to(ROOT)) for p in [*folder.rglob("*.html"), *extra])


GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy",
           "gettext_noop", "pgettext_noop", "format_lazy"}
QUIET_CALLS = {"describe", "rename", "choices", "report_exception", "Route", "getattr", "setattr", "hasattr", "split", "rpartition", "partition",
               "startswith", "endswith", "replace", "strftime", "strptime", "fromisoformat", "warn"}
LOGGERS = {"log", "logger", "logging"}
NOT_SHOWN_KEYWORDS = {"name", "description", "custom_id", "topic", "dedupe_key", "where", "interaction", "event",
                      "thread_name_prefix", "filename", "reason", "help"}
PHRASE = re.compile(r"[A-Za-z]{2,}[,.;:!?]?\s+[A-Za-z]{2,}")
PLACEHOLDER = re.compile(r"{[^{}]*}")


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _is_logging(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in LOGGERS


def _text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                       for v in node.values if isinstance(v, ast.Constant | ast.FormattedValue))
    return ""


def _scopes(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> set[str]:
    names = set()
    for parent in _ancestors(node, parents):
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(parent.name)
        elif isinstance(parent, ast.Assign):
            names |= {t.id for t in parent.targets if isinstance(t, ast.Name)}
    return names


def strays(source: str, only: set[str] | None = None, allowed: set[str] = frozenset()) -> list[str]:
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found = []
    for node in ast.walk(tree):
        text = _text(node)
        if not text or not PHRASE.search(PLACEHOLDER.sub(" ", text)) or isinstance(parents.get(node), ast.JoinedStr):
            continue
        parent, child, quiet = parents.get(node), node, False
        if isinstance(parent, ast.Expr):
            continue  # a docstring or a bare expression
        while parent is not None:
            if isinstance(parent, ast.Call) and (_call_name(parent) in GETTEXT | QUIET_CALLS or _is_logging(parent)) or isinstance(parent, ast.keyword) and parent.arg in NOT_SHOWN_KEYWORDS or isinstance(parent, ast.Compare | ast.Subscript | ast.Assert) or (
                    isinstance(parent, ast.Dict) and child in parent.keys):
                quiet = True
            elif isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and child in parent.decorator_list:
                quiet = True  # @app_commands.describe(...), @...command(...): discord.py's locale_str
            elif isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and only is not None \
                    and parent.name not in only:
                quiet = True
            if quiet:
                break
            child, parent = parent, parents.get(parent)
        if only is not None and not any(isinstance(p, ast.FunctionDef) and p.name in only
                                        for p in _ancestors(node, parents)):
            continue
        if not quiet and not (_scopes(node, parents) & allowed):
            found.append(text)
    return found


def _ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]):
    while node in parents:
        node = parents[node]
        yield node


def test_no_unmarked_sentence_in_the_marked_python_files():
    problems = []
    everything = {**ALLOWED}
    for app in APPS.values():
        everything.update(app["allowed"])
    files = {f for name, app in APPS.items() if app["marked"] for f in app_python_files(name)}
    for name in sorted(files):
        allowed = {scope for (file, scope) in everything if file == name}
        problems += [f"{name}: {text[:90]!r}" for text in strays((ROOT / name).read_text(encoding="utf-8"),
                                                                  allowed=allowed)]
    assert not problems, "unmarked user-facing strings (wrap them in gettext):\n" + "\n".join(problems)


TAGS = re.compile(r"<style.*?</style>|<script.*?</script>|{%\s*block bodyclass\s*%}.*?{%\s*endblock\s*%}"
                  r"|{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}|{%.*?%}|{{.*?}}|{#.*?#}|<[^>]*>", re.S)


def template_strays(text: str) -> list[str]:
    return [line.strip() for line in TAGS.sub("\n", text).splitlines()
            if re.search(r"[A-Za-z]{2,}", line) and line.strip() not in ("&rsaquo;", "/")]


def test_no_unmarked_text_in_the_marked_templates():
    files = {f for name, app in APPS.items() if app["marked"] for f in app_templates(name)}
    problems = {name: template_strays((ROOT / name).read_text(encoding="utf-8")) for name in sorted(files)}
    problems = {name: found for name, found in problems.items() if found}
    assert not any(problems.values()), problems


def test_every_app_of_the_project_is_scanned():
    """Every installed app that lives in this repository is in :data:`APPS`, marked whole; the
    project's templates are scanned with ``core``."""
    from django.apps import apps

    ours = {Path(config.path).resolve().relative_to(ROOT.resolve()).parts[0] for config in apps.get_app_configs()
            if Path(config.path).resolve().is_relative_to(ROOT.resolve()) and "site-packages" not in config.path}
    assert ours <= set(APPS), ours - set(APPS)
    assert all(app["marked"] for app in APPS.values()), [name for name, app in APPS.items() if not app["marked"]]
    assert "templates/admin/base_site.html" in app_templates("core")


def test_the_scan_finds_what_it_should():
    """The scan itself: an unmarked reply is caught; a marked one, a log line, a docstring and a
    command description are not."""
    source = '''
def f(x):
    """A docstring with words."""
    log.info("a log line with words %s", x)
    ok = _("Marked words here.")
    @group.command(name="sign", description="Sign up for a match")
    async def g(): pass
    return f"You joined {x} just now."
'''
    assert strays(source) == ["You joined {x} just now."]
    assert template_strays("<p>{% translate 'Fine words' %}</p>\n<p>Stray words</p>") == ["Stray words"]
