"""`GET /calendar.ics`: releases, freeze windows and release syncs as an iCalendar feed.

Every event keeps its UID for ever (release name, freeze id, sync id), so a subscribed calendar
updates events in place instead of piling up copies; SEQUENCE follows the release's revision.
Times carry their IANA zone (TZID) with a VTIMEZONE, so each reader sees the right local time.
A sync whose cron is a fixed time on some weekdays becomes one recurring event (RRULE); any
other cron is written out as its occurrences over the next weeks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web
from icalendar import Calendar, Event

from adapters.bootstrap import Components
from adapters.scheduler import occurrences
from adapters.web.auth import same_secret
from adapters.web.dashboard_auth import signed_in
from bot.domain import Freeze, Release, State
from bot.ports import ReleaseQuery
from bot.schedules import DAY_NAMES, Sync

RELEASE_LENGTH = timedelta(minutes=30)
SYNC_LENGTH = timedelta(minutes=15)
EXPANDED_WEEKS = 6
ICAL_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
STATUS = {State.PLANNED: "TENTATIVE", State.CANCELLED: "CANCELLED"}


def feed(
    releases: Sequence[Release],
    freezes: Sequence[Freeze],
    syncs: Sequence[Sync],
    *,
    zone: ZoneInfo,
    now: datetime,
    link: str,
) -> bytes:
    """The whole calendar; `link` is the dashboard's address, for each release's URL."""
    calendar = Calendar()
    calendar.add("prodid", "-//releasebot//release calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Releases")
    calendar.add("x-wr-timezone", zone.key)
    events = [_release(r, zone, link) for r in releases if r.scheduled_at is not None]
    events += [_freeze(f, zone) for f in freezes]
    for sync in syncs:
        events += _sync(sync, now)
    for event in events:
        calendar.add_component(event)
    starts = [e.decoded("dtstart").date() for e in events] or [now.date()]
    ends = [e.decoded("dtend").date() for e in events]
    # Only the transitions the feed needs, not fifty years of them: up to its last event, and
    # a few years on for the syncs that repeat for ever. A reader follows the rules given, so a
    # release beyond them would show an hour off in summer.
    last = max([*ends, _far(now)]) + timedelta(days=1)
    calendar.add_missing_timezones(first_date=min(starts) - timedelta(days=1), last_date=last)
    return calendar.to_ical()


def _far(now: datetime) -> date:
    return (now + timedelta(days=3 * 366)).date()


def _event(uid: str, summary: str, start: datetime, end: datetime, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp)
    return event


def _release(release: Release, zone: ZoneInfo, link: str) -> Event:
    assert release.scheduled_at is not None
    start = release.scheduled_at.astimezone(zone)
    summary = f"Release {release.name} ({release.state.label})"
    event = _event(
        f"release-{quote(release.name, safe='')}@releasebot",
        summary,
        start,
        start + RELEASE_LENGTH,
        release.updated_at,
    )
    event.add("sequence", release.revision)
    event.add("last-modified", release.updated_at)
    event.add("status", STATUS.get(release.state, "CONFIRMED"))
    event.add("url", f"{link}releases/{quote(release.name, safe='@')}")
    event.add("description", _release_details(release))
    return event


def _release_details(release: Release) -> str:
    parts = [f"Class: {release.change_class.value}", f"Owner: {release.owner}"]
    if release.train:
        parts.append(f"Train: {release.train}")
    if release.env:
        parts.append(f"Environment: {release.env}")
    return "\n".join(parts)


def _freeze(freeze: Freeze, zone: ZoneInfo) -> Event:
    summary = f"Freeze {freeze.label}" + (f": {freeze.reason}" if freeze.reason else "")
    event = _event(
        f"freeze-{freeze.id}@releasebot",
        summary,
        freeze.starts_at.astimezone(zone),
        freeze.ends_at.astimezone(zone),
        freeze.starts_at,
    )
    event.add("description", "Deploys are blocked except for emergency changes.")
    return event


def _sync(sync: Sync, now: datetime) -> list[Event]:
    zone = ZoneInfo(sync.timezone)
    summary = f"Release sync {sync.label} ({sync.schedule})"
    byday = weekly_days(sync.cron)
    if byday is not None:
        first = occurrences(sync, sync.created_at, sync.created_at + timedelta(days=8))
        if first:
            start = first[0].astimezone(zone)
            event = _event(
                f"sync-{sync.id}@releasebot", summary, start, start + SYNC_LENGTH, sync.created_at
            )
            rule = {"freq": "daily"} if len(byday) == 7 else {"freq": "weekly", "byday": byday}
            event.add("rrule", rule)
            return [event]
    upcoming = occurrences(sync, now, now + timedelta(weeks=EXPANDED_WEEKS))
    return [_occurrence(sync, summary, moment.astimezone(zone)) for moment in upcoming]


def _occurrence(sync: Sync, summary: str, start: datetime) -> Event:
    uid = f"sync-{sync.id}-{start:%Y%m%dT%H%M%z}@releasebot"
    return _event(uid, summary, start, start + SYNC_LENGTH, sync.created_at)


def weekly_days(cron: str) -> list[str] | None:
    """BYDAY for a cron firing at one fixed time on some weekdays; None for anything else."""
    minute, hour, day, month, weekdays = cron.split()
    if not (minute.isdigit() and hour.isdigit() and day == "*" and month == "*"):
        return None
    if weekdays == "*":
        return list(ICAL_DAYS[1:] + ICAL_DAYS[:1])
    days: list[str] = []
    for part in weekdays.split(","):
        numbers = _day_range(part)
        if numbers is None:
            return None
        days += [ICAL_DAYS[n % 7] for n in numbers if ICAL_DAYS[n % 7] not in days]
    return days


def _day_range(part: str) -> list[int] | None:
    if "/" in part:
        return None
    first, _, last = part.partition("-")
    start, end = _day(first), _day(last or first)
    if start is None or end is None or end < start:
        return None
    return list(range(start, end + 1))


def _day(text: str) -> int | None:
    if text in DAY_NAMES:
        return DAY_NAMES.index(text)
    return int(text) if text.isdigit() and int(text) <= 7 else None


# The HTTP side: which releases, freezes and syncs the feed holds, and who may read it.
PAST = timedelta(days=90)
AHEAD = timedelta(days=366)


def endpoint(components: Components) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def calendar_ics(request: web.Request) -> web.Response:
        token = components.settings.api_token
        # Calendar apps cannot send headers or keep cookies: the token rides in the URL. A
        # browser signed in to the dashboard may download the feed with its cookie.
        if token is not None and not (
            same_secret(request.query.get("token"), token)
            or _bearer_ok(request, token)
            or signed_in(request, token)
        ):
            return web.Response(status=401, text="add ?token=<RELEASEBOT_API_TOKEN> to the URL")
        now = components.clock.now()
        query = ReleaseQuery(scheduled_from=now - PAST, include_unscheduled=False, limit=2000)
        async with components.store(read_only=True) as uow:
            releases = await uow.releases.find(query)
            freezes = await uow.freezes.overlapping(now - PAST, now + AHEAD)
            syncs = await uow.syncs.active()
        policy = components.policy()
        body = feed(
            releases,
            freezes,
            syncs,
            zone=policy.zone,
            now=now,
            link=components.settings.public_url,
        )
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="releases.ics"'},
        )

    return calendar_ics


def _bearer_ok(request: web.Request, token: str) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and same_secret(value, token)
