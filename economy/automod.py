"""Auto-moderation matching: pure functions over a message, no database.

``economy.services.evaluate_message`` loads the guild's rules and calls ``match_rule`` for
each; this module only knows how each rule type reads a message.

Regular expressions written by officers are the one dangerous part: Python's ``re`` has no
timeout and does not release the GIL, so a catastrophic pattern (``(a+)+$``) would freeze the
bot. Three bounds apply (the ``regex`` package with its timeout is not a dependency here):
patterns are validated on save (length, compilation, no quantified group that itself ends in
a quantifier — the classic nested-quantifier shape — and a probe against adversarial input
under a deadline); the text is capped at ``MAX_INPUT`` characters; and every regex match runs
in a separate worker process with a deadline (``RegexRunner``): on timeout the worker is
killed and replaced, and the rule counts as not matching.

Spam (N messages in T seconds per member) uses an in-process sliding window (``SpamWindow``):
the bot is one process per Discord application and sees every message, so the window is
complete there, costs no database write per message, and losing it on restart forgets at
most T seconds of history.

Languages: the validation messages are for the officer editing a rule (``gettext`` at call
time: the admin's language); the reasons ``match_rule`` gives become a case's record, written in
the language active then (``services.evaluate_message`` makes it the server language).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

MAX_INPUT = 4000  # Nitro messages are up to 4,000 characters
MAX_PATTERN = 300
REGEX_TIMEOUT = 0.25  # seconds per match
MAX_SPAM_SECONDS = 3600
MAX_SPAM_MESSAGES = 100

RULE_TYPES = ("keyword", "regex", "spam", "mention_spam", "links", "invites", "caps")

# A group whose last token is a quantifier, itself quantified: (a+)+, (\w*)*, (x{1,5})+ ...
_NESTED_QUANTIFIER = re.compile(r"(?:[+*}]|\+\?|\*\?)\)(?:[+*]|\{\d*,?\d*\})")
# Alternation inside a quantified group with overlapping branches is also exponential: (a|a)*
_QUANTIFIED_ALTERNATION = re.compile(r"\((?:\?:)?([^()|]+)\|\1\)(?:[+*]|\{)")
_URL = re.compile(r"(?:https?://|www\.)([^\s/<>?#:]+)", re.IGNORECASE)
_INVITE = re.compile(r"(?:discord(?:app)?\.com/invite|discord\.gg|dsc\.gg)/[\w-]+", re.IGNORECASE)


# -- validation ------------------------------------------------------------------------------
def _int_list(values: Any, what: str) -> list[int]:
    if values in (None, ""):
        return []
    if not isinstance(values, list):
        raise ValueError(_("%(what)s must be a list of Discord ids.") % {"what": what})
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(_("%(what)s must contain Discord ids (numbers).") % {"what": what}) from None


def _bounded_int(config: dict, key: str, default: int, low: int, high: int) -> int:
    try:
        value = int(config.get(key, default))
    except (TypeError, ValueError):
        raise ValueError(_("'%(key)s' must be a whole number.") % {"key": key}) from None
    if not low <= value <= high:
        raise ValueError(_("'%(key)s' must be between %(low)s and %(high)s.") % {"key": key, "low": low, "high": high})
    return value


def check_pattern(pattern: str) -> None:
    """Refuse patterns that do not compile or have the shapes that backtrack exponentially,
    then probe the survivors against adversarial input under the deadline."""
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(_("A regex rule needs a 'pattern'."))
    if len(pattern) > MAX_PATTERN:
        raise ValueError(_("The pattern is limited to %(count)s characters.") % {"count": MAX_PATTERN})
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(_("The pattern does not compile: %(error)s.") % {"error": exc}) from None
    if _NESTED_QUANTIFIER.search(pattern) or _QUANTIFIED_ALTERNATION.search(pattern):
        raise ValueError(_("The pattern nests quantifiers (like (a+)+), which can hang the bot; simplify it."))
    for probe in ("a" * 3000 + "!", "aA0 _-." * 400 + "\x00", " " * 3000 + "x"):
        try:
            regex_runner().search(pattern, probe, timeout=1.0)
        except RegexTimeoutError:
            raise ValueError(_("The pattern takes too long on long messages; simplify it.")) from None


def validate_rule(rule_type: str, config: Any, exempt_role_ids: Any = None,
                  exempt_channel_ids: Any = None) -> dict[str, Any]:
    """The normalised config of a rule, or ValueError with a message for the officer."""
    if rule_type not in RULE_TYPES:
        raise ValueError(_("Unknown rule type %(type)s.") % {"type": repr(rule_type)})
    if config in (None, ""):
        config = {}
    if not isinstance(config, dict):
        raise ValueError(_("The rule config must be a JSON object."))
    _int_list(exempt_role_ids, _("Exempt roles"))
    _int_list(exempt_channel_ids, _("Exempt channels"))
    if rule_type == "keyword":
        words = config.get("keywords")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise ValueError(_('A keyword rule needs "keywords": a list of words (use * as a wildcard).'))
        words = [w.strip() for w in words]
        if any(not w.replace("*", "") for w in words):
            raise ValueError(_("A keyword can't be only wildcards."))
        return {"keywords": words}
    if rule_type == "regex":
        check_pattern(config.get("pattern"))
        return {"pattern": config["pattern"]}
    if rule_type == "spam":
        return {"messages": _bounded_int(config, "messages", 5, 2, MAX_SPAM_MESSAGES),
                "seconds": _bounded_int(config, "seconds", 10, 1, MAX_SPAM_SECONDS)}
    if rule_type == "mention_spam":
        return {"max_mentions": _bounded_int(config, "max_mentions", 5, 1, 100)}
    if rule_type == "links":
        domains = config.get("allowed_domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise ValueError(_('"allowed_domains" must be a list of domain names.'))
        return {"allowed_domains": [d.strip().lower().removeprefix("www.") for d in domains if d.strip()]}
    if rule_type == "invites":
        return {}
    try:
        ratio = float(config.get("max_ratio", 0.7))
    except (TypeError, ValueError):
        raise ValueError(_("'max_ratio' must be a number between 0 and 1.")) from None
    if not 0 < ratio < 1:
        raise ValueError(_("'max_ratio' must be between 0 and 1 (exclusive)."))
    return {"min_length": _bounded_int(config, "min_length", 10, 1, 2000), "max_ratio": ratio}


def is_exempt(exempt_role_ids: Iterable[Any], exempt_channel_ids: Iterable[Any], author_roles: Iterable[int],
              channel_id: int | None) -> bool:
    roles = {int(r) for r in exempt_role_ids or []}
    channels = {int(c) for c in exempt_channel_ids or []}
    return bool(roles.intersection(int(r) for r in author_roles)) or (channel_id is not None
                                                                     and int(channel_id) in channels)


# -- matching --------------------------------------------------------------------------------
def keyword_regex(keyword: str) -> re.Pattern[str]:
    """Whole-word match; ``*`` stands for any run of word characters (``bad*`` hits "badly")."""
    body = re.escape(keyword).replace(r"\*", r"\w*")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def match_rule(rule_type: str, config: dict[str, Any], *, content: str, mentions: Iterable[int],
               recent_messages: Callable[[int], int]) -> str | None:
    """Why the message breaks the rule (a reason for the case), or None.

    ``recent_messages(seconds)`` is the author's message count in the last ``seconds``,
    this one included.
    """
    text = (content or "")[:MAX_INPUT]
    if rule_type == "keyword":
        for word in config["keywords"]:
            found = keyword_regex(word).search(text)
            if found:
                return _("Blocked word: %(word)s") % {"word": repr(found.group(0))}
        return None
    if rule_type == "regex":
        try:
            hit = regex_runner().search(config["pattern"], text)
        except RegexTimeoutError:
            log.warning("automod: regex %r timed out; treated as no match", config["pattern"])
            return None
        return _("Matched a blocked pattern") if hit else None
    if rule_type == "spam":
        count = recent_messages(config["seconds"])
        if count >= config["messages"]:
            return _("Spam: %(count)s messages in %(seconds)s seconds") % {"count": count, "seconds": config["seconds"]}
        return None
    if rule_type == "mention_spam":
        count = len(set(mentions))
        return _("Mention spam: %(count)s mentions") % {"count": count} if count >= config["max_mentions"] else None
    if rule_type == "links":
        allowed = config.get("allowed_domains", [])
        for host in _URL.findall(text):
            host = host.lower().removeprefix("www.")
            if not any(host == d or host.endswith("." + d) for d in allowed):
                return _("Link to %(host)s") % {"host": host}
        return None
    if rule_type == "invites":
        return _("Discord invite link") if _INVITE.search(text) else None
    if rule_type == "caps":
        letters = [c for c in text if c.isalpha()]
        if len(letters) < config["min_length"]:
            return None
        ratio = sum(c.isupper() for c in letters) / len(letters)
        if ratio <= config["max_ratio"]:
            return None
        from core.i18n import percent  # here: the regex worker process imports this module bare

        return _("Excessive capitals (%(share)s)") % {"share": percent(ratio * 100)}
    raise ValueError(_("Unknown rule type %(type)s.") % {"type": repr(rule_type)})


# -- spam window -----------------------------------------------------------------------------
class SpamWindow:
    """Message times per (guild, member) over the last hour, in this process."""

    def __init__(self, horizon: int = MAX_SPAM_SECONDS, per_member: int = MAX_SPAM_MESSAGES) -> None:
        self.horizon = horizon
        self.per_member = per_member
        self._lock = threading.Lock()
        self._events: dict[tuple[int, int], deque[float]] = {}

    def record(self, key: tuple[int, int], at: dt.datetime) -> None:
        stamp = at.timestamp()
        with self._lock:
            events = self._events.setdefault(key, deque(maxlen=self.per_member))
            events.append(stamp)
            if len(self._events) > 50_000:  # forget members quiet for longer than the horizon
                cutoff = stamp - self.horizon
                for k in [k for k, v in self._events.items() if not v or v[-1] < cutoff]:
                    del self._events[k]

    def count(self, key: tuple[int, int], at: dt.datetime, seconds: int) -> int:
        end = at.timestamp()
        start = end - seconds
        with self._lock:
            return sum(1 for t in self._events.get(key, ()) if start < t <= end)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


SPAM_WINDOW = SpamWindow()


# -- regex with a deadline -------------------------------------------------------------------
class RegexTimeoutError(Exception):
    """The match did not finish within the deadline; its worker was killed."""


def _regex_worker(conn: Any) -> None:
    conn.send("ready")
    while True:
        try:
            pattern, text = conn.recv()
        except EOFError:
            return
        try:
            conn.send(re.search(pattern, text, re.IGNORECASE) is not None)
        except re.error:
            conn.send(False)


class RegexRunner:
    """One worker process that runs ``re.search`` for us; killed and respawned on a timeout."""

    def __init__(self, timeout: float = REGEX_TIMEOUT) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Any = None

    def _ensure(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_regex_worker, args=(child,), daemon=True, name="automod-regex")
        process.start()
        child.close()
        self._process, self._conn = process, parent
        if not parent.poll(60) or parent.recv() != "ready":  # start-up is not part of the deadline
            self._kill()
            raise RuntimeError("automod: the regex worker did not start")

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def search(self, pattern: str, text: str, timeout: float | None = None) -> bool:
        with self._lock:
            self._ensure()
            self._conn.send((pattern, text[:MAX_INPUT]))
            if self._conn.poll(timeout or self.timeout):
                return bool(self._conn.recv())
            self._kill()
            raise RegexTimeoutError(pattern)

    def close(self) -> None:
        with self._lock:
            self._kill()


_RUNNER: RegexRunner | None = None
_RUNNER_LOCK = threading.Lock()


def regex_runner() -> RegexRunner:
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = RegexRunner()
        return _RUNNER
