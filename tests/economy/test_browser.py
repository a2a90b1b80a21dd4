"""One officer workflow in a real browser: adjust a member's balance from the admin."""

from __future__ import annotations

import pytest

from economy.models import BytesTransaction
from tests.economy.conftest import ALICE, BOB, balance_of, make_balance
from tests.factories import bytes_config


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_adjusts_a_balance_in_the_browser(live_server, admin_login, officer):
    bytes_config()
    target = make_balance(ALICE, 120)
    make_balance(BOB, 300)
    user = officer("Economy moderators")
    page = admin_login(user.username, "officer-pass-123")
    page.goto(f"{live_server.url}/admin/economy/bytesbalance/")
    page.check(f"input[name=_selected_action][value='{target.pk}']")
    page.select_option("select[name=action]", "adjust_balance")
    page.click("button[name=index]")
    page.wait_for_selector("input[name=apply]")
    page.fill("#id_amount", "-45")
    page.fill("#id_reason", "Refund of a duplicated raid reward")
    page.click("input[name=apply]")
    page.wait_for_selector(".messagelist")
    assert "Adjusted 1 balance(s) by -45 bytes." in page.inner_text(".messagelist")
    assert balance_of(ALICE).balance == 75 and balance_of(BOB).balance == 300
    tx = BytesTransaction.objects.get()
    assert (tx.kind, tx.giver_id, tx.amount, tx.reason) == ("adjustment", ALICE, 45,
                                                            "Refund of a duplicated raid reward")
