"""API routes of the ratmas app, mounted under /api/ by config/urls.py."""

urlpatterns: list = []
