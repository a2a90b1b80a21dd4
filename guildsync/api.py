"""The guild-sync REST API (DRF): identity views for officers' tools, sync triggers, and the
addon upload the companion uploader calls. Views are thin: reads are querysets with their
joins declared up front (no N+1), writes call services.

Auth (core.permissions): an API key needs the view's scope (``required_scope``: read for
GETs, write, upload); a staff session needs the Django permissions the view lists
(``required_permissions``), which the "Guild officers" group holds. A missing or wrong key is
a 401, a missing scope or permission a 403. Errors are ``{"detail": ...}`` (core.errors).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.models import APIKey

from core import i18n
from core.errors import DomainError
from core.models import Scope
from core.permissions import key_scopes
from core.schema import ERROR
from core.serializers import MAX_BIGINT, SnowflakeField
from guildsync.models import AuditIssue, DiscordUser, Player, PlayerCharacter, SyncLock, SyncLog, WowCharacter
from guildsync.services import identity_links, integrity_checker, pipeline

TAG_IDENTITY = ["guildsync: identity"]
TAG_SYNC = ["guildsync: sync"]


def actor(request: Request) -> str:
    """Who the audit trail (IdentityChange, SyncLog.triggered_by) names for this request."""
    if isinstance(request.auth, APIKey):
        return f"api-key:{request.auth.name}"
    return getattr(request.user, "username", "") or "api"


# the session permissions of the views (the "Guild officers" group holds them all)
READ_IDENTITY = ["guildsync.view_player", "guildsync.view_playercharacter", "guildsync.view_wowcharacter",
                 "guildsync.view_discorduser"]
WRITE_LINKS = ["guildsync.add_playercharacter", "guildsync.change_playercharacter", "guildsync.add_player"]


def domain_error(exc: DomainError, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": str(exc)}, status=code)


# -- serializers --------------------------------------------------------------------------
class DiscordUserSerializer(serializers.ModelSerializer):
    discord_id = SnowflakeField(read_only=True, help_text="Snowflake, as a string.")

    class Meta:
        model = DiscordUser
        fields = ["id", "discord_id", "username", "display_name", "highest_guild_role", "all_guild_roles",
                  "joined_server_at", "is_present"]


class CharacterSerializer(serializers.ModelSerializer):
    wow_class = serializers.CharField(source="wow_class.name", default=None, read_only=True, allow_null=True)
    active_spec = serializers.CharField(source="active_spec.name", default=None, read_only=True, allow_null=True)
    guild_rank = serializers.CharField(source="guild_rank.name", default=None, read_only=True, allow_null=True)

    class Meta:
        model = WowCharacter
        fields = ["id", "character_name", "realm_slug", "realm_name", "wow_class", "active_spec", "level",
                  "item_level", "guild_rank", "addon_note", "addon_officer_note", "last_api_sync", "removed_at"]


class LinkedCharacterSerializer(serializers.ModelSerializer):
    link_id = serializers.IntegerField(source="pk", read_only=True)
    character = CharacterSerializer(read_only=True)

    class Meta:
        model = PlayerCharacter
        fields = ["link_id", "link_source", "confidence", "created_at", "character"]


class PlayerSerializer(serializers.ModelSerializer):
    discord_user = DiscordUserSerializer(read_only=True, allow_null=True, help_text="None for a player without "
                                                                                    "a Discord account.")
    guild_rank = serializers.CharField(source="guild_rank.name", default=None, read_only=True, allow_null=True)
    characters = LinkedCharacterSerializer(source="character_links", many=True, read_only=True)

    class Meta:
        model = Player
        fields = ["id", "display_name", "discord_user", "main_character_id", "guild_rank", "is_active",
                  "characters"]


class MismatchSerializer(serializers.Serializer):
    player_id = serializers.IntegerField()
    discord_user_id = serializers.IntegerField()
    discord_id = serializers.CharField(source="details.discord_id", help_text="Snowflake, as a string.")
    summary = serializers.CharField()
    ingame_rank = serializers.CharField(source="details.ingame_rank")
    expected_role = serializers.CharField(source="details.expected_role")
    discord_role = serializers.CharField(source="details.discord_role", allow_blank=True)


LINK_TARGETS = ("player_id", "discord_user_id", "discord_id")


class LinkRequestSerializer(serializers.Serializer):
    """Exactly one of ``player_id`` / ``discord_user_id`` / ``discord_id``: enforced here and
    stated in the schema as a ``oneOf`` (core.schema.document_link_targets)."""

    character_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    player_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, required=False)
    discord_user_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, required=False,
                                               help_text="DiscordUser.id (not the snowflake).")
    discord_id = SnowflakeField(required=False, help_text="The Discord user's snowflake, as a string.")

    def validate(self, attrs: dict) -> dict:
        given = [name for name in LINK_TARGETS if name in attrs]
        if len(given) != 1:
            if given:
                raise serializers.ValidationError(
                    _("Give either a player or a Discord user: exactly one of player_id, discord_user_id or "
                      "discord_id (got %(given)s).") % {"given": ", ".join(given)})
            raise serializers.ValidationError(_("Give either a player or a Discord user: exactly one of player_id, "
                                                "discord_user_id or discord_id."))
        return attrs


class LinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlayerCharacter
        fields = ["id", "player_id", "character_id", "link_source", "confidence", "created_at"]


class PipelineResultSerializer(serializers.Serializer):
    source = serializers.CharField()
    status = serializers.CharField()
    sync_log_id = serializers.IntegerField(allow_null=True)
    stats = serializers.DictField()
    steps = serializers.ListField(child=serializers.CharField())
    report_messages = serializers.IntegerField()


class SyncLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncLog
        fields = ["id", "source", "status", "started_at", "finished_at", "stats", "error", "triggered_by"]


QUEUED = inline_serializer("GuildSyncQueued", {
    "task_id": serializers.CharField(allow_null=True, help_text="The queued run's task id; null when a scheduled "
                                                                "run is in progress."),
    "status": serializers.ChoiceField(["queued", "coalesced"], help_text="coalesced: the same job was already "
                                                                         "queued or running; no new run.")})
PARSE_ERROR = inline_serializer("AddonParseError", {"detail": serializers.CharField(),
                                                    "line": serializers.IntegerField(allow_null=True),
                                                    "column": serializers.IntegerField(allow_null=True)})


# -- identity -------------------------------------------------------------------------------
def _character_qs():
    return WowCharacter.objects.select_related("wow_class", "active_spec", "guild_rank")


@extend_schema(tags=TAG_IDENTITY, summary="Players with their Discord user and characters")
class PlayerListView(generics.ListAPIView):
    serializer_class = PlayerSerializer
    required_permissions = {"GET": READ_IDENTITY}

    def get_queryset(self) -> QuerySet:
        links = PlayerCharacter.objects.select_related("character__wow_class", "character__active_spec",
                                                       "character__guild_rank").order_by("character__character_name")
        return (Player.objects.select_related("discord_user", "guild_rank")
                .prefetch_related(Prefetch("character_links", queryset=links)).order_by("display_name", "pk"))


@extend_schema(tags=TAG_IDENTITY, summary="Characters in the guild that belong to no player")
class OrphanWowView(generics.ListAPIView):
    serializer_class = CharacterSerializer
    required_permissions = {"GET": ["guildsync.view_wowcharacter"]}

    def get_queryset(self) -> QuerySet:
        return _character_qs().filter(removed_at__isnull=True, player_link__isnull=True).order_by(
            "character_name", "pk")


@extend_schema(tags=TAG_IDENTITY, summary="Discord users with a guild role but no player")
class OrphanDiscordView(generics.ListAPIView):
    serializer_class = DiscordUserSerializer
    # An identity report, not the member picker: Ark officers may view Discord users (to pick
    # them on a ban) without seeing who is unlinked, so the report asks for the identity reads.
    required_permissions = {"GET": READ_IDENTITY}

    def get_queryset(self) -> QuerySet:
        return DiscordUser.objects.filter(is_present=True, player__isnull=True).exclude(
            highest_guild_role="").order_by("username", "pk")


@extend_schema(tags=TAG_IDENTITY, summary="Players whose in-game rank and Discord role disagree (live)",
               responses=MismatchSerializer(many=True))
class MismatchView(APIView):
    required_permissions = {"GET": READ_IDENTITY}

    def get(self, request: Request) -> Response:
        return Response(MismatchSerializer(integrity_checker.find_rank_mismatches(), many=True).data)


@extend_schema(tags=TAG_IDENTITY, summary="Link a character to a player or to a Discord user's player",
               description="Officer's manual link: matching never changes it. A character linked elsewhere "
                           "moves. Give one of player_id, discord_user_id or discord_id (the snowflake, as a "
                           "string, or as a JSON integer); for a Discord user a player is created when the user has none. 404 when the "
                           "character, player or Discord user does not exist.",
               request=LinkRequestSerializer, responses={201: LinkSerializer, 400: ERROR, 404: ERROR},
               examples=[OpenApiExample("to a player", request_only=True, value={"character_id": 1, "player_id": 1}),
                         OpenApiExample("to a Discord user by snowflake", request_only=True,
                                        value={"character_id": 2, "discord_id": "80351110224678912"})])
class LinkView(APIView):
    required_permissions = {"POST": WRITE_LINKS}

    def post(self, request: Request) -> Response:
        data = LinkRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = identity_links.link_character(
            data.validated_data["character_id"], player_id=data.validated_data.get("player_id"),
            discord_user_id=data.validated_data.get("discord_user_id"),
            discord_id=data.validated_data.get("discord_id"), actor=actor(request))
        return Response(LinkSerializer(link).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG_IDENTITY, summary="Remove a character's link", responses={204: None, 404: ERROR},
               parameters=[OpenApiParameter("link_id", {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT},
                                            OpenApiParameter.PATH)])
class UnlinkView(APIView):
    required_permissions = {"DELETE": ["guildsync.delete_playercharacter"]}

    def delete(self, request: Request, link_id: int) -> Response:
        if not 0 < link_id <= MAX_BIGINT:  # the route takes any digits; PostgreSQL's bigint does not
            raise NotFound(_("Link #%(id)s does not exist.") % {"id": link_id})
        identity_links.unlink_character(link_id, actor=actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=TAG_IDENTITY, summary="Run identity matching now", request=None,
               responses={200: inline_serializer("MatchingRun", {"sync_log_id": serializers.IntegerField(),
                                                                 "result": serializers.DictField()})})
class RunMatchingView(APIView):
    required_permissions = {"POST": WRITE_LINKS}

    def post(self, request: Request) -> Response:
        log, result = pipeline.run_matching_logged(actor(request))
        return Response({"sync_log_id": log.pk, "result": result.as_dict()})


# -- sync -------------------------------------------------------------------------------
class _TriggerView(APIView):
    """Queue a run, or join the one already queued or running (``pipeline.trigger_run``);
    throttled per key or user (``API_THROTTLE_RATES["sync-trigger"]``)."""

    job = ""
    throttle_scope = "sync-trigger"

    def post(self, request: Request) -> Response:
        try:
            trigger = pipeline.trigger_run(self.job, actor(request))
        except pipeline.TaskQueueUnavailableError as exc:
            return domain_error(exc, status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"task_id": trigger.task_id, "status": "queued" if trigger.queued else "coalesced"},
                        status=status.HTTP_202_ACCEPTED)


TRIGGER_DESCRIPTION = ("While the same job is queued or running, a trigger queues nothing and answers "
                       "`coalesced` with the queued run's task id. Throttled per API key or user (429).")


@extend_schema(tags=TAG_SYNC, summary="Queue the Blizzard pipeline (sync → match → check → report)",
               description=TRIGGER_DESCRIPTION, request=None, responses={202: QUEUED, 429: ERROR, 503: ERROR})
class BlizzardTriggerView(_TriggerView):
    job = "blizzard"
    required_permissions = {"POST": ["guildsync.add_synclog", "guildsync.change_wowcharacter"]}


@extend_schema(tags=TAG_SYNC, summary="Queue a full Discord member sync", description=TRIGGER_DESCRIPTION,
               request=None, responses={202: QUEUED, 429: ERROR, 503: ERROR})
class DiscordTriggerView(_TriggerView):
    job = "discord"
    required_permissions = {"POST": ["guildsync.add_synclog", "guildsync.change_discorduser"]}


MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers, other small fields


class RawBodyParser(BaseParser):
    """Any non-multipart body is the SavedVariables file itself (read in the view)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        return {}


UPLOAD_QUEUED = inline_serializer("AddonUploadQueued", {
    "status": serializers.CharField(help_text="'queued'"), "task_id": serializers.CharField(),
    "sync_log_id": serializers.IntegerField(), "status_url": serializers.CharField(
        help_text="GET it until its status is no longer 'running'.")})


# What Swagger's "Try it out" shows: a file picker for ``file`` (a binary string in multipart).
ADDON_UPLOAD_FORM = {"type": "object", "required": ["file"], "properties": {"file": {
    "type": "string", "format": "binary", "description": "WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua"}}}


@extend_schema(
    tags=TAG_SYNC, summary="Upload the addon's SavedVariables file (GuildSync.lua)",
    description="Send the file as multipart (`file`) or as the raw request body. It is parsed (never "
                "executed) in a process bounded by ADDON_PARSE_CPU_SECONDS / ADDON_PARSE_MAX_MEMORY_MB. "
                "A file up to ADDON_UPLOAD_SYNC_MAX_BYTES is processed at once: 200 with what was done "
                "(notes, ranks and classes written, then matching, the integrity check and the report). A "
                "bigger one is queued for the worker: 202 with `status_url` (the run's SyncLog). Errors: "
                "400 with the parser's line and column or the reason the export cannot be used; 413 over "
                "ADDON_UPLOAD_MAX_BYTES, ADDON_UPLOAD_MAX_TABLES or ADDON_UPLOAD_MAX_MEMBERS; 422 when "
                "reading it needs more than its CPU/memory budget. Nothing is written on any error.",
    request={"multipart/form-data": ADDON_UPLOAD_FORM,
             "text/plain": OpenApiTypes.BINARY, "application/octet-stream": OpenApiTypes.BINARY},
    responses={200: PipelineResultSerializer, 202: UPLOAD_QUEUED, 400: PARSE_ERROR, 413: ERROR, 422: ERROR,
               503: ERROR},
    examples=[OpenApiExample("parse error", response_only=True, status_codes=["400"],
                             value={"detail": "line 3, column 7: expected '='", "line": 3, "column": 7})],
)
class AddonUploadView(APIView):
    """Thin: reads the bytes (refusing an oversized body before reading it) and hands them to
    ``services.addon_upload.submit_upload``, the same service as the admin's upload page."""

    parser_classes = [MultiPartParser, RawBodyParser]
    required_scope = Scope.UPLOAD
    required_permissions = {"POST": ["guildsync.add_synclog", "guildsync.change_wowcharacter"]}

    def post(self, request: Request) -> Response:
        from guildsync.services.addon_processor import SavedVariablesError, UploadTooLargeError
        from guildsync.services.addon_upload import (
            ParseBudgetExceededError,
            QueueUnavailableError,
            submit_upload,
        )

        limit = settings.ADDON_UPLOAD_MAX_BYTES
        too_large = Response({"detail": _("The file is over the %(limit)s-byte limit (ADDON_UPLOAD_MAX_BYTES).")
                                        % {"limit": i18n.number(limit)}},
                             status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        multipart = request.content_type.startswith("multipart/form-data")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # refuse before reading: a multipart body adds its boundaries and headers to the file
        if length > limit + (MULTIPART_OVERHEAD if multipart else 0):
            return too_large
        if multipart:
            upload = request.FILES.get("file")
            if upload is None:
                return Response({"detail": _("Send the SavedVariables file in the 'file' field."), "line": None,
                                 "column": None}, status=status.HTTP_400_BAD_REQUEST)
            if upload.size > limit:
                return too_large
            data = upload.read()
        else:
            try:
                data = request._request.body
            except RequestDataTooBig:  # DATA_UPLOAD_MAX_MEMORY_SIZE below ADDON_UPLOAD_MAX_BYTES
                return too_large
        try:
            outcome = submit_upload(data, triggered_by=actor(request),
                                    api_key_id=request.auth.pk if isinstance(request.auth, APIKey) else None)
        except UploadTooLargeError as exc:
            return domain_error(exc, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except ParseBudgetExceededError as exc:
            return domain_error(exc, status.HTTP_422_UNPROCESSABLE_ENTITY)
        except SavedVariablesError as exc:
            return Response({"detail": str(exc), "line": exc.line, "column": exc.column},
                            status=status.HTTP_400_BAD_REQUEST)
        except QueueUnavailableError as exc:
            return domain_error(exc, status.HTTP_503_SERVICE_UNAVAILABLE)
        except DomainError as exc:
            return Response({"detail": str(exc), "line": None, "column": None}, status=status.HTTP_400_BAD_REQUEST)
        if outcome.status == "queued":
            url = request.build_absolute_uri(reverse("guildsync-sync-log", args=[outcome.sync_log_id]))
            return Response({"status": "queued", "task_id": outcome.task_id, "sync_log_id": outcome.sync_log_id,
                             "status_url": url}, status=status.HTTP_202_ACCEPTED, headers={"Location": url})
        return Response(PipelineResultSerializer(outcome.result).data, status=status.HTTP_200_OK)


@extend_schema(tags=TAG_SYNC, summary="One sync run (e.g. a queued upload's status_url)",
               description="API keys with the read scope see every run; a key with only the upload scope sees "
                           "the runs of its own uploads (another run answers 404, as one that does not exist).",
               responses={200: SyncLogSerializer, 404: ERROR})
class SyncLogDetailView(generics.RetrieveAPIView):
    required_scope = {"GET": (Scope.READ, Scope.UPLOAD)}
    required_permissions = {"GET": ["guildsync.view_synclog"]}
    queryset = SyncLog.objects.all()
    serializer_class = SyncLogSerializer
    lookup_url_kwarg = "log_id"

    def get_queryset(self):
        logs = super().get_queryset()
        key = self.request.auth
        if isinstance(key, APIKey):
            scopes = key_scopes(key)
            if scopes is None or not scopes.allows(Scope.READ):  # an upload key: its own uploads only
                return logs.filter(api_key=key)
        return logs


@extend_schema(tags=TAG_SYNC, summary="Last run per source, counts and open issues",
               responses=inline_serializer("GuildSyncStatus", {
                   "last_runs": serializers.DictField(child=SyncLogSerializer(allow_null=True)),
                   "running": serializers.ListField(child=serializers.CharField()),
                   "counts": serializers.DictField(child=serializers.IntegerField()),
                   "open_issues": serializers.DictField(child=serializers.IntegerField())}))
class StatusView(APIView):
    required_permissions = {"GET": ["guildsync.view_synclog"]}

    def get(self, request: Request) -> Response:
        last = {source: SyncLog.objects.filter(source=source).order_by("-started_at", "-pk").first()
                for source in SyncLog.Source.values}
        issues = dict(AuditIssue.objects.filter(resolved_at__isnull=True).values("issue_type").annotate(
            n=Count("pk")).values_list("issue_type", "n"))
        return Response({
            "last_runs": {k: SyncLogSerializer(v).data if v else None for k, v in last.items()},
            "running": list(SyncLock.objects.filter(locked_until__gt=timezone.now()).values_list("name", flat=True)),
            "counts": {
                "characters": WowCharacter.objects.filter(removed_at__isnull=True).count(),
                "players": Player.objects.count(),
                "discord_users_present": DiscordUser.objects.filter(is_present=True).count(),
                "links": PlayerCharacter.objects.count(),
            },
            "open_issues": issues,
        })
