"""Bearer-token protection for the REST API (SPEC §5: unset token → reads only)."""

from __future__ import annotations

import hmac
import json

from aiohttp import web

READS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_token(request: web.Request, token: str | None) -> None:
    """Raise 401/403 as JSON unless the request may go ahead."""
    if token is None:
        if request.method not in READS:
            raise problem(403, "the REST API is read-only until RELEASEBOT_API_TOKEN is set")
        return
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not same_secret(value, token):
        raise problem(401, "a valid bearer token is required", bearer=True)


def same_secret(given: str | None, expected: str) -> bool:
    """Whether `given` is `expected`, compared in constant time.

    aiohttp hands over undecodable header and cookie bytes as surrogates: they are compared
    as the bytes that came (never equal to a real secret) rather than failing to encode.
    """
    if given is None:
        return False
    return hmac.compare_digest(_raw(given), _raw(expected))


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    500: web.HTTPInternalServerError,
}


def problem(status: int, message: str, *, bearer: bool = False) -> web.HTTPException:
    """An HTTP error whose body is `{"error": message}`."""
    headers = {"WWW-Authenticate": 'Bearer realm="releasebot"'} if bearer else None
    body = json.dumps({"error": message})
    return ERRORS[status](text=body, content_type="application/json", headers=headers)
