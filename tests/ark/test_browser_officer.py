"""An Ark officer's first hour in a real browser (Playwright + Debian's Chromium, 1440×900),
on the run command's demo data, signed in as a member of the "Ark officers" group (not a
superuser): create the next matches from the calendar, add a match by picking a weekend and a
slot, pick a match by name, mark attendance on the match page, follow the no-show rule's
suggested ban (pickers filled by name) through its confirmation, and lock a match. Every step
asserts its outcome; screenshots go to the test's tmp dir (``ark-officer-*.png``)."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from guildsync.services.reference import load_reference_data

PASSWORD = "ark-officer-pass-1"
BARE_ID = re.compile(r"\b\d{17,20}\b")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ark_officers_first_hour(admin_login, live_server, django_user_model, settings, tmp_path):
    from ark.models import Alliance, Ban, Match, Signup

    settings.DISCORD_TOKEN = ""
    load_reference_data()  # a transactional test before this one flushed the migrations' reference data
    call_command("seed_demo", stdout=io.StringIO())
    Alliance.objects.filter(name="Desert Lions").update(no_show_threshold=1)  # one no-show suggests a ban
    user = django_user_model.objects.create_user("ark_chief", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Ark officers"))
    page = admin_login("ark_chief", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    base = f"{live_server.url}/admin/ark"
    shots = []

    def shot(name: str) -> None:
        path = tmp_path / f"ark-officer-{len(shots) + 1}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    def messages() -> str:
        page.locator("ul.messagelist li").first.wait_for()
        return page.inner_text("ul.messagelist")

    def no_bare_ids() -> None:
        text = page.inner_text("#content")
        assert not BARE_ID.search(text), BARE_ID.search(text).group(0)

    # 1. the calendar: "Create the next matches" shows what it would create, then creates it
    page.goto(f"{base}/arkcalendar/")
    with page.expect_navigation():
        page.click("text=Create the next matches")
    preview = page.inner_text("#create-next-matches")
    assert "Nothing has changed yet." in preview and "Osiris Vanguard" in preview, preview
    assert "Desert Lions: no enabled Ark calendar" in preview
    before = Match.objects.count()
    shot("create-next-preview")
    assert Match.objects.count() == before  # looking creates nothing
    with page.expect_navigation():
        page.click("#create-next-submit")
    text = messages()
    created = Match.objects.filter(alliance__name="Osiris Vanguard").order_by("-pk").first()
    assert Match.objects.count() == before + 1
    assert f"Created {created}: signups close" in text and "queued for #ark-osiris-signups" in text, text
    shot("create-next-done")

    # 2. add a match: the alliance by name, an Ark weekend and a calendar slot from lists
    page.goto(f"{base}/match/add/")
    assert page.locator("#id_match_time_utc_0").count() == 0  # nothing typed by hand
    taken = set(Match.objects.filter(alliance__name="Osiris Vanguard").values_list("ark_weekend_date", flat=True))
    weekend = next(v for v in page.eval_on_selector_all("#id_weekend option", "os => os.map(o => o.value)")
                   if v and v not in {d.isoformat() for d in taken})
    page.click("#id_alliance + .select2")
    page.fill(".select2-search__field", "Desert")
    page.click(".select2-results__option:has-text('Desert Lions')")
    page.select_option("#id_weekend", weekend)
    page.select_option("#id_slot", "Sat 20:00")
    with page.expect_navigation():
        page.click("input[name=_save]")
    refusal = page.inner_text(".errornote, .errorlist")
    assert "Desert Lions has no Ark calendar yet" in page.inner_text("#content"), refusal  # a plain refusal
    shot("add-match-refused")
    page.click("#id_alliance + .select2")
    page.fill(".select2-search__field", "Osiris")
    page.click(".select2-results__option:has-text('Osiris Vanguard')")
    page.select_option("#id_weekend", weekend)
    page.select_option("#id_slot", "Sat 20:00")
    with page.expect_navigation():
        page.click("input[name=_save]")
    added = Match.objects.get(alliance__name="Osiris Vanguard", ark_weekend_date=weekend)
    assert added.match_time_utc.hour == 20 and added.signup_close_utc < added.match_time_utc
    assert f"Created {added}: signups close" in messages()
    assert "Saturday 20:00 UTC, Osiris Vanguard" in str(added)
    shot("add-match-done")

    # 3. a match is picked by name (the draft constraint form's match picker)
    page.goto(f"{base}/draftconstraint/add/")
    page.click("#id_match + .select2")
    page.fill(".select2-search__field", "Desert")
    page.locator(".select2-results__option:has-text('Desert Lions')").first.wait_for()
    options = page.inner_text(".select2-results")
    assert "UTC, Desert Lions" in options and "Match object" not in options and "#" not in options, options
    shot("match-picker")
    page.keyboard.press("Escape")

    # 4. attendance on the match page: the Desert Lions match that started last weekend
    played = Match.objects.filter(alliance__name="Desert Lions", result="", status="Locked",
                                  match_time_utc__lte=created.match_time_utc).order_by("match_time_utc").first()
    page.goto(f"{base}/match/{played.pk}/change/")
    sheet = page.locator("#attendance-sheet")
    assert "Not marked: 4" in sheet.inner_text()
    roster = list(Signup.objects.filter(match=played).select_related("governor").order_by("pk"))
    for s in roster:
        sheet.locator(f"select[name=attendance-{s.pk}]").select_option("no_show" if s.governor.name == "Seti" else "played")
    no_bare_ids()
    shot("attendance-marking")
    with page.expect_navigation():
        page.click("#attendance-submit")
    text = messages()
    assert "Seti no-show" in text and "Now 3 played, 1 no-show, 0 excused, 0 not marked." in text, text
    totals = page.inner_text("#attendance-totals")
    assert "Played: 3" in totals and "No-show: 1" in totals and "Not marked: 0" in totals, totals
    assert sorted(Signup.objects.filter(match=played).values_list("attendance", flat=True)) == [
        "no_show", "played", "played", "played"]
    shot("attendance-saved")

    # 5. the no-show rule suggests a ban: the form's pickers are filled by name, then it confirms first
    with page.expect_navigation():
        page.locator("#attendance-sheet tr[data-governor='Seti'] a.suggest-ban").click()
    assert page.inner_text("#select2-id_member-container").strip().lstrip("×").strip() == "Seti"
    assert "Seti (51234010)" in page.inner_text("#select2-id_governor-container")
    assert page.input_value("#id_discord_user_id") == "" and page.input_value("#id_governor_id") == ""
    assert "1 no-show in the last 5 Ark matches (Desert Lions)" in page.input_value("#id_reason")
    shot("ban-form-prefilled")
    with page.expect_navigation():
        page.click("input[name=_save]")
    confirm = page.inner_text("#confirm-ban")
    assert "Nothing has changed yet." in confirm and "Seti and governor Seti (51234010)" in confirm, confirm
    assert "Nobody is messaged" in confirm
    assert not Ban.objects.filter(governor_id=51234010).exists()  # the confirmation page changes nothing
    no_bare_ids()
    shot("ban-confirm")
    with page.expect_navigation():
        page.click("#confirm-ban input[name=confirmed]")
    assert "Banned Seti and governor Seti (51234010) for the Ark weekends from" in messages()
    assert Ban.objects.filter(governor_id=51234010, revoked_at__isnull=True).count() == 1
    no_bare_ids()
    shot("ban-done")

    # 6. lock the open match: confirmation naming the members, then a message saying what changed
    open_match = Match.objects.filter(alliance__name="Osiris Vanguard", status="Scheduled").order_by(
        "match_time_utc").first()
    players = Signup.objects.filter(match=open_match, status="Active", slot="Player").count()
    page.goto(f"{base}/match/")
    page.locator(f'input.action-select[value="{open_match.pk}"]').check()
    page.select_option("select[name=action]", "lock")
    with page.expect_navigation():
        page.click("button[name=index]")
    assert "Nothing has changed yet." in page.inner_text("#confirm-action")
    with page.expect_navigation():
        page.click("#confirm-action input[name=confirmed]")
    text = messages()
    assert f"Locked {open_match}: {players} players, 0 substitutes; signups are closed" in text, text
    assert "#ark-osiris-roster" in text
    no_bare_ids()
    shot("locked")
    assert len(shots) == 11 and all(p.stat().st_size > 10_000 for p in shots)
