"""``/calendar show|rotate|revoke`` through ``manage.py runbot`` and the fake gateway: every answer
private; the first ``show`` makes the member's feed, ``rotate`` replaces its link and ``revoke``
switches it off (issue 26)."""

from __future__ import annotations

import re

import pytest

from tests.bot.conftest import People

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = re.compile(r"<(\S+/calendar/(\S+)\.ics)>")


def test_show_rotate_revoke(bot):
    from members import services
    from members.models import CalendarToken

    gw, alice = bot.gateway, People.alice

    first = bot.ask(gw.slash("calendar show", member=alice))
    assert first.ephemeral and first.text.startswith("📅 **Your calendar feed**"), first
    token = URL.search(first.text).group(2)
    assert services.resolve(token).discord_user_id == alice.id

    again = bot.ask(gw.slash("calendar show", member=alice))
    assert again.ephemeral and "cannot show it again" in again.text and token not in again.text, again

    rotated = bot.ask(gw.slash("calendar rotate", member=alice))
    assert rotated.ephemeral and "the old link no longer works" in rotated.text, rotated
    new_token = URL.search(rotated.text).group(2)
    assert new_token != token
    assert services.resolve(new_token).discord_user_id == alice.id and services.resolve(token) is None

    revoked = bot.ask(gw.slash("calendar revoke", member=alice))
    assert revoked.ephemeral and revoked.text.startswith("🗑️ Your calendar feed is switched off"), revoked
    assert not CalendarToken.objects.filter(discord_user_id=alice.id).exists()
