"""`releasebot …`: serve, console, db upgrade, teams-package."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from adapters.bootstrap import Components, build
from adapters.settings import Settings, SettingsError, load_settings
from bot.domain import Actor
from bot.policy import PolicyError

log = logging.getLogger("releasebot")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Migrations and every scheduler run would otherwise fill the log at INFO.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return int(args.run(args))
    except (SettingsError, PolicyError) as problem:
        print(f"releasebot: {problem}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="releasebot", description="Chatops release manager.")
    commands = parser.add_subparsers(required=True, metavar="command")
    serve = commands.add_parser("serve", help="run the HTTP server (Slack, Teams, dashboard)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)
    console = commands.add_parser("console", help="type commands in a terminal or pipe them in")
    console.add_argument(
        "--as", dest="principal", type=_principal, help="act as this principal, e.g. slack:U123"
    )
    console.set_defaults(run=_console)
    db = commands.add_parser("db", help="database maintenance").add_subparsers(required=True)
    db.add_parser("upgrade", help="apply the schema migrations").set_defaults(run=_db_upgrade)
    audit = commands.add_parser("audit", help="verify or export the audit trail")
    audit_commands = audit.add_subparsers(required=True)
    audit_commands.add_parser("verify", help="check the hash chain").set_defaults(run=_audit_verify)
    export = audit_commands.add_parser("export", help="write the trail as JSON or CSV")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--release", help="only this release (service@version)")
    export.set_defaults(run=_audit_export)
    commands.add_parser("outbox", help="show waiting and dead-lettered messages").set_defaults(
        run=_outbox
    )
    package = commands.add_parser("teams-package", help="write the installable Teams app zip")
    package.add_argument("--out", type=Path, default=Path("releasebot-teams.zip"))
    package.set_defaults(run=_teams_package)
    return parser


def _settings() -> Settings:
    return load_settings(os.environ)


def _prepare_database(settings: Settings) -> None:
    """Migrate an embedded SQLite store; a shared PostgreSQL is migrated by `db upgrade`."""
    if settings.is_embedded:
        from storage.migrate import upgrade

        upgrade(settings.database_url)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings()
    _prepare_database(settings)
    from adapters.policy_file import load_policy

    load_policy(settings.policy_file, default_timezone=settings.timezone)
    # No access log: chat platforms call often, and /metrics counts requests without the cost.
    web.run_app(
        _serving_app(settings), host=args.host, port=args.port, print=log.info, access_log=None
    )
    return 0


async def _serving_app(settings: Settings) -> web.Application:
    from adapters.http import create_app

    components = await build(settings)
    app = create_app(components)
    app.on_startup.append(lambda _app: _reload_policy_on_sighup(components))
    app.on_startup.append(_tune_garbage_collection)
    return app


# Container objects allocated (net) before the youngest generation is collected; Python's
# default is 700. See `_tune_garbage_collection`.
YOUNG_GENERATION_THRESHOLD = 20_000


async def _tune_garbage_collection(_app: web.Application) -> None:
    """Keep the garbage collector off the requests' path, in two ways.

    Start-up's tens of thousands of long-lived objects (modules, SDK clients, the app) are
    frozen: every full collection would otherwise traverse them, pausing every request in
    flight for 70-90 ms. And the youngest generation is collected once 20,000 more objects
    are alive than at the last collection, rather than 700: a request frees what it allocates,
    but dozens in flight keep thousands alive at once, so at 700 every collection found them
    still alive, promoted them, and the older generations traversed them again. Measured under
    `make bench`: at 700, ≈ 450 collections took ≈ 5 % of the server's CPU time, in pauses of
    up to 4 ms; at 20,000, one collection of 6 ms in the whole run.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)


async def _reload_policy_on_sighup(components: Components) -> None:
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, components.policy.reload)
    except (NotImplementedError, AttributeError):  # pragma: no cover - no SIGHUP on Windows
        log.info("SIGHUP is not available here; restart to reload the policy")


def _principal(text: str) -> str:
    """A person as commands name one (`slack:U123`); argparse says what is wrong otherwise."""
    from bot.parser import ParseError, principal

    try:
        return principal(text)
    except ParseError as problem:
        raise argparse.ArgumentTypeError(problem.problem) from None


def _console(args: argparse.Namespace) -> int:
    settings = _settings()
    _prepare_database(settings)
    user = getpass.getuser()
    # Acting as someone else, cards say who that is rather than who sits at the terminal.
    principal = args.principal or f"console:{user}"
    actor = Actor(principal=principal, display_name=args.principal or user, surface="console")
    return asyncio.run(_run_console(settings, actor))


async def _run_console(settings: Settings, actor: Actor) -> int:
    from adapters.console import run_console

    components = await build(settings)
    try:
        history = Path("var") / "console_history"
        return await run_console(
            components.bot, actor, stdin=sys.stdin, stdout=sys.stdout, history_file=history
        )
    finally:
        await components.store.close()


def _db_upgrade(_args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def _audit_verify(_args: argparse.Namespace) -> int:
    from adapters.audit_cli import verify

    return asyncio.run(verify(_existing_store_settings()))


def _audit_export(args: argparse.Namespace) -> int:
    from adapters.audit_cli import export

    return asyncio.run(export(_existing_store_settings(), fmt=args.format, release=args.release))


def _outbox(_args: argparse.Namespace) -> int:
    from adapters.audit_cli import show_outbox

    return asyncio.run(show_outbox(_existing_store_settings()))


def _existing_store_settings() -> Settings:
    """Settings whose database holds a releasebot store: the commands that only read it must
    not create an empty one where the URL points by mistake, nor fail on missing tables."""
    from storage.migrate import current

    settings = _settings()
    if current(settings.database_url) is None:
        problem = "RELEASEBOT_DATABASE_URL: no releasebot store there yet (releasebot db upgrade)"
        raise SettingsError([problem])
    return settings


def _teams_package(args: argparse.Namespace) -> int:
    from adapters.teams.package import default_manifest_dir, write_teams_package

    app_id = _settings().teams.app_id
    if not app_id:
        print("releasebot: set TEAMS_APP_ID to the bot's Microsoft app id", file=sys.stderr)
        return 2
    path = write_teams_package(
        app_id=app_id, out_path=args.out, manifest_dir=default_manifest_dir()
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
