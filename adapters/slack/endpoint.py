"""`POST /slack/events`: one bolt app behind aiohttp, translated at the edge by two functions."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bootstrap import Components
from adapters.settings import SlackSettings
from adapters.slack import listeners
from adapters.slack.authorization import SingleWorkspace
from adapters.slack.cards import PLATFORM, SlackCards
from adapters.slack.home import SlackHome
from adapters.slack.people import email_lookup
from adapters.slack.sender import SlackSender, build_delivery_client
from adapters.slack.socket_mode import SocketModeConnection
from adapters.tasks import InFlight
from adapters.unavailable import unavailable

PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
RETRIES = 2
# Unix seconds have 10 digits until the year 2286; longer is no timestamp (and int() of a
# few thousand digits fails outright).
MAX_TIMESTAMP_DIGITS = 12


def mount(app: web.Application, components: Components) -> None:
    """Serve Slack's one URL for commands, interactivity and events on `app` (or, given an
    app token, take them over Socket Mode), and deliver the outbox's Slack messages (posts,
    card updates, ephemeral notices) through their own client.
    """
    settings = components.settings.slack
    delivery_client, bolt_client = build_delivery_client(settings), build_client(settings)
    home = SlackHome(
        store=components.store,
        clock=components.clock,
        policy=components.policy,
        people=components.bot.people,
    )
    components.delivery.register(PLATFORM, SlackSender(delivery_client, home))
    components.bot.people.register(PLATFORM, email_lookup(delivery_client))
    assert settings.bot_token, "Slack is mounted only with a bot token (SlackSettings.missing)"
    identity = SingleWorkspace(settings.bot_token, settings.api_base_url)
    bolt, in_flight = build_bolt_app(components, bolt_client, identity, home)

    async def finish_work_under_way(_app: web.Application) -> None:
        await in_flight.finish(listeners.SHUTDOWN_GRACE_SECONDS)
        await identity.close()

    # Before the clients' sessions close (that work uses them) and before the store does.
    app.on_cleanup.append(finish_work_under_way)
    _keep_connections_open(app, delivery_client, bolt_client)
    if settings.socket_mode:
        socket = SocketModeConnection(bolt, settings)
        app.on_startup.append(socket.start)  # once the clients' sessions are open
        # On shutdown, before anything else stops: nothing new arrives while the rest does.
        # Again at cleanup, which runs even when a later start-up step failed (then a no-op).
        app.on_shutdown.append(socket.stop)
        app.on_cleanup.append(socket.stop)
    if settings.signing_secret:
        _serve_http(app, bolt)
    else:
        message = "Slack is connected over Socket Mode; set SLACK_SIGNING_SECRET to take HTTP too."
        app.router.add_post(PATH, unavailable(message))


def _serve_http(app: web.Application, bolt: AsyncApp) -> None:
    """`POST /slack/events`: signed requests from Slack, verified by bolt."""

    async def slack_events(request: web.Request) -> web.Response:
        if not _signature_headers_well_formed(request):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:
            # bolt parses the body before it checks the signature: refuse garbage plainly.
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        return to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    app.router.add_post(PATH, slack_events)


def _signature_headers_well_formed(request: web.Request) -> bool:
    """False for a timestamp that is no whole number or a signature that is not ASCII.

    bolt refuses missing and wrong ones, but fails on these while reading them; such a request
    is no more signed than a forged one and gets the same answer.
    """
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if timestamp is not None and not (
        timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS
    ):
        return False
    return signature is None or signature.isascii()


def _keep_connections_open(app: web.Application, *clients: AsyncWebClient) -> None:
    """Give each Web API client one HTTP session for the server's life.

    Without one, slack-sdk opens (and closes) a new session — a new connection — for every
    call; a fan-out to a thousand channels spent most of its time connecting.
    """

    async def open_sessions(_app: web.Application) -> None:
        for client in clients:
            client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=client.timeout)
            )

    async def close_sessions(_app: web.Application) -> None:
        for client in clients:
            if client.session is not None:
                await client.session.close()

    app.on_startup.append(open_sessions)
    app.on_cleanup.append(close_sessions)


def build_bolt_app(
    components: Components, client: AsyncWebClient, identity: SingleWorkspace, home: SlackHome
) -> tuple[AsyncApp, InFlight]:
    """The bolt app with our listeners, and the work they leave under way (to finish at
    shutdown); nothing here touches the network."""
    bolt = AsyncApp(
        name="releasebot",
        signing_secret=components.settings.slack.signing_secret,
        client=client,  # no token: each request's copy gets the one `identity` gives
        authorize=identity,
        process_before_response=False,
    )
    in_flight = listeners.register(bolt, components, SlackCards(components.store), home)
    return bolt, in_flight


def build_client(settings: SlackSettings) -> AsyncWebClient:
    """The client for answers given while the person waits (a declare card, a mention's answer,
    a modal, an ephemeral notice): it waits out 429s (Retry-After) and retries 5xx and dropped
    links itself, since these answers are not in the outbox. Never used for outbox sends.

    It holds no token: bolt takes it from `authorize` (adapters/slack/authorization.py) for
    each request's copy, and would only warn that a token on the client goes unused."""
    handlers = [
        AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=RETRIES),
        AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES),
    ]
    return AsyncWebClient(base_url=settings.api_base_url, retry_handlers=handlers)


class SlackRequest(AsyncBoltRequest):
    """A bolt request whose url-encoded body is read by its keys, not by a substring.

    bolt's `parse_body` takes any form body that *contains* the text "payload" for an
    interactivity payload, so `/release declare payload-api@1.0` arrives as an empty body and
    the command is lost. Re-reading only that case here keeps `raw_body` exactly the bytes
    Slack signed (verification still runs over them), rebuilds the context (user, channel,
    response_url) from the right body, and survives `to_copyable()`, which bolt uses for
    lazy listeners and which would otherwise parse the raw body the broken way again.
    """

    def __init__(self, *, body: str, context: dict[str, Any] | None = None, **rest: Any) -> None:
        super().__init__(body=body, context=context, **rest)
        if not self.body and self.raw_body and self.content_type == FORM:
            self.body = form_body(self.raw_body)
            self.context = build_async_context(AsyncBoltContext(context or {}), self.body)

    def to_copyable(self) -> SlackRequest:
        return SlackRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


def form_body(raw: str) -> dict[str, Any]:
    """A url-encoded body: the JSON under a `payload` key (interactivity) or the fields."""
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    return json.loads(fields["payload"]) if "payload" in fields else fields


async def to_bolt_request(request: web.Request) -> AsyncBoltRequest:
    """aiohttp → bolt. The body stays the exact text that was signed."""
    raw = (await request.read()).decode("utf-8", errors="replace")
    headers = {name: value for name, value in request.headers.items()}
    return SlackRequest(body=raw, query=request.query_string, headers=headers)


def to_aiohttp_response(response: BoltResponse) -> web.Response:
    """bolt → aiohttp: status, body and headers (no cookies: there is no OAuth flow here)."""
    return web.Response(
        status=response.status,
        body=response.body.encode("utf-8"),
        headers=response.first_headers_without_set_cookie(),
    )
