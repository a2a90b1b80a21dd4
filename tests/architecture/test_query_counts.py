"""Query counts of every admin changelist and API list, on the demo data, against a baseline
kept in ``query_baseline.json``: a change that adds queries to a page (an N+1 creeping in, a
missing ``list_select_related``) fails here and names the page.

After an intended change: ``UPDATE_QUERY_BASELINE=1 ./scripts/test.sh tests/architecture`` rewrites
the file; review its diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

BASELINE = Path(__file__).with_name("query_baseline.json")
UPDATE = os.environ.get("UPDATE_QUERY_BASELINE") == "1"


def _changelists() -> list[str]:
    return sorted(reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry)


def _api_lists() -> list[str]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sorted(path for path, operations in paths.items() if "get" in operations and "{" not in path
                  and path not in ("/api/schema/",))


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code in (200, 302), (url, response.status_code)  # 302: a singleton's change page
    return len(queries)


@pytest.mark.django_db
def test_query_counts_stay_within_the_baseline(admin_client):
    call_command("seed_demo", verbosity=0)
    admin_client.get(reverse("admin:index"))  # session and content types warmed once
    measured = {url: _count(admin_client, url) for url in _changelists() + _api_lists()}
    if UPDATE:
        BASELINE.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"baseline rewritten: {BASELINE.name}")
    baseline = json.loads(BASELINE.read_text())
    unknown = sorted(set(measured) - set(baseline))
    assert not unknown, f"pages without a baseline (UPDATE_QUERY_BASELINE=1 to record): {unknown}"
    worse = {url: f"{baseline[url]} → {n}" for url, n in measured.items() if n > baseline[url]}
    assert not worse, f"more queries than the baseline: {worse}"
