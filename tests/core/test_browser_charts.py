"""Charts that read in both themes: every text of the admin's SVG charts (the Bytes leaderboard,
the raid attendance trend, the roster composition) has a contrast of at least 4.5:1 (WCAG AA)
against the page behind it, with the light theme and with the dark one (the OS setting and the
admin's theme toggle alike), measured in Chromium on the demo data."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The colour of each chart text and of the first opaque background behind it, as Chromium
# computed them; then WCAG's relative luminance and contrast ratio.
MEASURE = """(selector) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const svg = document.querySelector(selector);
  return [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim()).map((t) => {
    const fg = rgb(getComputedStyle(t).fill).slice(0, 3), bg = background(svg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return {text: t.textContent.trim(), fg, bg, ratio: (a + 0.05) / (b + 0.05)};
  });
}"""


def _chart_urls() -> dict[str, str]:
    from django.urls import reverse

    from raids.models import RaidSeason

    season = RaidSeason.objects.order_by("-pk").first()
    return {reverse("admin:economy_bytesbalance_leaderboard"): "#leaderboard-chart",
            reverse("admin:raids_raidseason_attendance", args=[season.pk]): "#attendance-chart",
            reverse("admin:guildsync_wowcharacter_composition"): "svg.gs-chart"}


@pytest.mark.parametrize("theme", ["light", "dark", "dark-toggle"])
def test_chart_text_contrast_in_both_themes(theme, admin_login, browser_page, live_server, django_user_model):
    from guildsync.services.reference import load_reference_data

    load_reference_data()  # a transactional test before this one flushed the migrations' reference data
    call_command("seed_demo", stdout=io.StringIO())
    django_user_model.objects.create_superuser("chartreader", "c@example.org", "chart-reader-pass-1")
    browser_page.emulate_media(color_scheme="light" if theme == "dark-toggle" else theme)
    page = admin_login("chartreader", "chart-reader-pass-1")
    if theme == "dark-toggle":  # the admin's own toggle: stored in localStorage, applied as data-theme
        page.evaluate("localStorage.setItem('theme', 'dark')")
    measured = 0
    for url, selector in _chart_urls().items():
        page.goto(f"{live_server.url}{url}")
        if theme == "dark-toggle":
            assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        texts = page.evaluate(MEASURE, selector)
        assert texts, f"{url}: no chart text"
        if theme != "light":
            assert sum(texts[0]["bg"]) < 150, f"{url}: the page is not dark ({texts[0]['bg']})"
        poor = [t for t in texts if t["ratio"] < 4.5]
        assert not poor, f"{url} ({theme}): " + "; ".join(
            f"{t['text']!r} {t['fg']} on {t['bg']} = {t['ratio']:.2f}" for t in poor[:5])
        measured += len(texts)
    assert measured >= 10
