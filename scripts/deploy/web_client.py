"""Plain-HTTP requests to the web container as a reverse proxy would send them.

Cookies are kept by hand: the production session and CSRF cookies are ``Secure``, which a
client's cookie jar never sends over ``http://``; the reverse proxy in front of the web passes
them through, and so does this client."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: str

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Client:
    port: int
    host: str  # the Host header: a name in ALLOWED_HOSTS
    proxied: bool = True  # send X-Forwarded-Proto: https, like the TLS proxy
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, form: dict | None = None, headers: dict | None = None,
                proxied: bool | None = None, timeout: float = 20) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"Host": self.host, **(headers or {})}
        if self.proxied if proxied is None else proxied:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
            set_cookies = raw.headers.get_all("Set-Cookie") or []
            for cookie in set_cookies:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Answer(raw.status, {k.lower(): v for k, v in raw.headers.items()}, set_cookies, text)
        finally:
            conn.close()

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def sign_in(self, username: str, password: str) -> Answer:
        """The admin's login form, as a browser behind the proxy submits it."""
        page = self.get("/admin/login/?next=/admin/")
        if page.status != 200:
            raise AssertionError(f"GET /admin/login/ answered {page.status}: {page.body[:300]}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if not token:
            raise AssertionError("the login page has no CSRF token")
        origin = f"https://{self.host}"
        return self.request("POST", "/admin/login/?next=/admin/", form={
            "csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": "/admin/"},
            headers={"Referer": f"{origin}/admin/login/", "Origin": origin})
