"""REST: deployment and incident events in, metrics out (SPEC §4.6, §6)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.web import serialize_observe as serialize
from adapters.web.api import COMPONENTS, _field, _instant, _json_object, _line, _optional, _run
from adapters.web.auth import problem
from bot import commands as c
from bot.domain import SERVICE_PATTERN, State
from bot.handlers.metrics import load_report
from bot.metrics import MetricsWindow
from bot.observe import Incident
from bot.observe_presenters import INCIDENT_FACT, REPORT_FACT, Report
from bot.parser import release_name
from bot.reply import Reply

MAX_DAYS = 366
MAX_COMMITS = 1000


def add_routes(api: web.Application) -> None:
    api.router.add_post("/deployments", record_deployment)
    api.router.add_post("/incidents", record_incident)
    api.router.add_get("/metrics", metrics)


async def record_deployment(request: web.Request) -> web.Response:
    body = await _json_object(request)
    command = c.RecordDeployment(
        service=_field(body, "service", str),
        version=_field(body, "version", str),
        environment=_field(body, "environment", str),
        status=_field(body, "status", str),
        started_at=_field(body, "started_at", lambda v: _instant(request, v)),
        finished_at=_field(body, "finished_at", lambda v: _instant(request, v)),
        commits=_commits(request, body.get("commits")),
    )
    reply = await _run(request, command)
    components = request.app[COMPONENTS]
    release = await _release_state(request, f"{command.service}@{command.version}")
    if release is not None and release["state"] == State.DEPLOYED.value:
        components.smoke.kick()  # its smoke checks are due now
    answer = {"title": reply.title, "release": release, "notes": list(reply.notes)}
    return web.json_response(answer, status=_status_of(reply))


def _status_of(reply: Reply) -> int:
    """201 for a deployment or incident the store had not seen, else 200. The core says which,
    inside the transaction that stored it: of two identical reports racing, one is new."""
    report = next(f.value for f in reply.facts if f.label == REPORT_FACT)
    return 201 if report == Report.NEW.name.lower() else 200


def _commits(request: web.Request, value: Any) -> tuple[str, ...] | None:
    """ISO instants of the commits the deployment shipped; absent: use the change items."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_COMMITS:
        raise problem(400, f"commits must be a list of at most {MAX_COMMITS} ISO 8601 instants")
    instants = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise problem(400, f"commits[{index}] must be an ISO 8601 instant")
        try:
            instants.append(_instant(request, item).isoformat())
        except ValueError:
            raise problem(400, f"commits[{index}]: {item!r} is not an ISO 8601 instant") from None
    return tuple(instants)


async def _release_state(request: web.Request, name: str) -> dict[str, Any] | None:
    async with request.app[COMPONENTS].store(read_only=True) as uow:
        release = await uow.releases.get(name)
    return None if release is None else {"name": name, "state": release.state.value}


async def record_incident(request: web.Request) -> web.Response:
    body = await _json_object(request)
    command = c.RecordIncident(
        service=_field(body, "service", str),
        severity=_field(body, "severity", str),
        opened_at=_field(body, "opened_at", lambda v: _instant(request, v)),
        resolved_at=_optional(body, "resolved_at", lambda v: _instant(request, v)),
        release=_optional(body, "release", release_name),
        key=_optional(body, "key", _line),
    )
    reply = await _run(request, command)
    stored = await _incident(request, command.key)
    if stored is not None:
        incident = serialize.incident(stored)
    else:  # no key to find it by: as posted, with the id the core gave it
        label = next(f.value for f in reply.facts if f.label == INCIDENT_FACT)
        incident = {**_posted(command), "id": label}
    answer = {"title": reply.title, "incident": incident}
    return web.json_response(answer, status=_status_of(reply))


async def _incident(request: web.Request, key: str | None) -> Incident | None:
    if key is None:
        return None
    async with request.app[COMPONENTS].store(read_only=True) as uow:
        return await uow.incidents.by_key(key)


def _posted(command: c.RecordIncident) -> dict[str, Any]:
    return serialize.incident(
        Incident(
            command.service,
            command.severity,
            command.opened_at,
            command.resolved_at,
            command.release,
            command.key,
        )
    )


async def metrics(request: web.Request) -> web.Response:
    components = request.app[COMPONENTS]
    window = MetricsWindow.last(
        _days(request.query.get("days")),
        components.clock.now(),
        _service(request.query.get("service")),
        request.query.get("environment") or None,
    )
    async with components.store(read_only=True) as uow:
        report = await load_report(uow, window, daily=True)
    return web.json_response(serialize.metrics_report(report))


def _days(value: str | None) -> int:
    if value is None:
        return 30
    if (
        not (value.isascii() and value.isdigit() and len(value) <= 3)
        or not 1 <= int(value) <= MAX_DAYS
    ):
        raise problem(400, f"days must be a whole number from 1 to {MAX_DAYS}")
    return int(value)


def _service(value: str | None) -> str | None:
    if not value:
        return None
    if not SERVICE_PATTERN.fullmatch(value):
        raise problem(400, f"{value!r} is not a service name")
    return value
