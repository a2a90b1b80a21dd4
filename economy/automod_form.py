"""The auto-moderation rule form of the admin: one form per rule type, with the fields that
type needs (keywords, a pattern, a message count and window...), each validated with a plain
message, instead of a raw JSON box. The rule's ``config`` is built from them and checked by
``automod.validate_rule`` (the same rules the bot applies); exempt roles and channels are
picked by name from the member directory (ids the directory does not know stay listed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.labels import plain_label
from economy import automod
from economy.models import AutoModRule
from guildsync.models import DiscordServer

# rule type → (form field, config key) pairs it needs; "invites" needs none
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "keyword": ("keywords",),
    "regex": ("pattern",),
    "spam": ("messages", "seconds"),
    "mention_spam": ("max_mentions",),
    "links": ("allowed_domains",),
    "invites": (),
    "caps": ("min_length", "max_percent"),
}
ALL_TYPE_FIELDS = tuple(dict.fromkeys(f for fields in TYPE_FIELDS.values() for f in fields))
WHAT_IT_CATCHES = {
    "keyword": gettext_lazy("Messages containing one of the words or phrases below."),
    "regex": gettext_lazy("Messages matching a regular expression (for officers who know them; keywords are "
                          "simpler)."),
    "spam": gettext_lazy("A member sending many messages in a short time."),
    "mention_spam": gettext_lazy("A message mentioning too many members."),
    "links": gettext_lazy("Links to websites other than the allowed ones."),
    "invites": gettext_lazy("Invitations to other Discord servers (discord.gg/…). Nothing to set."),
    "caps": gettext_lazy("Long messages written mostly in capitals."),
}


def _unknown_type(rule_type: Any) -> ValueError:
    """A programming error (the admin checks the type before building the form), never shown."""
    return ValueError(f"unknown rule type {rule_type!r}")


def _lines(text: str) -> list[str]:
    return [part.strip() for line in (text or "").splitlines() for part in line.split(",") if part.strip()]


def _directory_choices(kind: str, server_id: int | None, current: list[Any]) -> list[tuple[str, str]]:
    """Roles or channels of the rule's server by name, plus the ids the rule already holds."""
    from guildsync.models import DiscordChannel, DiscordRole
    from guildsync.services.directory import names_for

    if kind == "role":
        known = list(DiscordRole.objects.filter(is_present=True).values_list("discord_id", "name"))
    else:
        rows = DiscordChannel.objects.exclude(name__endswith=" (deleted)")
        if server_id:
            rows = rows.filter(server_id=server_id)
        known = list(rows.values_list("discord_id", "name"))
    choices = {str(i): plain_label(kind, i, name) for i, name in known}
    held = [str(v) for v in current or [] if str(v).isdigit()]
    names = names_for(kind, held)
    for value in held:
        choices.setdefault(value, plain_label(kind, int(value), names.get(int(value))))
    return sorted(choices.items(), key=lambda item: item[1].casefold())


class AutoModRuleForm(forms.ModelForm):
    keywords = forms.CharField(
        label=gettext_lazy("Keywords"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 50}),
        help_text=gettext_lazy("One word or phrase per line (or separated by commas). * is a wildcard: bad* also "
                               "catches badly."))
    pattern = forms.CharField(
        label=gettext_lazy("Pattern"), required=False, max_length=automod.MAX_PATTERN,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=gettext_lazy("A Python regular expression, e.g. \\bfree nitro\\b. Patterns that could hang the "
                               "bot are refused."))
    messages = forms.IntegerField(required=False, min_value=2, max_value=automod.MAX_SPAM_MESSAGES, initial=5,
                                  label=gettext_lazy("Messages"),
                                  help_text=gettext_lazy("How many messages from one member…"))
    seconds = forms.IntegerField(required=False, min_value=1, max_value=automod.MAX_SPAM_SECONDS, initial=10,
                                 label=gettext_lazy("Within (seconds)"),
                                 help_text=gettext_lazy("…within how many seconds count as spam."))
    max_mentions = forms.IntegerField(required=False, min_value=1, max_value=100, initial=5,
                                      label=gettext_lazy("Most mentions allowed"),
                                      help_text=gettext_lazy("A message mentioning more members than this is caught."))
    allowed_domains = forms.CharField(
        label=gettext_lazy("Allowed websites"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50}),
        help_text=gettext_lazy("Websites members may link to, one per line (e.g. wowhead.com). Links to any other "
                               "site are caught; leave empty to catch every link."))
    min_length = forms.IntegerField(required=False, min_value=1, max_value=2000, initial=10,
                                    label=gettext_lazy("Shortest message checked"),
                                    help_text=gettext_lazy('Characters; shorter messages ("OK!") are never caught.'))
    max_percent = forms.IntegerField(required=False, min_value=1, max_value=99, initial=70,
                                     label=gettext_lazy("Capitals allowed (%)"),
                                     help_text=gettext_lazy("A message with more capital letters than this share is "
                                                            "caught."))
    exempt_roles = forms.MultipleChoiceField(label=gettext_lazy("Exempt roles"), required=False,
                                             help_text=gettext_lazy("Members with any of these roles are never caught "
                                                                    "by this rule."))
    exempt_channels = forms.MultipleChoiceField(label=gettext_lazy("Exempt channels"), required=False,
                                                help_text=gettext_lazy("Messages in these channels are never checked "
                                                                       "by this rule."))

    class Meta:
        model = AutoModRule
        fields = ["guild_id", "name", "rule_type", "action", "timeout_minutes", "priority", "is_active"]

    def __init__(self, *args: Any, rule_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        saved = not instance._state.adding  # (a new rule has its UUID already)
        self.rule_type = instance.rule_type if saved else rule_type
        if self.rule_type not in TYPE_FIELDS:
            raise _unknown_type(self.rule_type)  # the admin checks before building it
        field = self.fields["rule_type"]
        field.initial, field.disabled = self.rule_type, True
        field.help_text = WHAT_IT_CATCHES[self.rule_type]
        if saved:
            field.help_text = _("%(what)s The type of a saved rule stays: add a new rule for another type.") % {
                "what": WHAT_IT_CATCHES[self.rule_type]}
        if not saved:
            instance.rule_type = self.rule_type
        for name in ALL_TYPE_FIELDS:
            if name not in TYPE_FIELDS[self.rule_type]:
                del self.fields[name]
        config = instance.config or {}
        initial = {"keywords": "\n".join(config.get("keywords", [])), "pattern": config.get("pattern", ""),
                   "messages": config.get("messages"), "seconds": config.get("seconds"),
                   "max_mentions": config.get("max_mentions"),
                   "allowed_domains": "\n".join(config.get("allowed_domains", [])),
                   "min_length": config.get("min_length"),
                   "max_percent": round(float(config["max_ratio"]) * 100) if "max_ratio" in config else None}
        for name in TYPE_FIELDS[self.rule_type]:
            if saved and initial.get(name) not in (None, ""):
                self.fields[name].initial = initial[name]
            self.fields[name].required = name != "allowed_domains"
        servers = dict(DiscordServer.objects.values_list("discord_id", "name"))
        if saved and instance.guild_id not in servers:
            servers[instance.guild_id] = plain_label("server", instance.guild_id, None)
        if not servers:  # no bot seen yet: the id by hand, said so
            self.fields["guild_id"].help_text = _("No server is known yet (the bot records it when it starts): "
                                                  "type the server's id.")
        else:
            self._server_picker(servers, instance, saved)
        server = instance.guild_id if saved else None
        self.fields["exempt_roles"].choices = _directory_choices("role", server, instance.exempt_role_ids)
        self.fields["exempt_channels"].choices = _directory_choices("channel", server, instance.exempt_channel_ids)
        self.fields["exempt_roles"].initial = [str(v) for v in instance.exempt_role_ids or []]
        self.fields["exempt_channels"].initial = [str(v) for v in instance.exempt_channel_ids or []]
        self.fields["exempt_roles"].error_messages["invalid_choice"] = _("%(value)s is not one of the server's "
                                                                         "known roles.")
        self.fields["exempt_channels"].error_messages["invalid_choice"] = _("%(value)s is not one of the server's "
                                                                            "known channels.")

    def _server_picker(self, servers: dict, instance: AutoModRule, saved: bool) -> None:
        self.fields["guild_id"] = forms.TypedChoiceField(
            label=_("Server"), coerce=int, choices=[("", "---------")] + sorted(
                servers.items(), key=lambda item: str(item[1]).casefold()),
            initial=instance.guild_id if saved else (next(iter(servers)) if len(servers) == 1 else None),
            help_text=_("The Discord server whose messages the rule checks (by name, as the bot saw it)."),
            error_messages={"invalid_choice": _("Choose one of the servers the bot knows.")})

    def _post_clean(self) -> None:
        """The model's own check (``AutoModRule.clean``) speaks of JSON keys: run it only on
        what this form's checks let through (they say the same in the form's words)."""
        if not self._errors:
            super()._post_clean()

    def config(self) -> dict[str, Any]:
        """The rule's config from this type's fields (cleaned values)."""
        data = self.cleaned_data
        if self.rule_type == "keyword":
            return {"keywords": _lines(data.get("keywords", ""))}
        if self.rule_type == "regex":
            return {"pattern": data.get("pattern", "")}
        if self.rule_type == "spam":
            return {"messages": data.get("messages"), "seconds": data.get("seconds")}
        if self.rule_type == "mention_spam":
            return {"max_mentions": data.get("max_mentions")}
        if self.rule_type == "links":
            return {"allowed_domains": _lines(data.get("allowed_domains", ""))}
        if self.rule_type == "caps":
            return {"min_length": data.get("min_length"), "max_ratio": (data.get("max_percent") or 0) / 100}
        return {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if any(name in self.errors for name in TYPE_FIELDS[self.rule_type]):
            return cleaned  # the field's own message says it
        if self.rule_type == "keyword" and not _lines(cleaned.get("keywords", "")):
            self.add_error("keywords", _("Give at least one word or phrase."))
            return cleaned
        roles = [int(v) for v in cleaned.get("exempt_roles") or []]
        channels = [int(v) for v in cleaned.get("exempt_channels") or []]
        try:
            config = automod.validate_rule(self.rule_type, self.config(), roles, channels)
        except ValueError as exc:
            target = TYPE_FIELDS[self.rule_type][0] if TYPE_FIELDS[self.rule_type] else None
            self.add_error(target, str(exc))
            return cleaned
        self.instance.rule_type = self.rule_type
        self.instance.config = config
        self.instance.exempt_role_ids = roles
        self.instance.exempt_channel_ids = channels
        return cleaned
