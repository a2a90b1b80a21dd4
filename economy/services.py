"""The economy's operations: the only code that writes its tables.

Each public function is one ``transaction.atomic()`` block that validates its input, raises
``EconomyError`` with a message fit to show in Discord, and queues any Discord effect
(roles, DMs, moderation) through ``bot.outbox`` in the same transaction.

Languages (issue #27): error messages are ``gettext`` at raise time, so they arrive in the
reader's language (the member's ``interaction.locale`` in the bot, the officer's in the admin).
Texts the server shares are written in the server language (``i18n.public()``): the reasons
shown in Discord's audit log, the ledger's own descriptions (the bank's side of a daily or a
squad switch, "Daily claim, streak 5"), stored as written, and auto-moderation's case reasons.
A squad's welcome DM is in the member's language (``i18n.for_member``).

Concurrency, by construction:
- balances are locked with ``SELECT … FOR UPDATE`` ordered by user id, so two opposite
  transfers lock in the same order and cannot deadlock;
- a daily claim locks the member's balance row and re-reads ``last_daily`` under the lock,
  so simultaneous claims award once;
- joining a squad locks the balance row (the member), then the squad row, so the capacity
  check and the move are serialised per squad; every path locks balance → squad → membership;
- expiring cases is one conditional ``UPDATE``, safe with any number of workers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bot import outbox
from bot.models import OutboxMessage
from core import i18n
from core.errors import DomainError
from economy import automod
from economy.models import (
    SYSTEM_ID,
    AutoModRule,
    BytesBalance,
    BytesConfig,
    BytesTransaction,
    ModerationAction,
    ModerationCase,
    RoleRewardGrant,
    Squad,
    SquadMembership,
)
from economy.validators import parse_role_rewards, parse_streak_bonuses

log = logging.getLogger(__name__)

Kind = BytesTransaction.Kind
AUTOMOD_ID = 0
AUTOMOD_TAG = "AutoMod"
MAX_TIMEOUT_MINUTES = 28 * 24 * 60  # Discord's limit
HISTORY_LIMIT = 50
_DEFAULTS = BytesConfig()  # field defaults, for guilds without a config row
LEADERBOARD_LIMIT = 100
MAX_BALANCE = 2**31 - 1  # balances are PostgreSQL integers


# Reasons shown in Discord's audit log (``_audit``: the server language). Marked here, translated
# when used.
JOINED_SQUAD = gettext_noop("Joined squad %(squad)s")
LEFT_SQUAD = gettext_noop("Left squad %(squad)s")
CASE_AUDIT = gettext_noop("Case %(case)s: %(reason)s")
CASE_RESOLVED_AUDIT = gettext_noop("Case %(case)s resolved")


class EconomyError(DomainError):
    """A rule of the economy was broken; the message is shown to the member or officer as is."""


# -- configuration ---------------------------------------------------------------------------
def get_config(guild_id: int) -> BytesConfig:
    """The guild's config, or an unsaved one with the defaults (reading never writes)."""
    return BytesConfig.objects.filter(guild_id=guild_id).first() or BytesConfig(guild_id=guild_id)


def save_settings(instance: Model) -> Model:
    """Validate and save an officer-edited settings row (config, squad, automod rule)."""
    if not isinstance(instance, BytesConfig | Squad | AutoModRule):
        raise EconomyError(_("Only economy settings are saved here."))
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise EconomyError("; ".join(exc.messages)) from None
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise EconomyError(_("That clashes with an existing row (one config per server, one squad per role, "
                             "one default squad per server).")) from None
    return instance


def delete_settings(instances: list[Model]) -> int:
    """Delete officer-edited settings rows (configs, squads, automod rules) → rows deleted.

    A deleted squad's members would keep its Discord role forever: their role removal is
    queued through the outbox in the same transaction, and they become squad-less (the default
    squad takes them on their next daily). Cases of a deleted rule keep their history."""
    if not all(isinstance(i, BytesConfig | Squad | AutoModRule) for i in instances):
        raise EconomyError(_("Only economy settings are deleted here."))
    with transaction.atomic():
        for instance in instances:
            if isinstance(instance, Squad):
                squad = Squad.objects.select_for_update().filter(pk=instance.pk).first()
                if squad is None:
                    continue
                with i18n.public():  # Discord's audit log: the server language
                    audit = _("Squad %(squad)s was deleted") % {"squad": squad.name}
                for user_id in squad.memberships.values_list("user_id", flat=True):
                    outbox.remove_role(squad.guild_id, user_id, squad.role_id, reason=audit,
                                       dedupe_key=f"economy:squad:{squad.pk}:deleted:{user_id}",
                                       topic="economy.squad_role")
            instance.delete()
    return len(instances)


# -- streaks ---------------------------------------------------------------------------------
def next_streak(last_daily: dt.date | None, streak: int, today: dt.date) -> int:
    """The streak after claiming on ``today``: +1 after a claim yesterday, else 1.

    Date arithmetic (not day-of-month) so month and year ends are ordinary days.
    """
    if last_daily is None:
        return 1
    gap = (today - last_daily).days
    if gap <= 0:
        raise EconomyError(_("You already claimed today's bytes."))
    return streak + 1 if gap == 1 else 1


def streak_multiplier(streak: int, bonuses: list[tuple[int, int]]) -> int:
    """The multiplier of the highest bonus whose streak threshold is reached (1 if none)."""
    multiplier = 1
    for days, mult in bonuses:
        if streak >= days:
            multiplier = mult
    return multiplier


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


# -- balances --------------------------------------------------------------------------------
def _check_member_id(user_id: int) -> int:
    user_id = int(user_id)
    if user_id <= SYSTEM_ID:
        raise EconomyError(_("That is not a Discord member."))
    return user_id


def _locked_balance(guild_id: int, user_id: int, starting_balance: int) -> BytesBalance:
    """The member's balance row locked FOR UPDATE, opened first if missing. One row only: a
    service that needs two (``transfer``) opens missing accounts before locking anything."""
    query = BytesBalance.objects.select_for_update().filter(guild_id=guild_id, user_id=user_id)
    row = query.first()
    if row is None:
        _open_accounts(guild_id, [user_id], starting_balance)
        row = query.get()
    return row


def _open_accounts(guild_id: int, user_ids: list[int], starting_balance: int) -> None:
    """Insert missing balance rows in user-id order (``ON CONFLICT DO NOTHING``): concurrent
    openers wait on each other in that order, so they cannot deadlock."""
    BytesBalance.objects.bulk_create(
        [BytesBalance(guild_id=guild_id, user_id=u, balance=starting_balance) for u in sorted(set(user_ids))],
        ignore_conflicts=True,
    )


def get_or_create_balance(guild_id: int, user_id: int) -> BytesBalance:
    """The member's balance, opened with the guild's starting balance on first use."""
    user_id = _check_member_id(user_id)
    existing = BytesBalance.objects.filter(guild_id=guild_id, user_id=user_id).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        return _locked_balance(guild_id, user_id, get_config(guild_id).starting_balance)


def _log(guild_id: int, kind: str, giver: tuple[int, str], receiver: tuple[int, str], amount: int,
         reason: str, now: dt.datetime) -> BytesTransaction:
    return BytesTransaction.objects.create(
        guild_id=guild_id, kind=kind, giver_id=giver[0], giver_username=giver[1][:100], receiver_id=receiver[0],
        receiver_username=receiver[1][:100], amount=amount, reason=reason, created_at=now,
    )


def _positive_amount(amount: Any) -> int:
    try:
        value = int(amount)
    except (TypeError, ValueError):
        raise EconomyError(_("The amount must be a whole number of bytes.")) from None
    if value != amount and not isinstance(amount, str):
        raise EconomyError(_("The amount must be a whole number of bytes."))
    if value <= 0:
        raise EconomyError(_("The amount must be more than 0 bytes."))
    return value


# What one transfer attempt ended with. ``economy_transfer()`` (migration 0003, PostgreSQL)
# answers these; ``_transfer_steps`` (any database) does the same steps through the ORM.
_OK, _MISSING, _MAX, _COOLDOWN, _FUNDS, _REWARD = "ok", "missing", "max", "cooldown", "funds", "reward"
_TRANSFER_CALL = "SELECT * FROM economy_transfer(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


@dataclass(frozen=True)
class _Attempt:
    status: str
    giver_balance: int | None = None
    max_transfer: int | None = None
    ready_at: dt.datetime | None = None
    receiver_total: int | None = None
    role_rewards: Any = None


def _aware(value: Any) -> dt.datetime | None:
    """A datetime column as read back: aware on PostgreSQL, possibly naive UTC on SQLite."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def transfer(guild_id: int, giver_id: int, giver_username: str, receiver_id: int, receiver_username: str,
             amount: int, reason: str = "") -> BytesTransaction:
    """Move bytes between two members: both rows locked in user-id order, one transaction.

    This is the hot path (``bench/economy_transfers.py``). On PostgreSQL it is ONE statement,
    ``economy_transfer()`` (migration 0003): lock both rows ordered by user id, read the
    config, check max transfer / cooldown / funds on the locked rows, update both rows, log the
    row — one round trip, its plans cached by the server, atomic on its own. Its status becomes
    the matching ``EconomyError`` here. A transfer that makes a role reward due runs inside
    ``transaction.atomic()`` instead, so the grant is in the same transaction. Other databases
    run the same steps through the ORM (``_transfer_steps``).

    A member's first movement opens the missing account(s) first, holding no lock (inserting
    while holding the other row's lock could deadlock with a concurrent opener), then transfers.
    """
    amount = _positive_amount(amount)
    giver_id, receiver_id = _check_member_id(giver_id), _check_member_id(receiver_id)
    if giver_id == receiver_id:
        raise EconomyError(_("You can't send bytes to yourself."))
    record = BytesTransaction(guild_id=guild_id, kind=Kind.TRANSFER, giver_id=giver_id,
                              giver_username=(giver_username or str(giver_id))[:100], receiver_id=receiver_id,
                              receiver_username=(receiver_username or str(receiver_id))[:100], amount=amount,
                              reason=(reason or "").strip()[:500], created_at=timezone.now())
    attempt = _attempt(record)
    if attempt.status == _MISSING:
        config = get_config(guild_id)
        if amount > config.max_transfer:  # refuse before opening anything
            raise EconomyError(_at_most(config.max_transfer))
        if not BytesBalance.objects.filter(guild_id=guild_id, user_id=giver_id).exists() \
                and config.starting_balance < amount:
            raise EconomyError(_only_have(config.starting_balance))
        with transaction.atomic():
            _open_accounts(guild_id, [giver_id, receiver_id], config.starting_balance)
        attempt = _attempt(record)
    if attempt.status == _MAX:
        raise EconomyError(_at_most(attempt.max_transfer))
    if attempt.status == _COOLDOWN:
        raise EconomyError(_("You can send bytes again %(when)s.") % {
            "when": outbox.discord_timestamp(attempt.ready_at, "R")})
    if attempt.status == _FUNDS:
        raise EconomyError(_only_have(attempt.giver_balance))
    if attempt.status != _OK:  # accounts missing again: deleted in between
        raise EconomyError(_("That account is being changed; try again."))
    record._state.adding, record._state.db = False, connection.alias
    return record


def _at_most(amount: int) -> str:
    return _("You can send at most %(amount)s bytes at once.") % {"amount": i18n.number(amount)}


def _only_have(amount: int) -> str:
    return _("You only have %(amount)s bytes.") % {"amount": i18n.number(amount)}


def _has_transfer_function() -> bool:
    """PostgreSQL has ``economy_transfer()`` (migration 0003); other databases take the ORM path."""
    return connection.vendor == "postgresql"


def _attempt(record: BytesTransaction) -> _Attempt:
    """One try at ``record``'s transfer, in one transaction with any role reward it makes due."""
    if _has_transfer_function():
        if not connection.in_atomic_block:
            attempt = _call_transfer_function(record, inline_rewards=False)
            if attempt.status != _REWARD:
                return attempt  # one statement, committed on its own: no reward was due
        with transaction.atomic():
            return _rewarded(record, _call_transfer_function(record, inline_rewards=True))
    with transaction.atomic():
        return _rewarded(record, _transfer_steps(record))


def _rewarded(record: BytesTransaction, attempt: _Attempt) -> _Attempt:
    rewards = attempt.role_rewards
    if isinstance(rewards, str):  # jsonb read by raw SQL arrives as text
        rewards = json.loads(rewards)
    if attempt.status == _OK and rewards:
        _grant_role_rewards(BytesConfig(guild_id=record.guild_id, role_rewards=rewards),
                            record.guild_id, record.receiver_id, attempt.receiver_total)
    return attempt


def _call_transfer_function(record: BytesTransaction, *, inline_rewards: bool) -> _Attempt:
    with connection.cursor() as cursor:
        cursor.execute(_TRANSFER_CALL, [
            record.guild_id, record.giver_id, record.giver_username, record.receiver_id, record.receiver_username,
            record.amount, record.reason, record.id, record.created_at, _DEFAULTS.max_transfer,
            _DEFAULTS.transfer_cooldown_hours, inline_rewards,
        ])
        return _Attempt(*cursor.fetchone())


def _transfer_steps(record: BytesTransaction) -> _Attempt:
    """``economy_transfer()``'s steps through the ORM, inside the caller's transaction: the
    path of databases without the function (SQLite serialises writers; ``FOR UPDATE`` where
    supported, in user-id order)."""
    amount = record.amount
    rows = {row.user_id: row for row in BytesBalance.objects.select_for_update()
            .filter(guild_id=record.guild_id, user_id__in=[record.giver_id, record.receiver_id]).order_by("user_id")}
    if len(rows) < 2:
        return _Attempt(_MISSING)
    giver, receiver = rows[record.giver_id], rows[record.receiver_id]
    config = get_config(record.guild_id)
    found = {"giver_balance": giver.balance, "max_transfer": config.max_transfer}
    if amount > config.max_transfer:
        return _Attempt(_MAX, **found)
    if config.transfer_cooldown_hours and giver.last_transfer_at:
        ready = _aware(giver.last_transfer_at) + dt.timedelta(hours=config.transfer_cooldown_hours)
        if record.created_at < ready:
            return _Attempt(_COOLDOWN, ready_at=ready, **found)
    if giver.balance < amount:
        return _Attempt(_FUNDS, **found)
    now = record.created_at
    BytesBalance.objects.filter(pk=giver.pk).update(balance=F("balance") - amount, total_sent=F("total_sent") + amount,
                                                    last_transfer_at=now, updated_at=now)
    BytesBalance.objects.filter(pk=receiver.pk).update(balance=F("balance") + amount,
                                                       total_received=F("total_received") + amount, updated_at=now)
    record.save(force_insert=True)
    found["giver_balance"] -= amount
    return _Attempt(_OK, receiver_total=receiver.total_received + amount,
                    role_rewards=config.role_rewards if config.pk else None, **found)


def award_daily(guild_id: int, user_id: int, today: dt.date | None = None,
                username: str = "") -> tuple[BytesBalance, int, int]:
    """Claim the daily bytes once per UTC day → (balance, streak, amount awarded).

    The balance row is locked and ``last_daily`` re-read under the lock, so of any number of
    simultaneous claims exactly one awards. A member without a squad joins the default one.
    """
    user_id = _check_member_id(user_id)
    today = today or utc_today()
    with transaction.atomic():
        config = get_config(guild_id)
        bonuses = parse_streak_bonuses(config.streak_bonuses)
        balance = _locked_balance(guild_id, user_id, config.starting_balance)
        if balance.last_daily is not None and balance.last_daily >= today:
            tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
            raise EconomyError(_("You already claimed today's bytes. Come back %(when)s.") % {
                "when": outbox.discord_timestamp(tomorrow, "R")})
        streak = next_streak(balance.last_daily, balance.streak_count, today)
        amount = config.daily_amount * streak_multiplier(streak, bonuses)
        balance.balance += amount
        balance.total_received += amount
        balance.last_daily = today
        balance.streak_count = streak
        balance.save(update_fields=["balance", "total_received", "last_daily", "streak_count", "updated_at"])
        if amount:
            with i18n.public():  # the ledger's own words: the server language, stored as written
                bank, why = _("Daily reward"), _("Daily claim, streak %(streak)s") % {"streak": i18n.number(streak)}
            _log(guild_id, Kind.DAILY, (SYSTEM_ID, bank), (user_id, username or str(user_id)), amount, why,
                 timezone.now())
        _grant_role_rewards(config, guild_id, user_id, balance.total_received)
        _join_default_squad(guild_id, user_id)
    return balance, streak, amount


def adjust_balance(guild_id: int, user_id: int, amount: int, reason: str, officer: str,
                   username: str = "") -> BytesTransaction:
    """An officer's correction (positive credits, negative debits), logged as a transaction
    between the member and the bank (id 0) so the amount stays positive and the direction
    shows who gave. Corrections do not count in the member's totals (no role rewards)."""
    user_id = _check_member_id(user_id)
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        raise EconomyError(_("The amount must be a whole number of bytes.")) from None
    if amount == 0:
        raise EconomyError(_("An adjustment must change the balance (not 0)."))
    if abs(amount) > MAX_BALANCE:
        raise EconomyError(_("An adjustment is at most %(amount)s bytes either way.") % {
            "amount": i18n.number(MAX_BALANCE)})
    reason = (reason or "").strip()
    if not reason:
        raise EconomyError(_("Say why the balance is adjusted."))
    officer_label = f"Officer {officer}"[:100]  # stored, and read back by the admin (OFFICER_PREFIX): not translated
    if not username:  # the member's name as the directory knows it, never a bare snowflake
        from guildsync.services.directory import label

        username = label("member", user_id)
    member = (user_id, username)
    with transaction.atomic():
        balance = _locked_balance(guild_id, user_id, get_config(guild_id).starting_balance)
        if balance.balance + amount < 0:
            raise EconomyError(_("%(member)s has %(balance)s bytes; the balance can't go below 0.") % {
                "member": member[1], "balance": i18n.number(balance.balance)})
        if balance.balance + amount > MAX_BALANCE:
            raise EconomyError(_("%(member)s has %(balance)s bytes; a balance holds at most %(most)s.") % {
                "member": member[1], "balance": i18n.number(balance.balance), "most": i18n.number(MAX_BALANCE)})
        BytesBalance.objects.filter(pk=balance.pk).update(balance=F("balance") + amount, updated_at=timezone.now())
        if amount > 0:
            return _log(guild_id, Kind.ADJUSTMENT, (SYSTEM_ID, officer_label), member, amount, reason, timezone.now())
        return _log(guild_id, Kind.ADJUSTMENT, member, (SYSTEM_ID, officer_label), -amount, reason, timezone.now())


def get_leaderboard(guild_id: int, limit: int = 10) -> list[BytesBalance]:
    """Richest members first (ties by user id so the order is stable)."""
    limit = max(1, min(int(limit), LEADERBOARD_LIMIT))
    return list(BytesBalance.objects.filter(guild_id=guild_id).order_by("-balance", "user_id")[:limit])


def get_history(guild_id: int, user_id: int, limit: int = 10) -> list[BytesTransaction]:
    """The member's latest movements, either direction."""
    limit = max(1, min(int(limit), HISTORY_LIMIT))
    return list(BytesTransaction.objects.filter(Q(giver_id=user_id) | Q(receiver_id=user_id), guild_id=guild_id)
                .order_by("-created_at")[:limit])


# -- role rewards ----------------------------------------------------------------------------
def _grant_role_rewards(config: BytesConfig, guild_id: int, user_id: int, total_received: int) -> list[int]:
    """Grant (once) every reward role whose threshold ``total_received`` reached. Runs while
    the member's balance row is locked; the unique grant row makes "once" a DB fact."""
    reached = [(role, threshold) for role, threshold in parse_role_rewards(config.role_rewards)
               if total_received >= threshold]
    if not reached:
        return []
    held = set(RoleRewardGrant.objects.filter(guild_id=guild_id, user_id=user_id).values_list("role_id", flat=True))
    granted = []
    for role_id, threshold in reached:
        if role_id in held:
            continue
        RoleRewardGrant.objects.create(guild_id=guild_id, user_id=user_id, role_id=role_id, threshold=threshold)
        with i18n.public():  # Discord's audit log: the server language
            audit = _("Received %(amount)s bytes") % {"amount": i18n.number(threshold)}
        outbox.add_role(guild_id, user_id, role_id, reason=audit,
                        dedupe_key=f"economy:reward:{guild_id}:{user_id}:{role_id}", topic="economy.role_reward")
        granted.append(role_id)
    return granted


# -- squads ----------------------------------------------------------------------------------
def list_squads(guild_id: int) -> list[Squad]:
    """Active squads with ``member_count``."""
    return list(Squad.objects.filter(guild_id=guild_id, is_active=True)
                .annotate(member_count=Count("memberships")).order_by("name"))


def get_squad(guild_id: int, name_or_id: str | uuid.UUID) -> Squad:
    query = Squad.objects.filter(guild_id=guild_id).annotate(member_count=Count("memberships"))
    try:
        return query.get(pk=uuid.UUID(str(name_or_id)))
    except (ValueError, Squad.DoesNotExist):
        pass
    squad = query.filter(name__iexact=str(name_or_id).strip()).first()
    if squad is None:
        raise EconomyError(_("There is no squad called %(name)s.") % {"name": name_or_id})
    return squad


def squad_members(squad: Squad, limit: int = 100) -> list[SquadMembership]:
    return list(squad.memberships.order_by("joined_at")[:limit])


def member_squad(guild_id: int, user_id: int) -> Squad | None:
    membership = SquadMembership.objects.filter(guild_id=guild_id, user_id=user_id).select_related("squad").first()
    return membership.squad if membership else None


def _audit(text: str, **values: Any) -> str:
    """A reason for Discord's audit log, in the server language (read by the server's staff)."""
    with i18n.public():
        return (_(text) % values)[:400]


def _welcome(squad: Squad, user_id: int, dedupe: str) -> None:
    """The squad's role and its welcome DM: the officers' own welcome text as written, else ours
    in the member's language."""
    outbox.add_role(squad.guild_id, user_id, squad.role_id, reason=_audit(JOINED_SQUAD, squad=squad.name),
                    dedupe_key=f"{dedupe}:add", topic="economy.squad_role")
    with i18n.for_member(user_id):
        text = squad.welcome_message or _("Welcome to **%(squad)s**!") % {"squad": squad.name}
        outbox.send_dm(user_id, content=text[:2000], dedupe_key=f"{dedupe}:welcome", topic="economy.squad_welcome")


def join_squad(guild_id: int, user_id: int, squad_id: str | uuid.UUID, username: str = "") -> tuple[Squad, int]:
    """Join (free) or switch to (``switch_cost``, charged and logged here) a squad → (squad,
    bytes charged). Full squads are refused: the squad row is locked while counting."""
    user_id = _check_member_id(user_id)
    with transaction.atomic():
        config = get_config(guild_id)
        balance = _locked_balance(guild_id, user_id, config.starting_balance)
        squad = Squad.objects.select_for_update().filter(pk=squad_id, guild_id=guild_id).first()
        if squad is None or not squad.is_active:
            raise EconomyError(_("That squad does not exist or is closed."))
        membership = SquadMembership.objects.select_for_update().filter(guild_id=guild_id, user_id=user_id).first()
        if membership is not None and membership.squad_id == squad.pk:
            raise EconomyError(_("You are already in %(squad)s.") % {"squad": squad.name})
        if squad.max_members is not None and squad.memberships.count() >= squad.max_members:
            raise EconomyError(_("%(squad)s is full (%(count)s members).") % {
                "squad": squad.name, "count": i18n.number(squad.max_members)})
        cost = 0
        dedupe = f"economy:squad:{uuid.uuid4()}"
        if membership is not None:
            cost = squad.switch_cost
            if balance.balance < cost:
                raise EconomyError(_("Switching to %(squad)s costs %(cost)s bytes; you have %(balance)s.") % {
                    "squad": squad.name, "cost": i18n.number(cost), "balance": i18n.number(balance.balance)})
            old = membership.squad
            if cost:
                BytesBalance.objects.filter(pk=balance.pk).update(
                    balance=F("balance") - cost, total_sent=F("total_sent") + cost, updated_at=timezone.now())
                with i18n.public():  # the ledger's own words: the server language, stored as written
                    bank = _("Squad switch")
                    why = _("Switched from %(old)s to %(new)s") % {"old": old.name, "new": squad.name}
                _log(guild_id, Kind.SQUAD_SWITCH, (user_id, username or str(user_id)), (SYSTEM_ID, bank), cost, why,
                     timezone.now())
            outbox.remove_role(guild_id, user_id, old.role_id, reason=_audit(LEFT_SQUAD, squad=old.name),
                               dedupe_key=f"{dedupe}:remove", topic="economy.squad_role")
            membership.squad = squad
            membership.save(update_fields=["squad", "updated_at"])
        else:
            SquadMembership.objects.create(guild_id=guild_id, user_id=user_id, squad=squad)
        _welcome(squad, user_id, dedupe)
    return squad, cost


def leave_squad(guild_id: int, user_id: int) -> Squad:
    """Leave the current squad (free); its role is removed through the outbox."""
    user_id = _check_member_id(user_id)
    with transaction.atomic():
        membership = (SquadMembership.objects.select_for_update().select_related("squad")
                      .filter(guild_id=guild_id, user_id=user_id).first())
        if membership is None:
            raise EconomyError(_("You are not in a squad."))
        squad = membership.squad
        membership.delete()
        outbox.remove_role(guild_id, user_id, squad.role_id, reason=_audit(LEFT_SQUAD, squad=squad.name),
                           dedupe_key=f"economy:squad:{uuid.uuid4()}:remove", topic="economy.squad_role")
    return squad


def _join_default_squad(guild_id: int, user_id: int) -> Squad | None:
    """Inside award_daily (balance already locked): place a squad-less member in the default
    squad unless it is full or closed."""
    if SquadMembership.objects.filter(guild_id=guild_id, user_id=user_id).exists():
        return None
    squad = Squad.objects.select_for_update().filter(guild_id=guild_id, is_default=True, is_active=True).first()
    if squad is None or (squad.max_members is not None and squad.memberships.count() >= squad.max_members):
        return None
    SquadMembership.objects.create(guild_id=guild_id, user_id=user_id, squad=squad)
    _welcome(squad, user_id, f"economy:squad:default:{guild_id}:{user_id}:{squad.pk}")
    return squad


# -- moderation ------------------------------------------------------------------------------
def moderation_dm(action: str, expires_at: dt.datetime | None, reason: str) -> str:
    """The DM a member gets for a moderation action, in the active language."""
    if expires_at:
        until = outbox.discord_timestamp(expires_at, "F")
        text = {"timeout": _("You were timed out until %(until)s. Reason: %(reason)s"),
                "ban": _("You were banned until %(until)s. Reason: %(reason)s")}.get(action)
        if text:
            return text % {"until": until, "reason": reason}
    text = {"warn": _("You were warned. Reason: %(reason)s"), "timeout": _("You were timed out. Reason: %(reason)s"),
            "kick": _("You were kicked. Reason: %(reason)s"), "ban": _("You were banned. Reason: %(reason)s")}[action]
    return text % {"reason": reason}


def open_case(guild_id: int, user_id: int, user_tag: str, moderator_id: int, moderator_tag: str, action: str,
              reason: str, *, duration_minutes: int | None = None, channel_id: int | None = None,
              message_id: int | None = None, rule: AutoModRule | None = None,
              delete_message: bool = False) -> ModerationCase:
    """Record a moderation case and queue its Discord effect (DM, timeout, kick, ban, delete).

    With a ``message_id`` the call is idempotent: one case per offending message.
    """
    if action not in ModerationAction.values:
        raise EconomyError(_("Unknown moderation action %(action)s.") % {"action": repr(action)})
    reason = (reason or "").strip()
    if not reason:
        raise EconomyError(_("A moderation case needs a reason."))
    if len(reason) > 500:
        raise EconomyError(_("The reason is limited to %(count)s characters.") % {"count": i18n.number(500)})
    expires_at = None
    if action == ModerationAction.TIMEOUT:
        if not duration_minutes or not 1 <= int(duration_minutes) <= MAX_TIMEOUT_MINUTES:
            raise EconomyError(_("A timeout lasts 1 to %(most)s minutes.") % {"most": i18n.number(MAX_TIMEOUT_MINUTES)})
        expires_at = timezone.now() + dt.timedelta(minutes=int(duration_minutes))
    if (action == ModerationAction.DELETE or delete_message) and not (channel_id and message_id):
        raise EconomyError(_("Deleting needs the message's channel and id."))
    with transaction.atomic():
        if message_id:
            existing = ModerationCase.objects.filter(guild_id=guild_id, message_id=message_id).first()
            if existing is not None:
                return existing
        case = ModerationCase.objects.create(
            guild_id=guild_id, user_id=user_id, user_tag=user_tag[:100], moderator_id=moderator_id,
            moderator_tag=moderator_tag[:100], action=action, reason=reason, expires_at=expires_at,
            channel_id=channel_id, message_id=message_id, rule=rule,
        )
        key = f"economy:case:{case.pk}"
        audit = _audit(CASE_AUDIT, case=str(case.pk)[:8], reason=reason)
        if action == ModerationAction.DELETE or delete_message:
            outbox.delete_message(channel_id, message_id, reason=audit, dedupe_key=f"{key}:delete",
                                  topic="economy.moderation")
        if action != ModerationAction.DELETE:
            with i18n.for_member(user_id):  # a DM: the member's last-seen language
                outbox.send_dm(user_id, content=moderation_dm(action, expires_at, reason)[:2000],
                               dedupe_key=f"{key}:dm", topic="economy.moderation_dm")
        if action == ModerationAction.TIMEOUT:
            outbox.timeout_member(guild_id, user_id, expires_at, reason=audit, dedupe_key=f"{key}:timeout",
                                  topic="economy.moderation")
        elif action == ModerationAction.KICK:
            outbox.kick_member(guild_id, user_id, reason=audit, dedupe_key=f"{key}:kick", topic="economy.moderation")
        elif action == ModerationAction.BAN:
            outbox.ban_member(guild_id, user_id, reason=audit, dedupe_key=f"{key}:ban", topic="economy.moderation")
    return case


def resolve_case(case_id: str | uuid.UUID, resolved_by: str) -> ModerationCase:
    """Close a case; an unexpired timeout is lifted in Discord."""
    with transaction.atomic():
        case = ModerationCase.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise EconomyError(_("That case does not exist."))
        if case.resolved:
            raise EconomyError(_("That case is already resolved."))
        now = timezone.now()
        case.resolved, case.resolved_at, case.resolved_by = True, now, (resolved_by or "")[:100]
        case.save(update_fields=["resolved", "resolved_at", "resolved_by", "updated_at"])
        if case.action == ModerationAction.TIMEOUT and case.expires_at and case.expires_at > now:
            outbox.enqueue(OutboxMessage.Kind.TIMEOUT_MEMBER, guild_id=case.guild_id, user_id=case.user_id,
                           payload={"until": None, "reason": _audit(CASE_RESOLVED_AUDIT, case=str(case.pk)[:8])},
                           dedupe_key=f"economy:case:{case.pk}:lift", topic="economy.moderation")
    return case


def list_cases(guild_id: int, user_id: int | None = None, *, open_only: bool = False,
               limit: int = 25) -> list[ModerationCase]:
    query = ModerationCase.objects.filter(guild_id=guild_id)
    if user_id is not None:
        query = query.filter(user_id=user_id)
    if open_only:
        query = query.filter(resolved=False)
    return list(query.order_by("-created_at")[:limit])


def expire_cases(now: dt.datetime | None = None) -> int:
    """Resolve timeouts whose time is up. One conditional UPDATE: two workers never resolve
    the same case twice, and Discord ends the timeout itself."""
    now = now or timezone.now()
    with transaction.atomic():
        return expired_cases(now).update(resolved=True, resolved_at=now, resolved_by="expired", updated_at=now)


def expired_cases(now: dt.datetime | None = None) -> QuerySet[ModerationCase]:
    return ModerationCase.objects.filter(resolved=False, expires_at__isnull=False, expires_at__lte=now or timezone.now())


# -- auto-moderation -------------------------------------------------------------------------
@dataclass(frozen=True)
class AutoModMatch:
    rule_id: uuid.UUID
    rule_type: str
    action: str
    reason: str
    timeout_minutes: int


def _match(rule: AutoModRule, *, author_roles: list[int], channel_id: int | None, content: str,
           mentions: list[int], recent) -> AutoModMatch | None:
    if automod.is_exempt(rule.exempt_role_ids, rule.exempt_channel_ids, author_roles, channel_id):
        return None
    reason = automod.match_rule(rule.rule_type, rule.config, content=content, mentions=mentions,
                                recent_messages=recent)
    if reason is None:
        return None
    return AutoModMatch(rule.pk, rule.rule_type, rule.action, reason, rule.timeout_minutes)


def evaluate_message(guild_id: int, author_id: int, author_roles: list[int], channel_id: int, content: str,
                     mentions: list[int], sent_at: dt.datetime) -> AutoModMatch | None:
    """The first active rule (by priority) the message breaks, or None. Reads only; the
    message is counted in the spam window whatever the outcome."""
    key = (int(guild_id), int(author_id))
    automod.SPAM_WINDOW.record(key, sent_at)
    rules = AutoModRule.objects.filter(guild_id=guild_id, is_active=True).order_by("priority", "created_at")
    for rule in rules:
        with i18n.public():  # the reason becomes the case's record: the server language
            found = _match(rule, author_roles=author_roles, channel_id=channel_id, content=content,
                           mentions=mentions, recent=lambda seconds: automod.SPAM_WINDOW.count(key, sent_at, seconds))
        if found is not None:
            return found
    return None


def dry_run_rule(rule: AutoModRule, content: str, *, author_roles: list[int] | None = None,
              channel_id: int | None = None, mentions: list[int] | None = None,
              recent_messages: int = 1) -> AutoModMatch | None:
    """What the rule says about one message (the admin's "test this rule" form)."""
    try:
        config = automod.validate_rule(rule.rule_type, rule.config, rule.exempt_role_ids, rule.exempt_channel_ids)
    except ValueError as exc:
        raise EconomyError(_("The rule is invalid: %(error)s") % {"error": exc}) from None
    probe = AutoModRule(pk=rule.pk, rule_type=rule.rule_type, config=config, action=rule.action,
                        timeout_minutes=rule.timeout_minutes, exempt_role_ids=rule.exempt_role_ids,
                        exempt_channel_ids=rule.exempt_channel_ids)
    return _match(probe, author_roles=author_roles or [], channel_id=channel_id, content=content,
                  mentions=mentions or [], recent=lambda seconds: recent_messages)



def apply_automod_action(guild_id: int, author_id: int, author_tag: str, channel_id: int, message_id: int,
                         match: AutoModMatch) -> ModerationCase:
    """Act on a match: the offending message is deleted and the rule's action queued, with a
    case opened for it (idempotent per message)."""
    rule = AutoModRule.objects.filter(pk=match.rule_id).first()
    with i18n.public():  # the case's record (and the member's DM quotes it): the server language
        reason = _("AutoMod: %(reason)s") % {"reason": match.reason}
    return open_case(guild_id, author_id, author_tag, AUTOMOD_ID, AUTOMOD_TAG, match.action,
                     reason, duration_minutes=match.timeout_minutes, channel_id=channel_id,
                     message_id=message_id, rule=rule, delete_message=True)
