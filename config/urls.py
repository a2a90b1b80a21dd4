"""URL wiring only: each app's routes live in its own ``urls.py``."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.errors import api_not_found
from core.views import healthz, healthz_deep, metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/deep", healthz_deep, name="healthz-deep"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),  # Sign in with Discord (and the connect page)
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("guildsync.urls")),
    path("api/", include("raids.urls")),
    path("api/", include("ark.urls")),
    path("api/", include("ratmas.urls")),
    path("api/", include("economy.urls")),
    path("", include("members.urls")),  # /calendar/<token>.ics and the public feeds
    re_path(r"^api/", api_not_found),  # last: an unknown API path is a JSON 404, never an HTML page
]
