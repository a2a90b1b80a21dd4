"""``economy_transfer()``: the whole transfer in one statement on PostgreSQL.

``economy.services.transfer`` calls it (one round trip); other databases run the same steps
from Python (``services._transfer_steps``). It locks both balance rows in user-id order, reads
the guild's config, checks max transfer / cooldown / funds, moves the bytes and logs the row,
and answers a status the service turns into the matching ``EconomyError``.

With ``p_inline_rewards`` false (the caller is not inside a transaction) it refuses with
status ``reward`` when the receiver may have reached a role reward not granted yet: the
service then redoes the transfer inside ``transaction.atomic()`` and grants the reward in the
same transaction. Thresholds or role ids that are not plain numbers never trigger here
(``parse_role_rewards`` decides in Python).
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION economy_transfer(
    p_guild bigint, p_giver bigint, p_giver_name varchar, p_receiver bigint, p_receiver_name varchar,
    p_amount bigint, p_reason text, p_id uuid, p_now timestamptz, p_default_max integer,
    p_default_cooldown integer, p_inline_rewards boolean,
    OUT o_status text, OUT o_giver_balance integer, OUT o_max_transfer integer, OUT o_ready_at timestamptz,
    OUT o_receiver_total integer, OUT o_role_rewards jsonb)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    found_rows integer := 0;
    giver_last timestamptz;
    receiver_total integer;
    cooldown integer;
BEGIN
    -- both rows locked in user-id order: opposite transfers queue, they cannot deadlock
    FOR r IN SELECT b.user_id, b.balance, b.total_received, b.last_transfer_at FROM economy_bytesbalance b
             WHERE b.guild_id = p_guild AND b.user_id IN (p_giver, p_receiver) ORDER BY b.user_id FOR UPDATE
    LOOP
        found_rows := found_rows + 1;
        IF r.user_id = p_giver THEN
            o_giver_balance := r.balance;
            giver_last := r.last_transfer_at;
        ELSE
            receiver_total := r.total_received;
        END IF;
    END LOOP;
    IF found_rows < 2 THEN
        o_status := 'missing';
        RETURN;
    END IF;
    SELECT c.max_transfer, c.transfer_cooldown_hours, c.role_rewards INTO o_max_transfer, cooldown, o_role_rewards
        FROM economy_bytesconfig c WHERE c.guild_id = p_guild;
    IF NOT FOUND THEN
        o_max_transfer := p_default_max;
        cooldown := p_default_cooldown;
    END IF;
    IF p_amount > o_max_transfer THEN
        o_status := 'max';
        RETURN;
    END IF;
    IF cooldown > 0 AND giver_last IS NOT NULL THEN
        o_ready_at := giver_last + make_interval(hours => cooldown);
        IF p_now < o_ready_at THEN
            o_status := 'cooldown';
            RETURN;
        END IF;
    END IF;
    IF o_giver_balance < p_amount THEN
        o_status := 'funds';
        RETURN;
    END IF;
    o_receiver_total := receiver_total + p_amount;
    IF NOT p_inline_rewards AND jsonb_typeof(o_role_rewards) = 'object' AND EXISTS (
        SELECT 1 FROM jsonb_each_text(o_role_rewards) AS reward(role_id, threshold)
        WHERE reward.role_id ~ '^[0-9]{1,19}$' AND reward.threshold ~ '^[0-9]{1,18}$'
          AND o_receiver_total >= reward.threshold::bigint
          AND NOT EXISTS (SELECT 1 FROM economy_rolerewardgrant g WHERE g.guild_id = p_guild
                          AND g.user_id = p_receiver AND g.role_id = reward.role_id::numeric))
    THEN
        o_status := 'reward';
        RETURN;
    END IF;
    UPDATE economy_bytesbalance SET
        balance = balance + CASE WHEN user_id = p_giver THEN -p_amount ELSE p_amount END,
        total_sent = total_sent + CASE WHEN user_id = p_giver THEN p_amount ELSE 0 END,
        total_received = total_received + CASE WHEN user_id = p_giver THEN 0 ELSE p_amount END,
        last_transfer_at = CASE WHEN user_id = p_giver THEN p_now ELSE last_transfer_at END,
        updated_at = p_now
    WHERE guild_id = p_guild AND user_id IN (p_giver, p_receiver);
    INSERT INTO economy_bytestransaction (id, guild_id, kind, giver_id, giver_username, receiver_id,
                                          receiver_username, amount, reason, created_at)
    VALUES (p_id, p_guild, 'transfer', p_giver, p_giver_name, p_receiver, p_receiver_name, p_amount, p_reason,
            p_now);
    o_giver_balance := o_giver_balance - p_amount;
    o_status := 'ok';
END
$fn$;
"""

DROP = ("DROP FUNCTION IF EXISTS economy_transfer(bigint, bigint, varchar, bigint, varchar, bigint, text, uuid, "
        "timestamptz, integer, integer, boolean)")


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("economy", "0002_squad_name_unique"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
