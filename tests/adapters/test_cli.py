"""The CLI as people run it: real processes, real stdin, a real server."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

RELEASEBOT = [sys.executable, "-m", "adapters.cli"]
CREDENTIAL_VARS = (
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "TEAMS_APP_ID",
    "TEAMS_APP_PASSWORD",
    "TEAMS_ALLOW_UNAUTHENTICATED",
    "RELEASEBOT_POLICY_FILE",
    "RELEASEBOT_DATABASE_URL",
    "RELEASEBOT_TIMEZONE",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    return {**env, **extra}


def run(
    args: list[str], cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        RELEASEBOT + args,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("serve", "console", "db", "teams-package"):
        assert command in result.stdout


def test_each_malformed_variable_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run(
        ["serve"],
        tmp_path,
        RELEASEBOT_TIMEZONE="Mars/Base",
        TEAMS_APP_ID="not-a-guid",
        RELEASEBOT_DATABASE_URL="mysql://x",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert any(line.startswith("releasebot: RELEASEBOT_DATABASE_URL:") for line in lines)
    assert any("RELEASEBOT_TIMEZONE: 'Mars/Base'" in line for line in lines)
    assert any("TEAMS_APP_ID: 'not-a-guid' is not a GUID" in line for line in lines)


@pytest.mark.parametrize(
    ("command", "url", "problem"),
    [
        (["serve"], "postgresql+asyncpg://u:s3cr/et@db:notaport/rb", "is not a URL"),
        (["db", "upgrade"], "postgresql+asyncpg://u@db:notaport/rb", "is not a URL"),
        (["serve"], "sqlite+aiosqlite:///{tmp}", "is a directory, not a database file"),
        (["console"], "sqlite+aiosqlite:///:memory:", "expected a file"),
    ],
    ids=["port-serve", "port-upgrade", "directory", "in-memory"],
)
def test_a_malformed_database_url_stops_start_up_with_one_line(
    tmp_path: Path, command: list[str], url: str, problem: str
) -> None:
    result = run(command, tmp_path, RELEASEBOT_DATABASE_URL=url.format(tmp=tmp_path))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("releasebot: RELEASEBOT_DATABASE_URL: ") and problem in line
    assert "s3cr" not in line  # a password never reaches the log


def test_an_invalid_policy_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("classes:\n  normal:\n    signoffs: [cto]\n")
    result = run(["serve"], tmp_path, RELEASEBOT_POLICY_FILE=str(policy))
    assert result.returncode == 2
    assert "classes.normal.signoffs: role 'cto' is not defined" in result.stderr


def test_a_policy_that_leaves_a_change_class_out_stops_start_up(tmp_path: Path) -> None:
    # Left out, `normal` (what `declare` gives by default) would need no sign-off and no gate.
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles: {qa: ['slack:U0QA00001']}\nclasses: {standard: {signoffs: [qa]}}\n")
    result = run(["serve"], tmp_path, RELEASEBOT_POLICY_FILE=str(policy))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"releasebot: {policy}: classes: normal, emergency missing (name every change class: "
        "standard, normal and emergency; `{}` for one that needs nothing)"
    ]


def test_console_reads_stdin_and_the_data_survives_a_restart(tmp_path: Path) -> None:
    first = run(
        ["console"], tmp_path, "# a comment\ndeclare checkout@2.4.0 at 2030-01-07 10:00\n\n"
    )
    assert first.returncode == 0, first.stderr
    assert "Release checkout@2.4.0" in first.stdout
    assert (tmp_path / "var" / "releasebot.db").exists()
    second = run(
        ["console", "--as", "slack:U0QA00001"],
        tmp_path,
        "status checkout@2.4.0\napprove checkout@2.4.0\n",
    )
    assert "When: Mon 7 Jan 2030 10:00 UTC" in second.stdout  # SPEC §5's default zone
    assert "Owner: console:" in second.stdout
    assert "qa: approved by slack:U0QA00001" in second.stdout  # who it acts as, not the OS user


def test_console_answers_input_out_of_range_plainly(tmp_path: Path) -> None:
    # Each of these once overflowed inside SQLite or datetime: "something went wrong".
    lines = [
        "declare a@1 at 9999-12-31 23:59",
        "decide R99999999999999999999 accept x",
        "unfreeze F99999999999999999999",
    ]
    result = run(["console"], tmp_path, "\n".join(lines) + "\n")
    assert "went wrong" not in result.stdout and "Traceback" not in result.stderr
    assert "The date 9999-12-31 is out of range" in result.stdout
    assert "R99999999999999999999 is not a risk id I know" in result.stdout
    assert "F99999999999999999999 is not a freeze id I know" in result.stdout


def test_the_timezone_setting_reads_and_shows_times_where_the_policy_names_none(
    tmp_path: Path,
) -> None:
    new_york = {"RELEASEBOT_TIMEZONE": "America/New_York"}
    run(["console"], tmp_path, "declare checkout@2.4.0 at 2030-01-07 10:00\n", **new_york)
    in_new_york = run(["console"], tmp_path, "status checkout@2.4.0\n", **new_york)
    assert "When: Mon 7 Jan 2030 10:00 EST" in in_new_york.stdout
    in_utc = run(["console"], tmp_path, "status checkout@2.4.0\n")
    assert "When: Mon 7 Jan 2030 15:00 UTC" in in_utc.stdout


def test_console_exit_status_says_a_command_was_refused(tmp_path: Path) -> None:
    result = run(["console"], tmp_path, "status nope@1\nfrobnicate\n")
    assert result.returncode == 1
    assert "There is no release nope@1" in result.stdout
    assert "Unknown command 'frobnicate'" in result.stdout


def test_console_refuses_to_act_as_no_one(tmp_path: Path) -> None:
    result = run(["console", "--as", "garbage"], tmp_path, "declare a@1\n")

    assert result.returncode == 2
    assert "argument --as: 'garbage' is not a person" in result.stderr
    assert not (tmp_path / "var").exists()  # nothing was opened, let alone declared


def test_console_stops_at_quit_in_piped_input(tmp_path: Path) -> None:
    result = run(["console"], tmp_path, "help sync\nquit\ndeclare a@1\n")

    assert result.returncode == 0
    assert "Unknown command" not in result.stdout
    assert "Release a@1" not in result.stdout  # nothing after `quit` is run


def test_console_refuses_to_publish_notes_it_has_nowhere_to_send(tmp_path: Path) -> None:
    result = run(["console"], tmp_path, "declare a@1 class standard\nnotes a@1 publish\n")

    assert result.returncode == 1
    assert "a@1 has no Slack or Teams channel to publish to: publish from one" in result.stdout
    assert run(["outbox"], tmp_path).stdout.startswith("outbox: 0 waiting, 0 dead-lettered")


def test_a_huddle_in_the_console_shows_its_card_and_outcome_there(tmp_path: Path) -> None:
    lines = [
        "declare a@1 at 2030-01-07 10:00",
        "risk a@1 high the migration locks orders",
        "huddle a@1 go/no-go",
        "huddle close a@1",
    ]
    result = run(["console"], tmp_path, "\n".join(lines) + "\n")

    assert result.returncode == 0, result.stdout
    assert "Risk huddle H1: a@1" in result.stdout  # the card, not a word that it went elsewhere
    assert "R1 [high] the migration locks orders" in result.stdout
    assert "posted in" not in result.stdout
    # Nothing waits in the outbox for a channel the console is not.
    assert run(["outbox"], tmp_path).stdout.startswith("outbox: 0 waiting, 0 dead-lettered")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [*RELEASEBOT, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_listening(port, process)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _wait_until_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stdout.read() if process.stdout else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)  # polling a port that is not open yet, not hiding a race
    raise AssertionError("serve did not start listening within 30 s")


async def test_serve_answers_health_and_names_missing_credentials(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = server
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/healthz") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"
        async with http.post(f"{url}/slack/events", data=b"") as response:
            assert response.status == 503
            assert "SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN" in (await response.json())["error"]
        async with http.post(f"{url}/api/messages", json={}) as response:
            assert response.status == 503
            assert "TEAMS_APP_ID and TEAMS_APP_PASSWORD" in (await response.json())["error"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    output = process.stdout.read() if process.stdout else ""
    assert "Slack is off" in output and "Teams is off" in output


STRICT_POLICY = """
timezone: UTC
roles: {qa: ["slack:U0QA00001"]}
classes:
  standard: {}
  normal: {signoffs: [qa], gates: {}}
  emergency: {}
"""
RELAXED_POLICY = STRICT_POLICY.replace("signoffs: [qa]", "signoffs: []")


def test_sighup_reloads_a_valid_policy_and_keeps_the_old_one_otherwise(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(STRICT_POLICY)
    port = free_port()
    env = clean_env(RELEASEBOT_POLICY_FILE=str(policy), RELEASEBOT_API_TOKEN="t")
    process = subprocess.Popen(
        [*RELEASEBOT, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_listening(port, process)
        url = f"http://127.0.0.1:{port}/api/v1/releases"
        assert _declared_state(url, "a@1") == "planned"
        policy.write_text("classes: {normal: {signoffs: [nobody]}}")
        process.send_signal(signal.SIGHUP)
        _wait_for_line(process, "policy not reloaded, keeping the old one")
        assert _declared_state(url, "b@1") == "planned"
        policy.write_text(RELAXED_POLICY)
        process.send_signal(signal.SIGHUP)
        _wait_for_line(process, "policy reloaded from")
        assert _declared_state(url, "c@1") == "approved"
    finally:
        process.terminate()
        process.wait(timeout=15)


def _declared_state(url: str, name: str) -> str:
    request = urllib.request.Request(
        url,
        data=json.dumps({"release": name}).encode(),
        method="POST",
        headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return str(json.load(response)["state"])


def _wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    """Read the server's log until `text` appears (the log is the only witness of a reload)."""
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return line
    raise AssertionError(f"the server ended without logging {text!r}")


def test_audit_export_writes_the_trail_as_json_and_csv(tmp_path: Path) -> None:
    run(["console"], tmp_path, "declare a@1 at 2030-01-07 10:00\ncancel a@1 not needed\n")
    exported = run(["audit", "export", "--format", "json", "--release", "a@1"], tmp_path)
    events = json.loads(exported.stdout)
    assert [e["action"] for e in events] == ["declared", "cancelled"]
    assert events[1]["prev_hash"] == events[0]["hash"]
    table = run(["audit", "export", "--format", "csv"], tmp_path).stdout.splitlines()
    assert table[0].startswith("seq,at,action,actor") and len(table) == 3
    verified = run(["audit", "verify"], tmp_path)
    assert verified.returncode == 0 and "intact: 2 events" in verified.stdout
    outbox = run(["outbox"], tmp_path)
    assert outbox.returncode == 0 and outbox.stdout.startswith("outbox: 0 waiting, 0 dead-lettered")


@pytest.mark.parametrize("args", [["audit", "verify"], ["audit", "export"], ["outbox"]])
def test_reading_a_store_that_is_not_there_says_so_and_creates_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    missing = tmp_path / "elsewhere" / "releasebot.db"
    url = f"sqlite+aiosqlite:///{missing}"

    answer = run(args, tmp_path, RELEASEBOT_DATABASE_URL=url)

    assert answer.returncode == 2
    assert answer.stderr.strip() == (
        "releasebot: RELEASEBOT_DATABASE_URL: no releasebot store there yet (releasebot db upgrade)"
    )
    assert not missing.exists() and not missing.parent.exists()


async def test_serving_freezes_start_up_objects_and_collects_young_objects_less_often() -> None:
    from aiohttp import web

    from adapters.cli import YOUNG_GENERATION_THRESHOLD, _tune_garbage_collection

    before = gc.get_threshold()
    try:
        await _tune_garbage_collection(web.Application())
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
