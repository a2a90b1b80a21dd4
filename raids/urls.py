"""API routes of the raids app, mounted under /api/ by config/urls.py."""

urlpatterns: list = []
