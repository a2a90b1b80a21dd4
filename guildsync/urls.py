"""API routes of the guildsync app, mounted under /api/ by config/urls.py."""

urlpatterns: list = []
