"""Talking to the Bot Connector: one attempt per call, a bounded wait, refusals read once.

botbuilder's HTTP client (msrest over requests/urllib3) retries on its own: up to three times,
sleeping out a Retry-After inside a worker thread, for PUT but not POST, and waits up to 100 s
for an answer. Retrying is the outbox's job (it honours Retry-After on a clock tests can move,
and survives restarts), so every connector client we use makes exactly one attempt and gives up
after TIMEOUT; its refusals become the outbox's RetryLater or Undeliverable.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory
from msrest.exceptions import ClientRequestError, HttpOperationError
from urllib3.util.retry import Retry

from adapters.delivery import RetryLater, Undeliverable

log = logging.getLogger(__name__)

# (connect, read) seconds. Well inside the outbox lease (60 s), so a hung call ends before
# another worker may claim the message; the connector normally answers in well under a second.
TIMEOUT: tuple[float, float] = (5.0, 15.0)

# Throttled (429), "try again" (412, 408), our token refused (401: it may be refreshed) and every
# server error: the connector may take the message later. Other 4xx will never change.
RETRYABLE = frozenset({401, 408, 412, 429})

ConnectorError = (HttpOperationError, ClientRequestError)


def one_attempt(client: ConnectorClient, timeout: tuple[float, float]) -> ConnectorClient:
    """Make `client` send each request once and wait at most `timeout` for its answer."""
    # msrest gave this very Retry object to the requests session it made with the client, so
    # it is changed in place: a replacement would not reach that session.
    retry: Retry = client.config.retry_policy.policy
    retry.total = retry.connect = 0
    retry.read = False  # a read timeout is raised at once
    # No status list: a 429 or 5xx comes back as a response, with its Retry-After, instead of
    # as an error that would hide both.
    retry.status_forcelist = frozenset()
    retry.backoff_factor = 0
    client.config.connection.timeout = timeout
    return client


class OneAttemptFactory(ConnectorFactory):
    """Wraps botbuilder's ConnectorFactory so that every client it makes is `one_attempt`."""

    def __init__(self, inner: ConnectorFactory, timeout: tuple[float, float] | None = None):
        self._inner = inner
        self._timeout = timeout

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        client = await self._inner.create(service_url, audience)
        # Read at call time, so a test may shorten TIMEOUT for a server it starts.
        return one_attempt(client, self._timeout or TIMEOUT)


def refusal(problem: Exception) -> RetryLater | Undeliverable:
    """What the outbox should make of a failed connector call."""
    if isinstance(problem, ClientRequestError):  # timeout, refused connection, DNS
        return RetryLater(f"Teams connector unreachable: {problem}")
    status = status_of(problem)
    reason = f"Teams connector answered {status}{_detail(problem)}"
    if status is not None and (status in RETRYABLE or status >= 500):
        return RetryLater(reason, after=retry_after(problem))
    return Undeliverable(reason)


def status_of(problem: Exception) -> int | None:
    status = getattr(getattr(problem, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def retry_after(problem: Exception) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date counted from now; None when absent."""
    headers = getattr(getattr(problem, "response", None), "headers", None) or {}
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _detail(problem: Exception) -> str:
    """The connector's own error code and message, when its body carries them."""
    response: Any = getattr(problem, "response", None)
    try:
        error = response.json().get("error") or {}
    except Exception:
        return ""
    code, message = error.get("code"), error.get("message")
    return f" ({code}: {message})" if code or message else ""
