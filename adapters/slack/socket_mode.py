"""Slack over Socket Mode (`SLACK_APP_TOKEN`): the same bolt app, reached over a WebSocket.

Slack then sends commands, button presses and events down a connection the bot opens, and
takes each acknowledgement back on it, so the bot needs no public URL and no signing secret.
Everything behind bolt — reads answered in the acknowledgement, writes acknowledged first,
cards posted with the bot token — is what the HTTP endpoint does.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import SlackSettings
from adapters.slack.sender import SLACK_API_BASE_URL


class SocketModeConnection:
    """The connection to Slack: `start` runs as the server starts, `stop` as it shuts down."""

    def __init__(self, bolt: AsyncApp, settings: SlackSettings) -> None:
        assert settings.app_token, "Socket Mode needs SLACK_APP_TOKEN"
        self._bolt = bolt
        self._app_token = settings.app_token
        self._api_base_url = settings.api_base_url or SLACK_API_BASE_URL
        self._handler: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None

    async def start(self, _app: web.Application) -> None:
        # Built here, on the server's loop: the client starts a task and opens an HTTP session
        # as it is made. apps.connections.open takes the app-level token, not the bot's.
        opener = AsyncWebClient(token=self._app_token, base_url=self._api_base_url)
        self._handler = AsyncSocketModeHandler(self._bolt, self._app_token, web_client=opener)
        # The client retries until Slack answers; the dashboard and the API need not wait.
        self._connecting = asyncio.ensure_future(self._handler.connect_async())

    async def stop(self, _app: web.Application) -> None:
        """No further attempt to connect, the socket and the client's session closed, and the
        client's tasks over, before the rest of the server winds down."""
        if self._connecting is not None:
            self._connecting.cancel()
        if self._handler is None:
            return
        client = self._handler.client
        await self._handler.close_async()  # cancels its tasks without waiting for them
        tasks = (
            self._connecting,
            client.message_processor,
            client.current_session_monitor,
            client.message_receiver,
        )
        await asyncio.gather(*(task for task in tasks if task is not None), return_exceptions=True)
