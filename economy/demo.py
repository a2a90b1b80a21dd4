"""Demo data for the economy: one guild's config, 30 members with a month of history, three
squads, auto-moderation rules and a few cases. Built through the services, deterministic, and
idempotent: settings are upserted and the history is only written when the guild has none."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bot import outbox
from bot.models import OutboxMessage
from core.demo import DEMO_SERVER_ID, DEMO_SERVER_NAME, name_demo_ids
from economy import services
from economy.models import AutoModRule, BytesConfig, BytesTransaction, ModerationCase, Squad

DEMO_GUILD = DEMO_SERVER_ID  # the one demo server ("Stormwatch"), shared with every app's demo
FIRST_USER = 900_000_000_000_100_000
DEMO_CHANNEL = 900_000_000_000_000_601
MEMES_CHANNEL = 900_000_000_000_000_501
MODERATOR_ROLE = 900_000_000_000_000_401
MODERATOR = FIRST_USER + 999
NAMES = ["Aelinor", "Brakk", "Cyrene", "Dorn", "Elowen", "Fenwick", "Galen", "Halvard", "Isolde", "Jory",
         "Kestrel", "Lirien", "Morwen", "Nyx", "Orrin", "Pella", "Quill", "Rowan", "Sable", "Thane", "Ulric",
         "Vesper", "Wren", "Xander", "Yara", "Zephyr", "Ash", "Briar", "Cael", "Dusk"]
REWARD_ROLES = {"900000000000000201": 150, "900000000000000202": 400}
ROLE_NAMES = {900_000_000_000_000_201: "Chatterbox", 900_000_000_000_000_202: "Regular",
              MODERATOR_ROLE: "Moderator"}
SQUADS = [
    {"role_id": 900_000_000_000_000_301, "name": "Red Dragons", "description": "Fire first, ask later.",
     "switch_cost": 50, "max_members": None, "is_default": True, "welcome_message": "Welcome to the Red Dragons!"},
    {"role_id": 900_000_000_000_000_302, "name": "Blue Phoenix", "description": "We rise again. Small and elite.",
     "switch_cost": 75, "max_members": 12, "is_default": False, "welcome_message": ""},
    {"role_id": 900_000_000_000_000_303, "name": "Green Wyverns", "description": "Patient hunters.",
     "switch_cost": 25, "max_members": None, "is_default": False, "welcome_message": "Hiss. Welcome."},
]
RULES = [
    {"name": "Slurs and scams", "rule_type": "keyword", "config": {"keywords": ["free nitro", "scam*"]},
     "action": "delete", "priority": 0},
    {"name": "No invites", "rule_type": "invites", "config": {}, "action": "warn", "priority": 1,
     "exempt_role_ids": [MODERATOR_ROLE]},
    {"name": "Spam", "rule_type": "spam", "config": {"messages": 6, "seconds": 10}, "action": "timeout",
     "priority": 2, "timeout_minutes": 10},
    {"name": "Mass mentions", "rule_type": "mention_spam", "config": {"max_mentions": 6}, "action": "timeout",
     "priority": 3},
    {"name": "Shouting", "rule_type": "caps", "config": {"min_length": 15, "max_ratio": 0.8}, "action": "delete",
     "priority": 4, "exempt_channel_ids": [MEMES_CHANNEL]},
]


def _upsert(model: Any, lookup: dict[str, Any], fields: dict[str, Any]) -> Any:
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    for key, value in fields.items():
        setattr(obj, key, value)
    return services.save_settings(obj)


def seed_demo(stdout: Any) -> None:
    name_demo_ids(members={**{FIRST_USER + i: name for i, name in enumerate(NAMES)}, MODERATOR: "ModMarta"},
                  channels={DEMO_CHANNEL: "general", MEMES_CHANNEL: "memes"},
                  roles={**ROLE_NAMES, **{s["role_id"]: s["name"] for s in SQUADS}})
    with transaction.atomic():
        _upsert(BytesConfig, {"guild_id": DEMO_GUILD}, {
            "starting_balance": 100, "daily_amount": 10, "max_transfer": 500, "transfer_cooldown_hours": 0,
            "role_rewards": REWARD_ROLES})
        squads = [_upsert(Squad, {"guild_id": DEMO_GUILD, "role_id": s["role_id"]}, s) for s in SQUADS]
        for rule in RULES:
            _upsert(AutoModRule, {"guild_id": DEMO_GUILD, "name": rule["name"]}, rule)
        started = timezone.now()
        if not BytesTransaction.objects.filter(guild_id=DEMO_GUILD).exists():
            _history(squads)
        if not ModerationCase.objects.filter(guild_id=DEMO_GUILD).exists():
            _cases()
        # the demo guild is not a real server: withdraw what it would have said in Discord (its
        # roles, moderation, and the DMs to its made-up members, the message delete) before any worker sends it
        demo_users = [FIRST_USER + i for i in range(len(NAMES))] + [MODERATOR]
        queued = OutboxMessage.objects.filter(Q(guild_id=DEMO_GUILD) | Q(user_id__in=demo_users)
                                              | Q(channel_id=DEMO_CHANNEL),
                                              created_at__gte=started, topic__startswith="economy.",
                                              status=OutboxMessage.Status.PENDING)
        outbox.withdraw_pending(list(queued.values_list("pk", flat=True)), reason="demo guild is not a real server")
    stdout.write(f"economy: {DEMO_SERVER_NAME}: {len(NAMES)} balances, {len(SQUADS)} squads, {len(RULES)} rules")


def _history(squads: list[Squad]) -> None:
    rng = random.Random(42)
    users = [(FIRST_USER + i, name) for i, name in enumerate(NAMES)]
    today = services.utc_today()
    for i, (user_id, name) in enumerate(users):
        streak_days = 3 + (i * 7) % 20  # 3..22 consecutive days ending today
        for back in range(streak_days, -1, -1):
            services.award_daily(DEMO_GUILD, user_id, today - dt.timedelta(days=back), username=name)
        if i % 3:
            services.join_squad(DEMO_GUILD, user_id, squads[i % 3].pk, name)
    for _ in range(120):
        (giver, giver_name), (receiver, receiver_name) = rng.sample(users, 2)
        amount = rng.randint(5, 60)
        try:
            services.transfer(DEMO_GUILD, giver, giver_name, receiver, receiver_name, amount,
                              rng.choice(["gg", "thanks for the carry", "raid loot", "", "bet lost", "birthday"]))
        except services.EconomyError:
            continue  # not enough bytes: skipped like the bot would refuse it
    services.adjust_balance(DEMO_GUILD, users[0][0], 250, "Won the screenshot contest", officer="demo")
    services.adjust_balance(DEMO_GUILD, users[1][0], -20, "Duplicate event reward", officer="demo")


def _cases() -> None:
    moderator, tag = MODERATOR, "ModMarta"
    services.open_case(DEMO_GUILD, FIRST_USER + 5, NAMES[5], moderator, tag, "warn", "Spoilers in #general")
    services.open_case(DEMO_GUILD, FIRST_USER + 8, NAMES[8], moderator, tag, "timeout", "Heated argument",
                       duration_minutes=60)
    old = services.open_case(DEMO_GUILD, FIRST_USER + 12, NAMES[12], moderator, tag, "warn", "Off-topic posting")
    services.resolve_case(old.pk, tag)
    services.open_case(DEMO_GUILD, FIRST_USER + 20, NAMES[20], services.AUTOMOD_ID, services.AUTOMOD_TAG, "delete",
                       "AutoMod: Discord invite link", channel_id=DEMO_CHANNEL,
                       message_id=900_000_000_000_000_701)
