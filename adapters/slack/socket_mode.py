"""Slack over Socket Mode (`SLACK_APP_TOKEN`): the same bolt app, reached over a WebSocket.

Slack then sends commands, button presses and events down a connection the bot opens, and
takes each acknowledgement back on it, so the bot needs no public URL and no signing secret.
Everything behind bolt — reads answered in the acknowledgement, writes acknowledged first,
cards posted with the bot token — is what the HTTP endpoint does.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import SlackSettings
from adapters.slack.sender import SLACK_API_BASE_URL


class SocketModeConnection:
    """The connection to Slack: `start` and `stop` run as the server starts and stops."""

    def __init__(self, bolt: AsyncApp, settings: SlackSettings) -> None:
        assert settings.app_token, "Socket Mode needs SLACK_APP_TOKEN"
        # apps.connections.open takes the app-level token, not the bot's.
        opener = AsyncWebClient(
            token=settings.app_token, base_url=settings.api_base_url or SLACK_API_BASE_URL
        )
        self._handler = AsyncSocketModeHandler(bolt, settings.app_token, web_client=opener)
        self._connecting: asyncio.Task[None] | None = None

    async def start(self, _app: web.Application) -> None:
        # The client retries until Slack answers; the dashboard and the API need not wait.
        self._connecting = asyncio.ensure_future(self._handler.connect_async())

    async def stop(self, _app: web.Application) -> None:
        await self._handler.close_async()
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
