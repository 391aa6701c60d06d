"""Configuration from the environment (SPEC §5), validated once, with one line per bad value."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_FILE = Path("var") / "releasebot.db"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEAMS_APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
TRUE_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}

T = TypeVar("T")


class SettingsError(ValueError):
    """One or more variables are malformed; `problems` holds one line for each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


SLACK_API_BASE_URL = "https://slack.com/api/"  # Slack's own, unless SLACK_API_BASE_URL says


@dataclass(frozen=True, slots=True)
class SlackSettings:
    signing_secret: str | None = None
    bot_token: str | None = None
    app_token: str | None = None
    api_base_url: str = SLACK_API_BASE_URL

    @property
    def socket_mode(self) -> bool:
        """Slack reaches the bot over a WebSocket the bot opens, not over HTTP."""
        return bool(self.app_token)

    @property
    def missing(self) -> list[str]:
        """The credentials still needed to serve Slack: over Socket Mode the bot token alone
        (no request is signed), over HTTP the signing secret too."""
        needed = [("SLACK_BOT_TOKEN", self.bot_token)]
        if not self.socket_mode:
            needed.insert(0, ("SLACK_SIGNING_SECRET", self.signing_secret))
        return [name for name, value in needed if not value]


@dataclass(frozen=True, slots=True)
class TeamsSettings:
    app_id: str | None = None
    app_password: str | None = None
    tenant_id: str | None = None
    app_type: str = "MultiTenant"
    allow_unauthenticated: bool = False

    @property
    def missing(self) -> list[str]:
        """The credentials still needed to serve Teams (none in unauthenticated mode)."""
        if self.allow_unauthenticated and not self.app_id:
            return []
        needed = [("TEAMS_APP_ID", self.app_id)]
        if self.app_type != "UserAssignedMSI":
            needed.append(("TEAMS_APP_PASSWORD", self.app_password))
        if self.app_type in ("SingleTenant", "UserAssignedMSI"):
            needed.append(("TEAMS_APP_TENANT_ID", self.tenant_id))
        return [name for name, value in needed if not value]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    timezone: str = "UTC"
    policy_file: Path | None = None
    api_token: str | None = None
    public_url: str = "http://127.0.0.1:8080/"
    slack: SlackSettings = SlackSettings()
    teams: TeamsSettings = TeamsSettings()

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


class _Reader:
    """Reads variables, collecting a problem line for each malformed one instead of stopping."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str, check: Callable[[str], T] | None = None) -> T | str | None:
        raw = self.env.get(name, "").strip()
        if not raw:
            return None
        if check is None:
            return raw
        try:
            return check(raw)
        except ValueError as problem:
            self.problems.append(f"{name}: {problem}")
            return None


def load_settings(env: Mapping[str, str], *, cwd: Path | None = None) -> Settings:
    """Settings from `env`; raises SettingsError listing every malformed variable."""
    read = _Reader(env)
    default_url = f"sqlite+aiosqlite:///{(cwd or Path.cwd()) / DEFAULT_DATABASE_FILE}"
    settings = Settings(
        database_url=_str(read.get("RELEASEBOT_DATABASE_URL", _database_url)) or default_url,
        timezone=_str(read.get("RELEASEBOT_TIMEZONE", _timezone)) or "UTC",
        policy_file=_path(read.get("RELEASEBOT_POLICY_FILE", _existing_file)),
        api_token=_str(read.get("RELEASEBOT_API_TOKEN")),
        public_url=_str(read.get("RELEASEBOT_PUBLIC_URL", _http_url)) or "http://127.0.0.1:8080/",
        slack=SlackSettings(
            signing_secret=_str(read.get("SLACK_SIGNING_SECRET")),
            bot_token=_str(read.get("SLACK_BOT_TOKEN", _slack_token("xoxb-"))),
            app_token=_str(read.get("SLACK_APP_TOKEN", _slack_token("xapp-"))),
            api_base_url=_str(read.get("SLACK_API_BASE_URL", _http_url)) or SLACK_API_BASE_URL,
        ),
        teams=TeamsSettings(
            app_id=_str(read.get("TEAMS_APP_ID", _guid)),
            app_password=_str(read.get("TEAMS_APP_PASSWORD")),
            tenant_id=_str(read.get("TEAMS_APP_TENANT_ID", _guid)),
            app_type=_str(read.get("TEAMS_APP_TYPE", _app_type)) or "MultiTenant",
            allow_unauthenticated=read.get("TEAMS_ALLOW_UNAUTHENTICATED", _flag) is True,
        ),
    )
    if read.problems:
        raise SettingsError(read.problems)
    return settings


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _path(value: object) -> Path | None:
    return value if isinstance(value, Path) else None


def _database_url(raw: str) -> str:
    """A URL the store can open, checked here so a typo stops start-up with one line instead
    of a traceback from deep inside the first connection."""
    expected = "expected sqlite+aiosqlite:///<file> or postgresql+asyncpg://<host>/<db>"
    if not raw.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError(expected)
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # e.g. a port that is no number
        # Not echoed: a password in it, which may hold any character, would reach the log.
        raise ValueError(f"it is not a URL that can be read: {expected}") from None
    if url.drivername.startswith("sqlite"):
        _check_sqlite_file(url.database)
    return raw


def _check_sqlite_file(database: str | None) -> None:
    # In memory, each of the store's connections would see a database of its own.
    if not database or database == ":memory:":
        raise ValueError("expected a file: sqlite+aiosqlite:///<file>")
    if Path(database).is_dir():
        raise ValueError(f"{database} is a directory, not a database file")


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{raw!r} is not an IANA timezone such as Europe/London") from None
    return raw


def _existing_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise ValueError(f"no policy file at {raw}")
    return path


def _slack_token(prefix: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if not raw.startswith(prefix):
            raise ValueError(f"expected a token starting with {prefix}")
        return raw

    return check


def _http_url(raw: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", raw):
        raise ValueError(f"{raw!r} is not an http(s) URL")
    return raw if raw.endswith("/") else raw + "/"


def _guid(raw: str) -> str:
    if not GUID.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a GUID")
    return raw


def _app_type(raw: str) -> str:
    if raw not in TEAMS_APP_TYPES:
        raise ValueError(f"{raw!r} is not one of {', '.join(TEAMS_APP_TYPES)}")
    return raw


def _flag(raw: str) -> bool:
    if raw.lower() not in TRUE_WORDS:
        raise ValueError(f"{raw!r} is not 1 or 0")
    return TRUE_WORDS[raw.lower()]
