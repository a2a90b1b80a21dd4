"""The right columns on screen (issue 24): at 1440×900 and at 1280×800, the columns officers
came for are visible without scrolling sideways, on the run command's demo data, measured in
Chromium: each named column header lies inside the window and inside its table's visible box
(Django wraps changelists in a box that scrolls sideways)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The page, then the headers that must be on screen (their visible text).
PAGES = {
    "season report": (lambda: reverse("admin:raids_raidseason_attendance", args=[_season()]),
                      "#attendance-table", ["Attendance %", "No-show"]),
    "Ark signups": (lambda: reverse("admin:ark_signup_changelist"), "#result_list",
                    ["Member", "Team", "Attendance", "Power"]),
    "Ark bans": (lambda: reverse("admin:ark_ban_changelist"), "#result_list", ["Reason"]),
    "raid sign-ups": (lambda: reverse("admin:raids_raidattendance_changelist"), "#result_list",
                      ["Source", "Sign-up push"]),
}

MEASURE = """([table, wanted]) => {
  const t = document.querySelector(table);
  if (!t) return wanted.map((label) => ({label, found: false}));
  const box = (t.closest('.results') || t.parentElement).getBoundingClientRect();
  const right = Math.min(window.innerWidth, box.right);
  const heads = [...t.querySelectorAll('thead th')];
  return wanted.map((label) => {
    const th = heads.find((h) => h.innerText.trim().replace(/[▲▼]/g, '').trim().toLowerCase() === label.toLowerCase());
    if (!th) return {label, found: false};
    const r = th.getBoundingClientRect();
    return {label, found: true, left: r.left, right: r.right, limit: right};
  });
}"""


def _season() -> int:
    from raids.models import RaidSeason

    return RaidSeason.objects.order_by("-pk").values_list("pk", flat=True).first()


@pytest.mark.parametrize("viewport", [(1440, 900), (1280, 800)], ids=["1440x900", "1280x800"])
def test_key_columns_are_on_screen(viewport, browser_page, admin_login, live_server, django_user_model):
    from guildsync.services.reference import load_reference_data

    load_reference_data()  # a transactional test before this one flushed the migrations' reference data
    call_command("seed_demo", stdout=io.StringIO())
    django_user_model.objects.create_superuser("columns", "c@example.org", "columns-pass-1")
    browser_page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page = admin_login("columns", "columns-pass-1")
    hidden = []
    for name, (url, table, wanted) in PAGES.items():
        page.goto(f"{live_server.url}{url()}")
        for column in page.evaluate(MEASURE, [table, wanted]):
            if not column["found"]:
                hidden.append(f"{name}: no column {column['label']!r}")
            elif column["right"] > column["limit"] + 1:
                hidden.append(f"{name}: {column['label']!r} ends at {column['right']:.0f} px, "
                              f"past {column['limit']:.0f} px")
    assert not hidden, "\n".join(hidden)
