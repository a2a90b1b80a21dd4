"""No bare ids: on the run command's demo data, every admin page an officer can open (the
dashboard, every changelist, add form and change page of every model, every extra officer page)
shows people, servers, channels and roles by name. A 17–20-digit number (a Discord snowflake)
may appear in visible text only inside a field or column whose label says it is an id.

Visible text: the HTML's text nodes (not scripts, styles or attributes such as the ``title``
that carries the id on hover), the values of visible inputs and the options of pickers.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

SNOWFLAKE = re.compile(r"(?<![\d.])\d{17,20}(?![\d])")
ID_LABEL = re.compile(r"\bids?\b|\bsnowflake\b", re.IGNORECASE)
SKIPPED_TAGS = {"script", "style", "head", "template", "title"}  # <title> in an SVG: the hover text
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Change pages per model: the demo holds thousands of transactions and outbox rows, all built
# by the same code; the first rows of each model, plus the last (the newest), cover every shape.
PAGES_PER_MODEL = 6


def _field_names_labelled_as_ids(html: str) -> set[str]:
    """Field/column names whose label (form row label, changelist header) says "id"."""
    names = set()
    for name, label in re.findall(r'<th[^>]*class="[^"]*\bcolumn-([\w-]+)[^"]*"[^>]*>(.*?)</th>', html, re.S):
        if ID_LABEL.search(re.sub(r"<[^>]+>", " ", label)):
            names.add(name)
    for name, label in re.findall(r'class="[^"]*\bfield-([\w-]+)[^"]*"[^>]*>\s*(?:<div[^>]*>\s*)*'
                                  r'(?:<div[^>]*>\s*)?<label[^>]*>(.*?)</label>', html, re.S):
        if ID_LABEL.search(re.sub(r"<[^>]+>", " ", label)):
            names.add(name)
    return names


class _VisibleText(HTMLParser):
    def __init__(self, id_fields: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.id_fields = id_fields
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its text)
        self.found: list[str] = []

    def _hidden(self) -> bool:
        return any(hides for _tag, hides in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        hides = tag in SKIPPED_TAGS or attrs.get("hidden") is not None or any(
            c.startswith("field-") and c[6:] in self.id_fields for c in classes)
        visible_input = tag == "input" and attrs.get("type", "text") not in (
            "hidden", "checkbox", "radio", "submit", "button", "file", "password")
        if visible_input and not self._hidden() and not hides and attrs.get("value"):
            self.found.append(attrs["value"])
        if tag not in VOID:
            self.stack.append((tag, hides))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if data.strip() and not self._hidden():
            self.found.append(data)


def bare_ids(html: str) -> list[str]:
    """The snowflakes in the page's visible text, each with the text around it."""
    parser = _VisibleText(_field_names_labelled_as_ids(html))
    parser.feed(html)
    hits = []
    for text in parser.found:
        for match in SNOWFLAKE.finditer(text):
            hits.append(" ".join(text[max(0, match.start() - 60):match.end() + 30].split()))
    return hits


def test_the_checker_finds_bare_ids_and_spares_id_fields() -> None:
    assert bare_ids("<p>Ban user 1300000000000000009</p>") == ["Ban user 1300000000000000009"]
    assert bare_ids('<span title="Discord id 1300000000000000009">Ulric</span>') == []
    assert bare_ids('<input type="text" value="900000000000100017">') == ["900000000000100017"]
    assert bare_ids('<div class="form-row field-user_id"><div><label>Discord id:</label>'
                    '<div class="readonly">900000000000100017</div></div></div>') == []
    assert bare_ids('<table><thead><tr><th class="column-message_id">Message id</th></tr></thead>'
                    '<tbody><tr><td class="field-message_id">900000000000100017</td></tr></tbody></table>') == []
    assert bare_ids("<p>Gap 12345678 and 3.45 M</p>") == []


class _Superuser:
    """Enough of a request for ``has_add_permission``: a superuser may do anything a form allows."""

    class user:  # noqa: N801
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(_perm: str, _obj=None) -> bool:
            return True


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(_Superuser()):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:PAGES_PER_MODEL])
        last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        for pk in dict.fromkeys([*pks, *([last] if last is not None else [])]):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]))
        for route, _method, suffix in getattr(model_admin, "extra_views", ()):
            if "<" in route:
                continue  # a per-row page: reached from the change page's links below
            try:
                urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{suffix}"))
            except NoReverseMatch:
                continue
    return urls


def test_no_admin_page_shows_a_bare_id_on_the_demo_data(admin_client, settings) -> None:
    settings.FIELD_ENCRYPTION_KEY = "field-encryption-key-for-tests"
    call_command("seed_demo", stdout=io.StringIO())
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    queue = _admin_urls()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = admin_client.get(url)
        assert response.status_code in (200, 302, 403, 405), (url, response.status_code)  # 405: a POST-only action
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        hits = bare_ids(html)
        if hits:
            problems[url] = hits[:5]
        # per-row officer pages linked from a changelist or a change page (a season's report, a
        # rule's test page): the model's own pages other than change, add, delete and history
        parts = url.split("/")
        if len(parts) > 4 and parts[1] == "admin":
            base = "/".join(parts[:4]) + "/"
            queue.extend(link for link in re.findall(r'href="(/admin/[^"#?]+)"', html)
                         if link.startswith(base) and link.count("/") > base.count("/") + 1
                         and not link.endswith(("/change/", "/delete/", "/history/", "/add/"))
                         and link not in seen)
    assert not problems, "\n".join(f"{url}: {hits}" for url, hits in problems.items())
