"""The REST API (`/api/v1`): what CI pipelines and monitoring call. JSON in, JSON out."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.bootstrap import Components
from adapters.web import serialize
from adapters.web.auth import check_token, problem
from adapters.web.limits import MAX_SIGNAL_TEXT, MAX_SIGNALS
from adapters.web.openapi import document
from bot import commands as c
from bot.assessment import assess
from bot.domain import Actor, ChangeClass, Release
from bot.handlers.notes import ADDED_FACT
from bot.handlers.releases import LIST_SCOPES
from bot.parser import SIGNAL_KEY, ParseError, principal, release_name
from bot.ports import ReleaseQuery
from bot.reply import Reply, Tone
from bot.risk_presenters import notes_markdown
from bot.risks import Severity
from bot.when import require_in_range

API_ACTOR = Actor("api:rest", "REST API", "api")
COMPONENTS = web.AppKey("api_components", Components)
STATUS_OF_PROBLEM = {
    "invalid": 400,
    "not_found": 404,
    "conflict": 409,
    "refused": 409,
    "internal": 500,
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Control characters and line/paragraph separators: a value holding one could forge headings
# and items in the Markdown notes or the plain-text rendering of a card.
LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def create_api(components: Components) -> web.Application:
    api = web.Application(middlewares=[_authenticate])
    api[COMPONENTS] = components
    api.router.add_get("/openapi.json", openapi)
    api.router.add_get("/releases", list_releases)
    api.router.add_post("/releases", declare)
    api.router.add_get("/releases/{release}", get_release)
    api.router.add_post("/releases/{release}/signals", signals)
    api.router.add_get("/releases/{release}/gate", gate)
    api.router.add_post("/releases/{release}/risks", add_risk)
    api.router.add_post("/releases/{release}/changes", add_changes)
    api.router.add_get("/releases/{release}/notes", notes)
    api.router.add_get("/audit", audit)
    # Imported here: the event routes reuse this module's request helpers.
    from adapters.web.events_api import add_routes

    add_routes(api)
    return api


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path != "/api/v1/openapi.json":
        check_token(request, request.app[COMPONENTS].settings.api_token)
    return await handler(request)


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(document())


async def list_releases(request: web.Request) -> web.Response:
    scope = request.query.get("scope", "all")
    if scope not in ("upcoming", "active", "all"):
        raise problem(400, "scope must be upcoming, active or all")
    components = request.app[COMPONENTS]
    now = components.clock.now()
    query = ReleaseQuery(
        states=LIST_SCOPES[scope][1],
        train=request.query.get("train"),
        service=request.query.get("service"),
        scheduled_from=now if scope == "upcoming" else None,
        limit=1000,
    )
    async with components.store(read_only=True) as uow:
        releases = await uow.releases.find(query)
    return web.json_response({"releases": [serialize.release(r) for r in releases]})


async def get_release(request: web.Request) -> web.Response:
    return web.json_response(serialize.release_detail(await _assessment(request)))


async def gate(request: web.Request) -> web.Response:
    verdict = serialize.gate_verdict(await _assessment(request))
    request.app[COMPONENTS].telemetry.gate_result(verdict["pass"])
    return web.json_response(verdict, status=200 if verdict["pass"] else 409)


async def _assessment(request: web.Request) -> Any:
    components = request.app[COMPONENTS]
    name = _release_in_path(request)
    async with components.store(read_only=True) as uow:
        release = await uow.releases.get(name)
        if release is None:
            raise problem(404, f"there is no release {name}")
        return await assess(uow, release, components.policy(), components.clock.now())


async def declare(request: web.Request) -> web.Response:
    body = await _json_object(request)
    command = c.Declare(
        release=_field(body, "release", release_name),
        scheduled_at=_optional(body, "at", lambda v: _instant(request, v)),
        change_class=_optional(body, "class", _change_class) or ChangeClass.NORMAL.value,
        # One word each, as in chat: a train or env with a space could never be named there.
        train=_optional(body, "train", _word),
        env=_optional(body, "env", _word),
        owner=_optional(body, "owner", principal),
    )
    reply = await _run(request, command)
    # What chat shows under the card: a clash with a nearby release, a freeze it falls in,
    # risks it took over. CI may decide to wait on them.
    answer = {**await _release_json(request, command.release), "notes": list(reply.notes)}
    return web.json_response(answer, status=201)


async def signals(request: web.Request) -> web.Response:
    name = _release_in_path(request)
    body = await _json_object(request)
    values = body.get("signals", body)
    if not isinstance(values, dict) or not values or len(values) > MAX_SIGNALS:
        raise problem(
            400, f'expected {{"signals": {{"coverage": 82.5, …}}}}, 1 to {MAX_SIGNALS} of them'
        )
    # The command is built, not typed: a key or value is never re-read as command text.
    pairs = tuple(_signal(key, value) for key, value in values.items())
    await _run(request, c.Signal(release=name, values=pairs))
    return web.json_response(serialize.gate_verdict(await _assessment(request)))


def _signal(key: str, value: Any) -> tuple[str, str]:
    """One signal as chat would take it (`key=value`); the core checks that it is a number."""
    if len(key) > MAX_SIGNAL_TEXT or not SIGNAL_KEY.fullmatch(key):
        raise problem(400, f"{key!r} is not a signal name (e.g. coverage, open_blockers)")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise problem(400, f"signals.{key} must be a number")
    if isinstance(value, str) and not _one_value(value):
        raise problem(400, f"signals.{key} must be one number, without spaces or '='")
    return key, str(value)


def _one_value(text: str) -> bool:
    return 0 < len(text) <= MAX_SIGNAL_TEXT and "=" not in text and _is_word(text)


async def add_risk(request: web.Request) -> web.Response:
    name = _release_in_path(request)
    body = await _json_object(request)
    severity = _field(body, "severity", _severity)
    description = _field(body, "description", _line)
    await _run(request, c.AddRisk(release=name, severity=severity, description=description))
    async with request.app[COMPONENTS].store(read_only=True) as uow:
        risks = await uow.risks.on_release(name)
    # The core keeps one risk per release, severity and words: the one this request raised,
    # or (a retry) raised before, answered the same way. The oldest, should earlier versions
    # have kept two.
    risk = next(r for r in risks if (r.severity.value, r.description) == (severity, description))
    return web.json_response(serialize.risk(risk), status=201)


async def add_changes(request: web.Request) -> web.Response:
    name = _release_in_path(request)
    body = await _json_object(request)
    items = body.get("changes")
    if not isinstance(items, list) or not items:
        raise problem(400, 'expected {"changes": [{"title": …, "kind": …}, …]}')
    rows = tuple(_change_row(item, index) for index, item in enumerate(items))
    reply = await _run(request, c.AddChanges(release=name, items=rows))
    # Items listed already (a retried request) are not added again, nor counted.
    added = int(next(f.value for f in reply.facts if f.label == ADDED_FACT))
    answer = {"added": added, "notes": list(reply.notes)}
    return web.json_response(answer, status=201 if added else 200)


def _change_row(item: Any, index: int) -> c.ChangeRow:
    if not isinstance(item, dict):
        raise problem(400, f"changes[{index}] must be an object")
    where = f"changes[{index}]."

    def get(key: str, convert: Callable[[str], Any]) -> Any:
        return _optional(item, key, convert, label=where + key)

    title = _field(item, "title", _line, label=where + "title")
    kind = _field(item, "kind", _word, label=where + "kind").lower()
    merged = get("merged_at", lambda v: _instant(None, v).isoformat())
    return (title, kind, get("squad", _line), get("link", _word), get("author", _line), merged)


async def notes(request: web.Request) -> web.Response:
    name = _release_in_path(request)
    reply = await _run(request, c.Notes(release=name))
    return web.Response(text=notes_markdown(name, reply), content_type="text/markdown")


def _severity(value: str) -> str:
    return Severity(value.lower()).value


def _line(value: str) -> str:
    """One non-empty line of text: notes and cards put it on a line of its own."""
    if not value.strip():
        raise ValueError("must not be empty")
    if any(unicodedata.category(char) in LINE_BREAKING for char in value.strip()):
        raise ValueError("must be one line of text")
    return value.strip()


def _word(value: str) -> str:
    """One word, as the chat command language reads it."""
    if not value.strip() or not _is_word(value.strip()):
        raise ValueError("must be one word, without spaces")
    return value.strip()


def _is_word(value: str) -> bool:
    return not any(char.isspace() or unicodedata.category(char) in LINE_BREAKING for char in value)


async def audit(request: web.Request) -> web.Response:
    components = request.app[COMPONENTS]
    release = request.query.get("release")
    shape = request.query.get("format", "json")
    if shape not in ("json", "csv"):
        raise problem(400, "format must be json or csv")
    async with components.store(read_only=True) as uow:
        events = await (uow.audit.for_release(release) if release else uow.audit.all())
    if shape == "csv":
        return web.Response(text=serialize.audit_csv(events), content_type="text/csv")
    return web.json_response({"events": [serialize.audit_event(e) for e in events]})


async def _run(request: web.Request, command: c.Command) -> Reply:
    reply = await request.app[COMPONENTS].bot.handle(command, API_ACTOR)
    if reply.tone is Tone.ERROR:
        raise problem(STATUS_OF_PROBLEM.get(reply.problem or "invalid", 400), reply.title)
    return reply


async def _release_json(request: web.Request, name: str) -> dict[str, Any]:
    async with request.app[COMPONENTS].store(read_only=True) as uow:
        release: Release | None = await uow.releases.get(name)
    assert release is not None
    return serialize.release(release)


def _release_in_path(request: web.Request) -> str:
    try:
        return release_name(request.match_info["release"])
    except ParseError as bad:
        raise problem(400, bad.problem) from None


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise problem(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise problem(400, "the body must be a JSON object")
    return body


def _field(
    body: dict[str, Any], key: str, convert: Callable[[str], Any], *, label: str | None = None
) -> Any:
    if key not in body:
        raise problem(400, f"{label or key} is required")
    return _optional(body, key, convert, label=label)


def _optional(
    body: dict[str, Any], key: str, convert: Callable[[str], Any], *, label: str | None = None
) -> Any:
    """`body[key]` converted, or None; `label` names it in errors (default: the key)."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise problem(400, f"{label or key} must be a string")
    try:
        return convert(value)
    except (ParseError, ValueError) as bad:
        raise problem(400, f"{label or key}: {getattr(bad, 'problem', bad)}") from None


def _change_class(value: str) -> str:
    """A change class in any case, as chat takes it."""
    try:
        return ChangeClass(value.lower()).value
    except ValueError:
        raise ValueError(
            f"{value!r} is not a change class (standard, normal or emergency)"
        ) from None


def _instant(request: web.Request | None, value: str) -> datetime:
    """An ISO 8601 instant; without an offset it is read in the policy's timezone (or UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        zone = request.app[COMPONENTS].policy().zone if request else UTC
        parsed = parsed.replace(tzinfo=zone)
    require_in_range(parsed)  # before the conversion, which overflows at the calendar's ends
    return parsed.astimezone(UTC)
