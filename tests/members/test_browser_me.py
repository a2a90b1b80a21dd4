"""The member's page in a real browser (Playwright + Debian's Chromium) at a phone's 390×844 and a
desktop's 1440×900: a member signs in with Discord through the fake OAuth server, with no
characters and no sign-ups at first, then with characters and governors; makes a calendar link,
saves reminder choices, opens the forget confirmation. Checked: nothing wider than the window,
every form control has a label, the keyboard reaches every control with a visible focus ring,
and the text's contrast meets WCAG AA (4.5:1).

Screenshots are written only when ``ME_SHOTS`` names a folder:
``ME_SHOTS=/tmp/me QUICK=1 ./scripts/test.sh tests/members/test_browser_me.py``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import factories as f
from tests.members.conftest import MEMBER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": (390, 844), "desktop": (1440, 900)}

AUDIT = """() => {
  const lum = (rgb) => { const c = rgb.match(/[0-9.]+/g).slice(0, 3).map((v) => { v = v / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor;
      if (b && !b.startsWith('rgba(0, 0, 0, 0)') && b !== 'transparent') return b; } return 'rgb(255, 255, 255)'; };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  const unlabeled = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((i) => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map((i) => i.name || i.id);
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  return {low, unlabeled, wide};
}"""

FOCUS = """() => { const el = document.activeElement; const s = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, text: (el.innerText || el.value || '').trim().slice(0, 40),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"""


def shot(page, name: str) -> None:
    png = page.screenshot(full_page=True)
    assert png.startswith(b"\x89PNG")
    folder = os.environ.get("ME_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.png").write_bytes(png)


def audit(page, where: str) -> None:
    found = page.evaluate(AUDIT)
    assert not found["wide"], f"{where}: the page is wider than the window"
    assert not found["unlabeled"], f"{where}: controls without a label: {found['unlabeled']}"
    assert not found["low"], f"{where}: text below 4.5:1 contrast: {found['low']}"


def keyboard_walk(page) -> list[dict]:
    """Tab through the page: every stop shows a focus ring; returns the stops."""
    page.locator("body").focus()
    stops = []
    for _ in range(30):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS)
        if stop["tag"] == "BODY" or (stops and stop == stops[0]):
            break
        assert stop["outline"], f"no visible focus on {stop}"
        stops.append(stop)
    return stops


@pytest.fixture(autouse=True)
def _reference_data() -> None:
    from guildsync.services.reference import load_reference_data

    load_reference_data()  # a transactional test before this one flushed the migrations' reference data


def browser_sign_in(page, live_server, fake) -> None:
    fake.next_member = MEMBER
    page.goto(f"{live_server.url}/me/")
    audit(page, "sign-in page")
    with page.expect_navigation(url=f"{live_server.url}/me/"):
        page.click("#me-discord-signin")
    page.wait_for_selector("#me-name")


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_member_without_anything_then_with_characters(size, browser_page, live_server, discord_oauth):
    page = browser_page
    page.set_viewport_size(dict(zip(("width", "height"), VIEWPORTS[size], strict=True)))
    browser_sign_in(page, live_server, discord_oauth)
    assert page.locator("#me-no-characters").is_visible() and page.locator("#me-no-governors").is_visible()
    assert "no calendar link" in page.inner_text("#me-calendar-state")
    audit(page, "empty page")
    shot(page, f"me-empty-{size}")
    stops = keyboard_walk(page)
    names = [s["text"] for s in stops]
    for wanted in ("Skip to content", "Sign out", "Make my calendar link", "Save reminders", "Download my data",
                   "Forget me…"):
        assert wanted in names, (wanted, names)

    # the calendar link, shown once
    with page.expect_navigation():
        page.click("#me-calendar-rotate")
    url = page.input_value("#me-calendar-url")
    assert "/calendar/" in url and url.endswith(".ics")
    # reminders: only the day-before one
    page.uncheck("#rem-checkin_12h")
    page.uncheck("#rem-4h")
    with page.expect_navigation():
        page.click("#me-reminders-save")
    assert "saved" in page.inner_text("ul.messages")
    assert not page.is_checked("#rem-4h") and page.is_checked("#rem-24h")

    # officers link characters, the member registers a governor: the page shows them
    user = f.discord_user("lunara", discord_id=MEMBER.id, display_name="Lunara")
    main = f.wow_character("Lunarah", realm_name="Twisting Nether", level=80)
    alt = f.wow_character("Moonpaw-with-a-long-name", level=71)
    f.player("Lunara", user, [main, alt], main_character=main)
    f.ark_governor(4242, "LunaGov", discord_user_id=MEMBER.id, power=12_345_678)
    page.reload()
    assert page.locator("#me-characters tbody tr").count() == 2
    assert "LunaGov" in page.inner_text("#me-governors")
    assert "Turn the feed off" in page.inner_text("body")
    audit(page, "full page")
    shot(page, f"me-full-{size}")

    with page.expect_navigation():
        page.click("#me-forget")
    assert "cannot be undone" in page.inner_text("main")
    audit(page, "forget confirmation")
    shot(page, f"me-forget-{size}")
