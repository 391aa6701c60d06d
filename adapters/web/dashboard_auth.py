"""Who may look at the dashboard: anyone when no API token is set, else whoever knows it.

The browser proves it once (a login form, or `?token=` in a bookmarked link) and then carries
a cookie. The cookie holds an HMAC of the token, not the token: a leaked cookie opens the
read-only dashboard but is no bearer token for the REST API.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from adapters.web.auth import same_secret

COOKIE = "releasebot_dashboard"
COOKIE_DAYS = 30
Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"releasebot dashboard session", hashlib.sha256).hexdigest()


def signed_in(request: web.Request, token: str | None) -> bool:
    if token is None:
        return True
    return same_secret(request.cookies.get(COOKIE), session_value(token))


def remember(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        session_value(token),
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.secure,
        path="/",
    )


def see_other(target: str) -> web.Response:
    return web.Response(status=303, headers={"Location": target})


def safe_next(target: str | None) -> str:
    """Only a path on this site: `//evil.example` or a full URL would send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def guarded(page: Page, token: Callable[[], str | None]) -> Page:
    """The page, once the visitor is signed in; `?token=` signs in and drops it from the URL."""

    async def guard(request: web.Request) -> web.StreamResponse:
        secret = token()
        if signed_in(request, secret):
            return await page(request)
        assert secret is not None
        if same_secret(request.query.get("token"), secret):
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            clean = request.rel_url.with_query(rest)
            response = see_other(str(clean))
            remember(response, request, secret)
            return response
        return see_other("/login?" + urlencode({"next": str(request.rel_url)}))

    return guard
