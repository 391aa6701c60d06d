"""The read-only web dashboard (`/` and below), server-rendered with Jinja2.

Pages: the release board by state, the calendar (month and week), the risk board, a release
with its audit trail, and the metrics with charts (Chart.js, shipped in static/vendor).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from adapters.bootstrap import Components
from adapters.scheduler import occurrences
from adapters.web import dashboard_auth as auth
from adapters.web import dashboard_views as views
from adapters.web.auth import same_secret
from adapters.web.events_api import _days, _service
from bot.assessment import assess, risk_views
from bot.domain import State
from bot.handlers.metrics import load_report
from bot.metrics import MetricsWindow, format_fraction, format_value
from bot.ports import ReleaseQuery
from bot.when import FIRST_YEAR, LAST_YEAR, format_moment

HERE = Path(__file__).parent
ACTIVE = frozenset(State) - {State.VERIFIED, State.ROLLED_BACK, State.CANCELLED}


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adapters.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fraction"] = format_fraction
    env.filters["value"] = format_value
    return env


class Dashboard:
    def __init__(self, components: Components) -> None:
        self._components = components
        self._env = templates()

    def mount(self, app: web.Application) -> None:
        token = self._api_token
        app.router.add_static("/static/", HERE / "static", name="static", append_version=True)
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_get("/logout", self.logout)
        for path, page in (
            ("/", self.board),
            ("/calendar", self.calendar),
            ("/risks", self.risks),
            ("/releases/{release:.+}", self.release),  # a version may hold "/"
            ("/stats", self.stats),
        ):
            app.router.add_get(path, auth.guarded(page, token))

    def _api_token(self) -> str | None:
        return self._components.settings.api_token

    def _render(self, request: web.Request, name: str, **context: Any) -> web.Response:
        policy = self._components.policy()
        html = self._env.get_template(name).render(
            page=name.removesuffix(".html"),
            zone=policy.timezone,
            when=lambda moment: format_moment(moment, policy.zone),
            signed=self._api_token() is not None,
            static=lambda path: request.app.router["static"].url_for(filename=path),
            **context,
        )
        return web.Response(text=html, content_type="text/html")

    def _now(self) -> datetime:
        return self._components.clock.now()

    async def board(self, request: web.Request) -> web.Response:
        async with self._components.store(read_only=True) as uow:
            releases = await uow.releases.find(ReleaseQuery(limit=1000))
        columns = views.board(releases, self._now())
        return self._render(request, "board.html", columns=columns)

    async def calendar(self, request: web.Request) -> web.Response:
        zone = self._components.policy().zone
        view = "week" if request.query.get("view") == "week" else "month"
        today = self._now().astimezone(zone).date()
        anchor = _date(request.query.get("date")) or today
        days = views.grid_days(anchor, view)
        start, end = views.local_bounds(days, zone)
        query = ReleaseQuery(
            scheduled_from=start, scheduled_until=end, include_unscheduled=False, limit=1000
        )
        async with self._components.store(read_only=True) as uow:
            releases = await uow.releases.find(query)
            freezes = await uow.freezes.overlapping(start, end)
            syncs = await uow.syncs.active() if view == "week" else []
        moments = [(f"Sync {s.label}", m) for s in syncs for m in occurrences(s, start, end)]
        grid = views.calendar_days(
            days,
            anchor=anchor,
            view=view,
            today=today,
            zone=zone,
            releases=releases,
            freezes=freezes,
            syncs=moments,
        )
        previous, following = views.neighbours(anchor, view)
        return self._render(
            request,
            "calendar.html",
            view=view,
            days=grid,
            anchor=anchor,
            title=views.calendar_title(days, anchor, view),
            previous=previous.isoformat(),
            following=following.isoformat(),
            freezes=freezes,
        )

    async def risks(self, request: web.Request) -> web.Response:
        now = self._now()
        async with self._components.store(read_only=True) as uow:
            active = await uow.releases.find(ReleaseQuery(states=ACTIVE, limit=1000))
            found = [v for r in active for v in await risk_views(uow, r.name, now)]
            waiting = await uow.risks.homeless()
        return self._render(
            request, "risks.html", columns=views.risk_columns(found), waiting=waiting
        )

    async def release(self, request: web.Request) -> web.Response:
        name = request.match_info["release"]
        components = self._components
        async with components.store(read_only=True) as uow:
            release = await uow.releases.get(name)
            if release is None:
                raise web.HTTPNotFound(text=f"There is no release {name}.")
            assessment = await assess(uow, release, components.policy(), self._now())
            trail = await uow.audit.for_release(name)
            smoke = await uow.smoke.latest(name)
            deployments = await uow.deployments.of_release(release.service, release.version)
            changes = await uow.changes.for_release(name)
        return self._render(
            request,
            "release.html",
            a=assessment,
            release=release,
            trail=trail,
            smoke=smoke,
            deployments=deployments,
            changes=changes,
        )

    async def stats(self, request: web.Request) -> web.Response:
        days = _days(request.query.get("days"))
        service = _service(request.query.get("service"))
        window = MetricsWindow.last(days, self._now(), service)
        async with self._components.store(read_only=True) as uow:
            report = await load_report(uow, window, daily=True)
        return self._render(
            request,
            "stats.html",
            report=report,
            days=days,
            service=service or "",
            charts=views.chart_data(report),
        )

    async def login_form(self, request: web.Request) -> web.Response:
        target = auth.safe_next(request.query.get("next"))
        return self._render(request, "login.html", next=target, failed=False)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        target = auth.safe_next(str(form.get("next", "/")))
        token = self._api_token()
        if token is None:
            raise web.HTTPSeeOther(target)
        if not same_secret(str(form.get("token", "")), token):
            page = self._render(request, "login.html", next=target, failed=True)
            page.set_status(401)
            return page
        response = auth.see_other(target)
        auth.remember(response, request, token)
        return response

    async def logout(self, _request: web.Request) -> web.StreamResponse:
        response = auth.see_other("/login")
        response.del_cookie(auth.COOKIE, path="/")
        return response


def _date(text: str | None) -> date | None:
    """The `date` asked for, in the years a moment may fall in (the grid goes a month on)."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        raise web.HTTPBadRequest(text="date must be YYYY-MM-DD") from None
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise web.HTTPBadRequest(text=f"date must fall in the years {FIRST_YEAR}–{LAST_YEAR}")
    return day
