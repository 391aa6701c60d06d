"""Slack over Socket Mode (`SLACK_APP_TOKEN`): the same bolt app, reached over a WebSocket.

Slack then sends commands, button presses and events down a connection the bot opens, and
takes each acknowledgement back on it, so the bot needs no public URL and no signing secret.
Everything behind bolt — reads answered in the acknowledgement, writes acknowledged first,
cards posted with the bot token — is what the HTTP endpoint does.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import SlackSettings
from adapters.tasks import InFlight

log = logging.getLogger(__name__)

# At shutdown, how long messages already taken get to send their acknowledgement: Slack
# waits 3 s for one; what Slack sent and was not taken yet, it redelivers elsewhere.
ACKNOWLEDGE_GRACE_SECONDS = 2.5
# bolt's own: the heartbeat, the pause between attempts to connect, and (times 4) how long a
# silent connection is trusted. The SDK's client alone would use 5.
PING_INTERVAL_SECONDS = 10.0
# The name of the task that connects (and, until it connects, keeps trying).
CONNECTING = "slack-socket-mode-connect"
# How Slack refuses the app token itself: no retry helps until someone replaces the token.
REFUSED_TOKEN = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)


class SocketModeConnection:
    """The connection to Slack: `start` runs as the server starts, `stop` as it shuts down
    (and again at cleanup, in case a later start-up step failed: the second time is a no-op)."""

    def __init__(self, bolt: AsyncApp, settings: SlackSettings) -> None:
        assert settings.app_token, "Socket Mode needs SLACK_APP_TOKEN"
        self._bolt = bolt
        self._app_token = settings.app_token
        self._api_base_url = settings.api_base_url
        self._handler: _TrackedHandler | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self, _app: web.Application) -> None:
        # Built here, on the server's loop: the client starts a task and opens an HTTP session
        # as it is made. apps.connections.open takes the app-level token, not the bot's.
        opener = AsyncWebClient(token=self._app_token, base_url=self._api_base_url)
        self._handler = _TrackedHandler(self._bolt, self._app_token, web_client=opener)
        # The client retries until Slack answers (or refuses the token); the dashboard and the
        # API need not wait.
        self._connecting = asyncio.create_task(self._handler.connect_async(), name=CONNECTING)

    async def stop(self, _app: web.Application) -> None:
        """Take no more messages, let those taken send their acknowledgement, then close the
        socket and the client's session, and wait until the client's tasks are over."""
        handler, self._handler = self._handler, None
        if self._connecting is not None:
            self._connecting.cancel()
        if handler is None:
            return
        client = handler.client
        _stop_reading(client)
        await handler.answering.finish(ACKNOWLEDGE_GRACE_SECONDS)
        await handler.close_async()  # cancels its tasks without waiting for them
        tasks = (
            self._connecting,
            client.message_processor,
            client.current_session_monitor,
            client.message_receiver,
        )
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)


class _TrackedHandler(AsyncSocketModeHandler):
    """bolt's handler, counting each message as under way until its acknowledgement is sent
    (the client answers every message in a task it keeps no reference to)."""

    def __init__(self, app: AsyncApp, app_token: str, *, web_client: AsyncWebClient) -> None:
        # bolt's own __init__, but with our client: bolt's builds the SDK's and connects it
        # on the spot (a task, a session), too late to swap.
        self.app = app
        self.app_token = app_token
        self.client = _GivingUpClient(
            app_token=app_token,
            logger=app.logger,
            web_client=web_client,
            ping_interval=PING_INTERVAL_SECONDS,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        self.answering = InFlight()

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        self.answering.hold_current_task(f"socket-mode:{req.type}")
        await super().handle(client, req)


class _GivingUpClient(SocketModeClient):
    """The SDK's client, except that it stops trying when Slack refuses the app token: the SDK
    would try again every 10 s for ever, logging a stack trace each time."""

    async def issue_new_wss_url(self) -> str:
        try:
            return await super().issue_new_wss_url()
        except SlackApiError as refused:
            error = refused.response.get("error")
            if error in REFUSED_TOKEN:
                log.error(
                    "Slack refused SLACK_APP_TOKEN (%s): Slack stays off until it is replaced "
                    "and releasebot restarted",
                    error,
                )
                await self.close()  # the SDK's connect loop then ends instead of retrying
            raise


def _stop_reading(client: SocketModeClient) -> None:
    """No new message is read, queued messages are not started, and nothing reconnects; the
    socket stays open for the acknowledgements still to come."""
    client.auto_reconnect_enabled = False
    for task in (client.message_receiver, client.message_processor, client.current_session_monitor):
        if task is not None:
            task.cancel()
