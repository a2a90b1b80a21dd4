"""API routes of the ark app, mounted under /api/ by config/urls.py."""

urlpatterns: list = []
