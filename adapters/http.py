"""The one aiohttp server: health, metrics, Slack, Teams, the REST API, the dashboard and ICS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from adapters.bootstrap import Components
from adapters.unavailable import Handler, unavailable
from adapters.web import ics
from adapters.web.api import create_api
from adapters.web.dashboard import Dashboard
from adapters.web.telemetry import metrics_endpoint

log = logging.getLogger(__name__)

COMPONENTS = web.AppKey("components", Components)


def create_app(components: Components) -> web.Application:
    telemetry = components.telemetry
    app = web.Application(client_max_size=1024 * 1024, middlewares=[telemetry.middleware])
    app[COMPONENTS] = components
    app.router.add_get("/healthz", healthz)
    app.router.add_get(
        "/metrics",
        metrics_endpoint(telemetry, components.store, lambda: components.scheduler.last_tick),
    )
    app.add_subapp("/api/v1/", create_api(components))
    _mount_slack(app, components)
    _mount_teams(app, components)
    app.router.add_get("/calendar.ics", ics.endpoint(components))
    Dashboard(components).mount(app)
    app.cleanup_ctx.append(_deliver_outbox)
    app.cleanup_ctx.append(_run_smoke_checks)
    app.on_cleanup.append(_close_store)
    return app


async def _run_smoke_checks(app: web.Application) -> AsyncIterator[None]:
    """Smoke-check releases as they are marked deployed; a commit that queued messages (a
    state change usually does) makes the runner look at once instead of at its next poll."""
    components = app[COMPONENTS]
    components.store.on_outbox_commit(components.smoke.kick)
    task = asyncio.create_task(components.smoke.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _deliver_outbox(app: web.Application) -> AsyncIterator[None]:
    """Run the outbox worker and the scheduler for as long as the server runs."""
    components = app[COMPONENTS]
    worker = asyncio.create_task(components.delivery.run())
    components.scheduler.start()
    yield
    await components.scheduler.stop()
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker


def _mount_slack(app: web.Application, components: Components) -> None:
    missing = components.settings.slack.missing
    if missing:
        log.warning("Slack is off: %s not set", " and ".join(missing))
        app.router.add_post("/slack/events", _not_configured("Slack", missing))
        return
    from adapters.slack.endpoint import mount

    mount(app, components)


def _mount_teams(app: web.Application, components: Components) -> None:
    missing = components.settings.teams.missing
    if missing:
        log.warning("Teams is off: %s not set", " and ".join(missing))
        app.router.add_post("/api/messages", _not_configured("Teams", missing))
        return
    from adapters.teams.endpoint import mount

    mount(app, components)


def _not_configured(platform: str, missing: list[str]) -> Handler:
    return unavailable(f"{platform} is not configured: set {' and '.join(missing)}.")


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[COMPONENTS].store.ping()
    except Exception as problem:
        log.warning("health check failed: %s", problem)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def _close_store(app: web.Application) -> None:
    await app[COMPONENTS].store.close()
