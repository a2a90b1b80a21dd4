"""Health check, API documentation and API-key authentication."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.models import APIKey

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


class WhoAmI(APIView):
    def get(self, request):
        return Response({"api_key": getattr(request.auth, "name", None), "user": str(request.user)})


urlpatterns = [path("probe", WhoAmI.as_view())]


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_503_when_broker_down(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"] == "ok" and body["broker"].startswith("down:")


def test_openapi_schema_and_offline_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()  # served from the sidecar, offline
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# API keys, their scopes and the API's permissions: tests/core/test_api_permissions.py


def test_revoked_key_is_refused(client, settings):
    settings.ROOT_URLCONF = "tests.core.test_web"
    api_key, key = APIKey.objects.create_key(name="old")
    api_key.revoked = True
    api_key.save()
    assert client.get("/probe", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 401


def test_officer_groups_hold_their_apps_permissions():
    from django.apps import apps
    from django.contrib.auth.models import Group

    from core.groups import CORE_GRANTS

    for app_config in apps.get_app_configs():
        group_name = getattr(app_config, "officer_group", None)
        if not group_name:
            continue
        group = Group.objects.get(name=group_name)
        # apps may share a group (guildsync and members: Guild officers); their permissions are the group's own
        sharing = [c for c in apps.get_app_configs() if getattr(c, "officer_group", None) == group_name]
        picked = {tuple(label.split(".")) for c in sharing for label in getattr(c, "officer_view_models", ())
                  if label.split(".")[0] not in {c.label for c in sharing}}
        foreign = set(group.permissions.exclude(content_type__app_label__in=[c.label for c in sharing])
                      .values_list("content_type__app_label", "codename"))
        # beyond its app, a group only sees the rows its forms pick from (a raid's players…), plus
        # the community-wide core permissions core.groups.CORE_GRANTS gives it (the server language)
        granted = {("core", codename) for codename in CORE_GRANTS.get(group_name, ())}
        assert foreign == {(app, f"view_{model}") for app, model in picked} | granted, (group_name, foreign)
        labels = set(group.permissions.filter(content_type__app_label=app_config.label)
                     .values_list("content_type__app_label", flat=True))
        if list(app_config.get_models()):
            assert labels == {app_config.label}


def test_admin_site_is_titled_for_officers(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200 and "Guild Ops — officers" in response.content.decode()


def test_seed_demo_is_idempotent():
    from django.apps import apps

    call_command("seed_demo", stdout=io.StringIO())
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()
              if m._meta.app_label in {"guildsync", "raids", "ark", "ratmas", "economy"}}
    call_command("seed_demo", stdout=io.StringIO())
    again = {m._meta.label: m._default_manager.count() for m in apps.get_models()
             if m._meta.app_label in {"guildsync", "raids", "ark", "ratmas", "economy"}}
    assert counts == again


def test_ensure_admin_prints_login(tmp_path, settings, django_user_model):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("Admin login: admin / ")
    password = line.rsplit(" ", 1)[-1]
    assert django_user_model.objects.get(username="admin").check_password(password)
    out2 = io.StringIO()
    call_command("ensure_admin", stdout=out2)
    assert out2.getvalue().strip() == line  # same login on every run


def test_openapi_schema_is_valid_without_warnings(tmp_path):
    """Every app's API documents itself: a warning here is an undocumented field or auth."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "ApiKeyAuth" in (tmp_path / "schema.yaml").read_text()
