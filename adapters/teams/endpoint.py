"""POST /api/messages: Bot Framework activities from Teams, through botbuilder's CloudAdapter."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import (
    AuthenticateRequestResult,
    ClaimsIdentity,
    ConnectorFactory,
)
from msrest.exceptions import DeserializationError

from adapters.bootstrap import Components
from adapters.settings import TeamsSettings
from adapters.teams.bot import TeamsBot, card_invoke_response
from adapters.teams.connector import OneAttemptFactory
from adapters.teams.live import PLATFORM, LiveCards
from adapters.teams.replies import TurnReplies
from adapters.teams.sender import TeamsSender
from bot.reply import error

log = logging.getLogger(__name__)

TEAMS_ADAPTER = web.AppKey("teams_adapter", CloudAdapter)
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."


@dataclass(frozen=True, slots=True)
class BotConfig:
    """The attributes ConfigurationBotFrameworkAuthentication reads from a configuration."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def bot_config(settings: TeamsSettings) -> BotConfig:
    if not settings.app_id:
        # Unauthenticated mode: an empty app id is what turns botbuilder's token checks off.
        return BotConfig(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    return BotConfig(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password or "",
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.tenant_id or "",
    )


class _Authentication(ConfigurationBotFrameworkAuthentication):
    """Every failure to authenticate is a refusal (401), never a server error (500); every
    connector client makes one attempt per call (connector.py), in a turn or proactively."""

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            result = await super().authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as problem:
            # botbuilder lets a malformed token escape as a jwt/KeyError/IndexError; the
            # CloudAdapter only turns PermissionError into 401.
            log.warning("Teams: refused an activity with an unreadable token (%r)", problem)
            raise PermissionError("unreadable token") from None
        if result.connector_factory is not None:
            result.connector_factory = OneAttemptFactory(result.connector_factory)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return OneAttemptFactory(super().create_connector_factory(claims_identity))


def build_adapter(settings: TeamsSettings) -> CloudAdapter:
    """The CloudAdapter for `settings`; proactive senders build theirs with this too."""
    adapter = CloudAdapter(_Authentication(bot_config(settings)))
    adapter.on_turn_error = _on_turn_error
    return adapter


def mount(app: web.Application, components: Components) -> None:
    """Serve POST /api/messages on `app`."""
    settings = components.settings.teams
    if not settings.app_id:
        log.warning(
            "TEAMS_ALLOW_UNAUTHENTICATED=1: /api/messages is served WITHOUT authentication; "
            "anyone who can reach it can act as any Teams user. Local emulator and tests only."
        )
    adapter = build_adapter(settings)
    app[TEAMS_ADAPTER] = adapter
    store, clock = components.store, components.clock
    # Everything the bot says on its own reaches Teams through the outbox, card updates too.
    sender = TeamsSender(adapter, settings.app_id or "", store, clock)
    components.delivery.register(PLATFORM, sender)
    live = LiveCards(components.bot, components.cards, store, clock)
    bot = TeamsBot(components.bot, store, live, TurnReplies(store, clock))
    app.router.add_post("/api/messages", _messages(adapter, bot))


def _messages(
    adapter: CloudAdapter, bot: TeamsBot
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def messages(request: web.Request) -> web.StreamResponse:
        refusal = await _unreadable(request)
        if refusal is not None:
            return refusal
        try:
            response = await adapter.process(request, bot)
        except DeserializationError as problem:
            return _bad_request(f"not a Bot Framework activity: {problem}")
        # process() answers invokes with their InvokeResponse (status and body) and others 201.
        return response or web.Response(status=201)

    return messages


async def _unreadable(request: web.Request) -> web.Response | None:
    """A 4xx for a body that is no activity; process() would answer those with a 500."""
    if request.content_type != "application/json":
        return web.json_response({"error": "expected application/json"}, status=415)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return _bad_request("expected a Bot Framework activity (a JSON object with a type)")
    return None


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _on_turn_error(context: TurnContext, problem: Exception) -> None:
    """Log the failure and give the person a short answer instead of silence."""
    log.error("Teams: %s activity failed", context.activity.type, exc_info=problem)
    try:
        await _answer_briefly(context)
    except Exception:
        log.exception("Teams: could not even say that something went wrong")


async def _answer_briefly(context: TurnContext) -> None:
    if context.activity.type == ActivityTypes.invoke:
        response = card_invoke_response(error(SORRY))
        await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
    elif context.activity.type == ActivityTypes.message:
        await context.send_activity(SORRY)
