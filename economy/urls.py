"""API routes of the economy app, mounted under /api/ by config/urls.py."""

urlpatterns: list = []
