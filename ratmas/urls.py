"""API routes of the ratmas app, mounted under /api/ by config/urls.py.

Ratmas has no REST API (the issue asks for none): members use /ratmas in Discord and
organisers the admin. The module stays so the project's URL wiring is uniform.
"""

urlpatterns: list = []
