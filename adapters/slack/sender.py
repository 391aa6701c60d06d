"""The outbox's way into Slack: one queued message → chat.postMessage, chat.update or
chat.postEphemeral, and every failure sorted into "try again later" or "never".

The outbox worker (adapters/delivery.py) alone decides when to try again, so this client has no
retry handlers of its own: were slack-sdk to retry a 429 inside a send as well, the worker would
neither see Retry-After nor keep its per-conversation order while the SDK slept, and one queued
message could be attempted many more times than the worker's policy allows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.delivery import RetryLater, Undeliverable
from adapters.settings import SlackSettings
from adapters.slack.blocks import BlockKitError, SlackMessage, render, render_in_place
from bot.outbox import Delivery, Outgoing

# Long enough for a slow Slack, short enough that a hung call does not hold a conversation's
# queue (and a delivery slot) for the SDK's default 30 s.
TIMEOUT_SECONDS = 10.0
# Slack's `ok: false` answers that mean "our side failed, ask again", not "your request is bad".
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Slack asks for seconds to a minute; anything longer than this is taken as this.
MAX_RETRY_AFTER_SECONDS = 3600.0
# How long pages already posted of a half-sent reply are remembered (see _Progress).
PROGRESS_TTL_SECONDS = 3600.0
PostOne = Callable[[SlackMessage], Awaitable[str | None]]


def build_delivery_client(
    settings: SlackSettings, *, timeout: float | None = None
) -> AsyncWebClient:
    """A Web API client without slack-sdk's retry handlers: the outbox worker retries."""
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_base_url,
        # The SDK's annotation says int; it hands the value to aiohttp, which takes seconds.
        timeout=timeout or TIMEOUT_SECONDS,  # type: ignore[arg-type]
        retry_handlers=[],  # [] and not None: None means the SDK's default handlers
    )


class PagePublisher(Protocol):
    async def publish_or_raise(self, client: AsyncWebClient, user: str) -> None: ...


class SlackSender:
    """A `adapters.delivery.Sender` for Slack conversations, and for people's App Home pages."""

    def __init__(self, client: AsyncWebClient, home: PagePublisher) -> None:
        self._client = client
        self._home = home
        self._progress = _Progress()

    async def send(self, message: Outgoing) -> str | None:
        """Deliver `message`; the ts of a posted message, so the worker can remember a card."""
        try:
            if message.kind is Delivery.PAGE:
                # Built from the store now: the queued reply only says what changed.
                await self._home.publish_or_raise(self._client, message.conversation.id)
                return None
            if message.kind is Delivery.UPDATE:
                await self._update(message, render_in_place(message.reply))
                return None
            return await self._send(message, render(message.reply))
        except BlockKitError as problem:
            title = message.reply.title
            raise Undeliverable(f"slack: cannot render {title!r}: {problem}") from None
        except SlackApiError as problem:
            verdict = refusal(problem)
            if isinstance(verdict, Undeliverable):
                self._progress.forget(message)  # it will not be sent again
            raise verdict from problem
        except (ClientError, TimeoutError) as problem:
            # Timeouts, refused or dropped connections: Slack may be fine a moment later.
            raise RetryLater(f"slack: {type(problem).__name__}: {problem}") from problem

    async def _send(self, message: Outgoing, pages: list[SlackMessage]) -> str | None:
        if message.kind is Delivery.EPHEMERAL:
            user = _slack_user(message.target)
            await self._pages(message, pages, lambda page: self._ephemeral(message, user, page))
            return None
        return await self._pages(message, pages, lambda page: self._post(message, page))

    async def _pages(
        self, message: Outgoing, pages: list[SlackMessage], post: PostOne
    ) -> str | None:
        """Post every page in order, each once even when a later page fails and is retried."""
        stamps = self._progress.resume(message)
        for page in pages[len(stamps) :]:
            stamps.append(await post(page))  # raises: the pages so far stay remembered
        self._progress.forget(message)
        return stamps[0]

    async def _post(self, message: Outgoing, page: SlackMessage) -> str | None:
        answer = await self._client.chat_postMessage(
            channel=message.conversation.id,
            text=page.text,
            blocks=page.blocks,
            thread_ts=message.thread,
        )
        return str(answer.get("ts") or "") or None

    async def _update(self, message: Outgoing, card: SlackMessage) -> None:
        # A card is remembered by its (first) message's ts, and only that one is replaced: so it
        # comes as one message, cut short if it must be, its buttons kept (render_in_place).
        if not message.target:
            raise Undeliverable("slack: an update without the ts of the message to replace")
        await self._client.chat_update(
            channel=message.conversation.id, ts=message.target, text=card.text, blocks=card.blocks
        )

    async def _ephemeral(self, message: Outgoing, user: str, page: SlackMessage) -> None:
        await self._client.chat_postEphemeral(
            channel=message.conversation.id,
            user=user,
            text=page.text,
            blocks=page.blocks,
            thread_ts=message.thread,
        )


def refusal(problem: SlackApiError) -> RetryLater | Undeliverable:
    """What a Web API error means for the outbox: try again (and when), or give up."""
    status, error = _status(problem.response), _error(problem.response)
    reason = f"slack: {error or 'HTTP'} ({status})"
    if status == 429 or error == "ratelimited":
        return RetryLater(reason, after=_retry_after(problem.response))
    if status >= 500 or error in TRANSIENT_ERRORS:
        return RetryLater(reason)
    # channel_not_found, not_in_channel, is_archived, invalid_blocks, msg_too_long,
    # message_not_found, cant_update_message…: the same request would be refused again.
    return Undeliverable(reason)


def _slack_user(principal: str | None) -> str:
    """The Slack user id of a `slack:U…` principal; anyone else cannot be reached here."""
    if not principal or not principal.startswith("slack:") or principal == "slack:":
        raise Undeliverable(f"slack: {principal!r} is not a Slack user")
    return principal.removeprefix("slack:")


def _status(response: Any) -> int:
    # An AsyncSlackResponse has status_code; an unreadable body leaves aiohttp's own response.
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status or 0)


def _error(response: Any) -> str | None:
    data = getattr(response, "data", None)
    return str(data.get("error")) if isinstance(data, dict) and data.get("error") else None


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    try:
        seconds = float(str(headers.get("Retry-After")))
    except ValueError:
        return None  # no usable header: the worker backs off on its own
    # A garbled header (inf, nan, a date) must not schedule the retry for ever or crash it.
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS) if math.isfinite(seconds) else None


class _Progress:
    """The pages already posted of replies that needed several messages and failed part-way.

    A 429 on page 3 would otherwise post pages 1 and 2 again on the retry. The outbox gives a
    sender only the message, not its row, so a message is known by its value: equal messages
    for one conversation go out one after another, and an entry is dropped once the message is
    complete. Kept in memory only: after a restart a half-posted reply starts again from page 1.
    Entries expire in case the worker gave up on a message that never finished.
    """

    def __init__(self) -> None:
        self._posted: dict[Outgoing, tuple[float, list[str | None]]] = {}

    def resume(self, message: Outgoing) -> list[str | None]:
        now = time.monotonic()
        self._posted = {m: e for m, e in self._posted.items() if now - e[0] < PROGRESS_TTL_SECONDS}
        return self._posted.setdefault(message, (now, []))[1]

    def forget(self, message: Outgoing) -> None:
        self._posted.pop(message, None)
