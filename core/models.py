"""What an API key may do. The key itself (hashed) is djangorestframework-api-key's
``APIKey``; its scopes live in a one-to-one row here, so the library's table and admin stay
as they are."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey


class Scope(models.TextChoices):
    READ = "read", _("Read (GET)")
    WRITE = "write", _("Write (links, matching, sync triggers)")
    UPLOAD = "upload", _("Upload addon files")


class APIKeyScopes(models.Model):
    """The scopes chosen when the key was created (``create_api_key NAME --scope read ...``).

    A key without this row has no scope: it authenticates but every request gets a 403
    naming the missing scope. The migration that introduced scopes gave every key that existed
    then all three, so they kept working as before."""

    api_key = models.OneToOneField(APIKey, on_delete=models.CASCADE, related_name="scopes",
                                   verbose_name=pgettext_lazy("API key scopes", "API key"),
                                   help_text=_("The key these scopes belong to."))
    read = models.BooleanField(pgettext_lazy("API scope", "read"), default=False, help_text=_("May read (GET) the API."))
    write = models.BooleanField(pgettext_lazy("API scope", "write"), default=False,
                                help_text=_("May link/unlink, run matching and trigger syncs."))
    upload = models.BooleanField(pgettext_lazy("API scope", "upload"), default=False,
                                 help_text=_("May upload addon SavedVariables files."))

    class Meta:
        verbose_name = _("API key scopes")
        verbose_name_plural = _("API key scopes")

    def __str__(self) -> str:
        return f"{self.api_key.name}: {', '.join(self.names()) or gettext('no scope')}"

    def names(self) -> list[str]:
        return [scope for scope in Scope.values if getattr(self, scope)]

    def allows(self, scope: str) -> bool:
        return scope in Scope.values and bool(getattr(self, scope))


class SecretSetting(models.Model):
    """An API key or secret officers set in the admin so it takes effect without a restart.

    Stored encrypted (Fernet, key derived from ``FIELD_ENCRYPTION_KEY``) and never shown back:
    the admin says only when and by whom it was set. The environment variable of the same name,
    when set, wins. Clients read the current value each time they are built, so the next task
    uses a rotated key (``core.secrets.get_secret``)."""

    class Name(models.TextChoices):
        RAID_HELPER_API_KEY = "RAID_HELPER_API_KEY", _("Raid-Helper API key")
        BLIZZARD_CLIENT_ID = "BLIZZARD_CLIENT_ID", _("Blizzard client id")
        BLIZZARD_CLIENT_SECRET = "BLIZZARD_CLIENT_SECRET", _("Blizzard client secret")
        WCL_CLIENT_ID = "WCL_CLIENT_ID", _("Warcraft Logs client id")
        WCL_CLIENT_SECRET = "WCL_CLIENT_SECRET", _("Warcraft Logs client secret")

    name = models.CharField(_("setting"), max_length=40, unique=True, choices=Name.choices,
                            help_text=_("The setting; the environment variable of this name wins when set."))
    ciphertext = models.TextField(_("encrypted value"), help_text=_("The value, Fernet-encrypted. Never displayed."))
    set_at = models.DateTimeField(_("set at"))
    set_by = models.CharField(_("set by"), max_length=150, help_text=_("The officer who set it."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("secret setting")
        verbose_name_plural = _("secret settings")
        permissions = [("manage_secrets", _("Can set API keys and secrets (never shown back)"))]
        constraints = [
            models.CheckConstraint(name="secretsetting_known_name",
                                   condition=models.Q(name__in=["RAID_HELPER_API_KEY", "BLIZZARD_CLIENT_ID",
                                                                "BLIZZARD_CLIENT_SECRET", "WCL_CLIENT_ID",
                                                                "WCL_CLIENT_SECRET"]),
                                   violation_error_message=_("Not a setting that can be set here.")),
        ]

    def __str__(self) -> str:
        return self.get_name_display()


class Heartbeat(models.Model):
    """The last sign of life of one process kind (``core.heartbeats``): the scheduler stamps
    it on its ticks, each worker queue when it runs the heartbeat task beat sent through the
    broker, the bot from its gateway heartbeat. One row per component, overwritten in place;
    ``/healthz/deep``, the dashboard's System panel and ``/metrics`` read it."""

    class Component(models.TextChoices):
        SCHEDULER = "scheduler", _("Scheduler (Celery beat)")
        WORKER = "worker", _("Worker (queue \"celery\")")
        DELIVERY = "delivery", _("Delivery (queue \"discord\")")
        BOT = "bot", _("Discord bot (gateway)")

    component = models.CharField(_("component"), max_length=20, primary_key=True, choices=Component.choices)
    beat_at = models.DateTimeField(_("last heartbeat"), help_text=_("When the component last proved it is alive (UTC)."))
    details = models.JSONField(_("details"), default=dict, blank=True,
                               help_text=_("What the component reported with it (gateway latency, last event…)."))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        constraints = [
            models.CheckConstraint(name="heartbeat_known_component",
                                   condition=models.Q(component__in=["scheduler", "worker", "delivery", "bot"]),
                                   violation_error_message=_("Not a component that sends heartbeats.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_component_display()}: {self.beat_at:%Y-%m-%d %H:%M:%S} UTC"


class PendingJob(models.Model):
    """A Celery task asked for by ``core.jobs.send_on_commit`` that the broker has not taken yet.

    Written in the caller's transaction (so it exists exactly when the caller's change does),
    deleted once the broker took the task. A row that stays (the broker was down) is sent again
    by the periodic sweep (``core.tasks.sweep_pending_jobs_task``): queueing never loses work."""

    task_name = models.CharField(_("task"), max_length=200, help_text=_("The Celery task's registered name."))
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    run_after = models.DateTimeField(_("run after"),
                                     help_text=_("When the task should run (the caller's countdown), UTC."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0,
                                           help_text=_("Failed attempts to hand it to the broker."))
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ("created_at",)
        verbose_name = _("pending job")
        verbose_name_plural = _("pending jobs")
        indexes = [models.Index(fields=["created_at"], name="core_pendingjob_created")]

    def __str__(self) -> str:
        return gettext("%(task)s (waiting since %(since)s UTC, %(attempts)s attempt(s))") % {
            "task": self.task_name, "since": f"{self.created_at:%Y-%m-%d %H:%M}", "attempts": self.attempts}


class PrivacyRequest(models.Model):
    """A member's request to see or erase their data, and how it was honoured (core.privacy).

    Keeps only what proving the request was honoured needs: a keyed hash of the Discord id
    (``core.privacy.requests.target_hash``: the same id always gives the same hash, so an
    officer can find the record for an id, but the record alone does not give the id away),
    the dates, who processed it and the counts of what was erased, anonymised and kept."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Copy of their data")
        FORGET = "forget", _("Erase their data")

    class Source(models.TextChoices):
        MEMBER = "member", _("The member (Discord /privacy)")
        OFFICER = "officer", _("An officer")
        TRUST_SAFETY = "trust_safety", _("Discord Trust & Safety")
        RETENTION = "retention", _("Retention (left the server)")

    class Status(models.TextChoices):
        DONE = "done", pgettext_lazy("privacy request", "Done")
        REFUSED = "refused", pgettext_lazy("privacy request", "Refused")

    kind = models.CharField(pgettext_lazy("privacy request", "kind"), max_length=8, choices=Kind.choices)
    source = models.CharField(pgettext_lazy("privacy request", "received from"), max_length=14,
                              choices=Source.choices)
    target_hash = models.CharField(_("keyed hash of the Discord id"), max_length=64, db_index=True,
                                   help_text=_("HMAC-SHA256 of the Discord id (keyed with SECRET_KEY), never the id."))
    status = models.CharField(pgettext_lazy("privacy request", "status"), max_length=8, choices=Status.choices)
    received_at = models.DateTimeField(_("received at"))
    processed_at = models.DateTimeField(_("processed at"))
    processed_by = models.CharField(_("processed by"), max_length=150,
                                    help_text=_("The officer, 'member' or 'retention'."))
    counts = models.JSONField(_("counts"), default=dict, blank=True,
                              help_text=_("Rows erased, anonymised and kept, per app (numbers only)."))
    refusal = models.CharField(_("refusal"), max_length=500, blank=True, help_text=_("Why it was refused."))

    class Meta:
        ordering = ["-processed_at"]
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        permissions = [("process_privacy_request", _("Can process members' privacy requests"))]
        constraints = [
            models.CheckConstraint(name="privacy_request_refusal_says_why",
                                   condition=~models.Q(status="refused") | ~models.Q(refusal=""),
                                   violation_error_message=_("A refused request says why.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_source_display()}, {self.processed_at:%Y-%m-%d})"


class RetentionRun(models.Model):
    """One run of the retention policy (``core.privacy.retention``): what it deleted or would
    have deleted (a dry run), per kind of data, as of which moment."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateTimeField(_("as of"), help_text=_("The 'now' the cut-offs were computed from."))
    dry_run = models.BooleanField(_("dry run"), default=False)
    triggered_by = models.CharField(_("triggered by"), max_length=150, help_text=_("Schedule or the command's user."))
    report = models.JSONField(_("report"), default=dict, blank=True,
                              help_text=_("Counts per kind of data (numbers only)."))

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        when = f"{self.started_at:%Y-%m-%d %H:%M}"
        if self.dry_run:
            return gettext("Retention dry run %(when)s UTC") % {"when": when}
        return gettext("Retention %(when)s UTC") % {"when": when}


class TaskRunStat(models.Model):
    """How often a Celery task ended one way, and how long those runs took: one row per task
    and outcome, counted by the worker that ran it (``core.metrics.record_task_run``) and served
    by ``/metrics``. Counters only grow; Prometheus computes rates."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", pgettext_lazy("task outcome", "Succeeded")
        FAILURE = "failure", pgettext_lazy("task outcome", "Failed")
        RETRY = "retry", _("Retried later")

    task = models.CharField(_("task"), max_length=200,
                            help_text=_("The task's registered name, e.g. bot.tasks.deliver_outbox_task."))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)
    seconds_total = models.FloatField(_("seconds in total"), default=0.0,
                                      help_text=_("Wall-clock seconds of all these runs together."))
    last_at = models.DateTimeField(_("last run"), help_text=_("When the last such run ended."))

    class Meta:
        verbose_name = _("task run count")
        verbose_name_plural = _("task run counts")
        constraints = [
            models.UniqueConstraint(fields=["task", "outcome"], name="taskrunstat_one_row_per_outcome",
                                    violation_error_message=_("This task's outcome is already counted.")),
            models.CheckConstraint(name="taskrunstat_known_outcome",
                                   condition=models.Q(outcome__in=["success", "failure", "retry"]),
                                   violation_error_message=_("Not a task outcome.")),
        ]

    def __str__(self) -> str:
        return f"{self.task}: {self.runs} × {self.outcome}"


def _language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


class OfficerLanguage(models.Model):
    """The admin language an officer chose ("Language" in the admin's user links). It overrides
    the browser's Accept-Language (``core.i18n.OfficerLanguageMiddleware``); written by
    ``core.services.set_officer_language``."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="language_choice",
                                verbose_name=_("login"))
    language = models.CharField(_("language"), max_length=10, choices=_language_choices)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("officer's language")
        verbose_name_plural = _("officers' languages")

    def __str__(self) -> str:
        return f"{self.user} → {self.get_language_display()}"


class ServerLanguage(models.Model):
    """The language of the bot's public posts on the Discord server (registration and roster
    posts, announcements, reminders in channels). One row; English until officers choose.
    Discord's own ``guild_locale`` is not used: only Community servers can set it, and it is
    often left at the default (discord-api-docs#2313). Written by
    ``core.services.set_server_language``; ``changed_at`` lets a post edited later keep the
    language it was created in unless the setting changed since (``core.i18n.post_language``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    language = models.CharField(_("language"), max_length=10, choices=_language_choices, default="en")
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    changed_by = models.CharField(_("changed by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("server language")
        verbose_name_plural = _("server language")
        constraints = [
            models.CheckConstraint(name="server_language_single_row", condition=models.Q(id=1),
                                   violation_error_message=_("There is one server language setting.")),
        ]

    def __str__(self) -> str:
        return gettext("Server language: %(language)s") % {"language": self.get_language_display()}
