"""API routes of the ark app, mounted under /api/ by config/urls.py. Ark has no REST API
(issue 5 asks for none): members use Discord, officers the admin."""

urlpatterns: list = []
