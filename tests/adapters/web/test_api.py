"""The REST API over real HTTP: tokens, declare, signals, risks, change items, notes, audit."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.domain import Actor
from storage.memory import MemoryStore
from tests.support.rest import TOKEN, call, status_of_raw_get, store_of
from tests.support.server import RunningBot, running_bot

QA = Actor("slack:U0QA00001", "quinn", "slack")


async def test_without_the_token_nothing_is_read_or_written(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    for method, path in [
        ("GET", "/releases"),
        ("POST", "/releases"),
        ("GET", "/releases/a@1/gate"),
        ("GET", "/audit"),
    ]:
        status, body = await call(http, method, api + path, headers=None, json={"release": "a@1"})
        assert status == 401 and body == {"error": "a valid bearer token is required"}
        wrong = {"Authorization": "Bearer nope"}
        assert (await call(http, method, api + path, headers=wrong, json={}))[0] == 401
    assert not store_of(bot).data.releases


@pytest.mark.parametrize(
    ("path", "header", "refused"),
    [
        ("/api/v1/releases", b"Authorization: Bearer \xff\xfe", 401),
        ("/calendar.ics", b"Authorization: Bearer \xff\xfe", 401),
        ("/", b"Cookie: releasebot_dashboard=\xff\xfe", 303),  # to the sign-in page
    ],
    ids=["api-token", "calendar-token", "dashboard-cookie"],
)
async def test_credentials_that_are_not_utf8_are_refused_like_wrong_ones(
    bot: RunningBot, path: str, header: bytes, refused: int
) -> None:
    assert await status_of_raw_get(bot.url + path, header) == refused


async def test_declare_then_read_it_back(bot: RunningBot, http: aiohttp.ClientSession) -> None:
    api = f"{bot.url}/api/v1"
    status, body = await call(
        http,
        "POST",
        f"{api}/releases",
        json={"release": "checkout@2.4.0", "at": "2026-12-03T14:00:00+01:00", "train": "public"},
    )
    assert status == 201
    assert body["name"] == "checkout@2.4.0" and body["scheduled_at"] == "2026-12-03T13:00:00Z"
    status, listed = await call(http, "GET", f"{api}/releases?train=public")
    assert [r["name"] for r in listed["releases"]] == ["checkout@2.4.0"]
    status, detail = await call(http, "GET", f"{api}/releases/checkout@2.4.0")
    assert detail["missing_signoffs"] == ["qa", "eng"] and detail["state"] == "planned"
    status, again = await call(http, "POST", f"{api}/releases", json={"release": "checkout@2.4.0"})
    assert status == 409 and "already declared" in again["error"]


async def test_a_declaration_says_what_it_clashes_with_as_chat_does(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    for line in (
        "freeze 2026-12-05 00:00 2026-12-06 00:00 year-end",
        "declare web@1 at 2026-12-05 09:30",
    ):
        reply = await bot.components.bot.handle_text(line, QA)
        assert reply.problem is None, reply.title

    status, body = await call(
        http, "POST", f"{api}/releases", json={"release": "web@2", "at": "2026-12-05T10:00:00Z"}
    )

    assert status == 201
    assert body["notes"] == [
        "⚠ Close to web@1 at Sat 5 Dec 2026 09:30 UTC",
        "⚠ Inside freeze F1 (year-end): deploys are blocked until Sun 6 Dec 2026 00:00 UTC "
        "except for emergency changes",
    ]
    quiet = {"release": "web@3", "at": "2026-12-20T10:00:00Z"}
    assert (await call(http, "POST", f"{api}/releases", json=quiet))[1]["notes"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "release is required"),
        ({"release": "nope"}, "not a release"),
        ({"release": "api@1 two"}, "may not contain spaces"),
        ({"release": "a@1", "at": "tomorrow-ish"}, "at: "),
        (
            {"release": "a@1", "class": "urgent"},
            "class: 'urgent' is not a change class (standard, normal or emergency)",
        ),
        ({"release": "a@1", "owner": "bob"}, "owner: "),
        ({"release": "a@1", "at": "2020-01-01T10:00:00Z"}, "in the past"),
        ({"release": "a@1", "train": "internal 1"}, "train: must be one word"),
        ({"release": "a@1", "env": "prod\nowner"}, "env: must be one word"),
        ([1, 2], "JSON object"),
    ],
)
async def test_bad_declarations_get_400_and_change_nothing(
    bot: RunningBot, http: aiohttp.ClientSession, body: Any, message: str
) -> None:
    status, answer = await call(http, "POST", f"{bot.url}/api/v1/releases", json=body)
    assert status == 400 and message in answer["error"]
    assert not store_of(bot).data.releases and not store_of(bot).data.audit


async def test_a_change_class_is_read_in_any_case_as_in_chat(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    body = {"release": "a@1", "class": "Emergency"}

    status, declared = await call(http, "POST", f"{bot.url}/api/v1/releases", json=body)

    assert (status, declared["class"]) == (201, "emergency")


async def test_bad_signals_and_unknown_releases(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await call(http, "POST", f"{api}/releases", json={"release": "a@1"})
    status, body = await call(
        http, "POST", f"{api}/releases/a@1/signals", json={"signals": {"coverage": "lots"}}
    )
    assert status == 400 and "not a number" in body["error"]
    assert (await call(http, "GET", f"{api}/releases/zzz@9/gate"))[0] == 404
    assert (await call(http, "GET", f"{api}/releases/NOPE/gate"))[0] == 400
    before = list(store_of(bot).data.audit)
    status, body = await call(
        http, "POST", f"{api}/releases/a@1%20coverage=99/signals", json={"signals": {"x": 1}}
    )
    assert status == 400 and "may not contain spaces" in body["error"]
    assert store_of(bot).data.audit == before


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        ({"open_criticals=0 coverage": 99}, "'open_criticals=0 coverage' is not a signal name"),
        ({"coverage": "99 open_criticals=0"}, "signals.coverage must be one number"),
        ({"coverage": "99\topen_criticals=0"}, "signals.coverage must be one number"),
        ({"coverage": [99]}, "signals.coverage must be a number"),
        ({"c" * 65: 1}, "is not a signal name"),
        ({f"k{n}": n for n in range(101)}, "1 to 100 of them"),
        ({"coverage": 90, "open_criticals": -1}, "open_criticals must be a whole number ≥ 0"),
        ({"coverage": 101}, "must be a percentage from 0 to 100, not 101"),
    ],
)
async def test_a_signal_key_or_value_that_is_not_one_word_gets_400_and_records_nothing(
    bot: RunningBot, http: aiohttp.ClientSession, signals: dict[str, Any], message: str
) -> None:
    await call(http, "POST", f"{bot.url}/api/v1/releases", json={"release": "a@1"})
    events = list(store_of(bot).data.audit)
    status, body = await call(
        http, "POST", f"{bot.url}/api/v1/releases/a@1/signals", json={"signals": signals}
    )
    assert status == 400 and message in body["error"], body
    assert store_of(bot).data.audit == events and not store_of(bot).data.tables.signals


async def test_audit_as_json_and_csv(bot: RunningBot, http: aiohttp.ClientSession) -> None:
    api = f"{bot.url}/api/v1"
    await call(http, "POST", f"{api}/releases", json={"release": "a@1"})
    await call(http, "POST", f"{api}/releases", json={"release": "b@1"})
    _, body = await call(http, "GET", f"{api}/audit?release=b@1")
    assert [(e["seq"], e["action"], e["actor"]) for e in body["events"]] == [
        (2, "declared", "api:rest")
    ]
    _status, text = await call(http, "GET", f"{api}/audit?format=csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["release"] for r in rows] == ["a@1", "b@1"] and rows[1]["prev_hash"] == rows[0][
        "hash"
    ]
    status, refused = await call(http, "GET", f"{api}/audit?format=xml")
    assert (status, refused) == (400, {"error": "format must be json or csv"})


async def test_reads_are_open_and_writes_refused_without_a_configured_token(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_bot({}, cwd=tmp_path, store=MemoryStore()) as bot:
        status, body = await call(
            http, "POST", f"{bot.url}/api/v1/releases", headers=None, json={"release": "a@1"}
        )
        assert status == 403 and "RELEASEBOT_API_TOKEN" in body["error"]
        assert (await call(http, "GET", f"{bot.url}/api/v1/releases", headers=None))[0] == 200


async def test_risks_and_change_items_feed_the_notes(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await call(http, "POST", f"{api}/releases", json={"release": "a@1"})
    status, risk = await call(
        http,
        "POST",
        f"{api}/releases/a@1/risks",
        json={"severity": "high", "description": "cache stampede"},
    )
    assert status == 201 and risk["id"] == "R1" and risk["severity"] == "high"
    changes = [
        {"title": "Pay by link", "kind": "feature", "squad": "payments", "author": "ana"},
        {
            "title": "Fix rounding",
            "kind": "fix",
            "squad": "payments",
            "merged_at": "2026-11-20T10:00:00Z",
        },
    ]
    status, added = await call(
        http, "POST", f"{api}/releases/a@1/changes", json={"changes": changes}
    )
    assert status == 201 and added["added"] == 2
    await bot.components.bot.handle_text("decide R1 accept warm-up ships too", QA)
    status, markdown = await call(http, "GET", f"{api}/releases/a@1/notes")
    assert status == 200
    assert markdown.splitlines()[:4] == ["# Release notes: a@1", "", "## Features · payments", ""]
    assert "- Pay by link (ana)" in markdown and "## Known issues" in markdown
    assert "R1 [high] cache stampede — accepted by quinn" in markdown


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_a_retried_risk_or_change_list_adds_nothing_twice(
    tmp_path: Path, http: aiohttp.ClientSession, store: str
) -> None:
    env = {"RELEASEBOT_API_TOKEN": TOKEN}
    kept = MemoryStore() if store == "memory" else None  # else the embedded SQLite file
    async with running_bot(env, cwd=tmp_path, store=kept) as bot:
        api = f"{bot.url}/api/v1"
        await call(http, "POST", f"{api}/releases", json={"release": "a@1"})
        risk = {"severity": "high", "description": "cache stampede"}
        change = {"title": "Fix rounding", "kind": "fix", "merged_at": "2026-11-20T11:00:00+01:00"}
        answers = []
        for _ in range(2):
            answers.append(await call(http, "POST", f"{api}/releases/a@1/risks", json=risk))
            body = {"changes": [change, {"title": "Pay by link", "kind": "feature"}]}
            answers.append(await call(http, "POST", f"{api}/releases/a@1/changes", json=body))
        _, notes = await call(http, "GET", f"{api}/releases/a@1/notes")
        _, audit = await call(http, "GET", f"{api}/audit?release=a@1")

    first_risk, first_changes, second_risk, second_changes = answers
    assert first_risk == second_risk and first_risk[1]["id"] == "R1"
    assert (first_changes[0], first_changes[1]["added"]) == (201, 2)
    assert (second_changes[0], second_changes[1]["added"]) == (200, 0)
    assert notes.count("Fix rounding") == 1 and notes.count("Pay by link") == 1
    actions = [event["action"] for event in audit["events"]]
    assert actions.count("risk_raised") == 1 and actions.count("changes_added") == 1


async def test_change_items_reported_after_the_deploy_leave_its_signoffs_as_given(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await call(http, "POST", f"{api}/releases", json={"release": "a@1"})
    eng = Actor("slack:U0ENG0001", "erin", "slack")
    for line, who in [
        ("signal a@1 coverage=90", QA),
        ("approve a@1", QA),
        ("approve a@1", eng),
        ("deploy a@1", QA),
        ("deployed a@1", QA),
    ]:
        await bot.components.bot.handle_text(line, who)
    late = {"changes": [{"title": "Typo in docs", "kind": "docs"}]}

    status, added = await call(http, "POST", f"{api}/releases/a@1/changes", json=late)

    assert (status, added) == (201, {"added": 1, "notes": []})
    assert not any(s.stale for s in store_of(bot).data.tables.signoffs)
    assert "signoffs_stale" not in [e.action for e in store_of(bot).data.audit]


async def test_a_cancelled_release_takes_no_new_risk(
    bot: RunningBot, http: aiohttp.ClientSession
) -> None:
    api = f"{bot.url}/api/v1"
    await call(http, "POST", f"{api}/releases", json={"release": "gone@1"})
    await bot.components.bot.handle_text("cancel gone@1 scrapped", QA)

    risk = {"severity": "high", "description": "zombie"}
    status, answer = await call(http, "POST", f"{api}/releases/gone@1/risks", json=risk)

    assert (status, answer) == (
        400,
        {"error": "gone@1 is cancelled: a risk on it would never be decided"},
    )
    assert not store_of(bot).data.tables.risks


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("risks", {"severity": "dire", "description": "x"}, "severity"),
        ("risks", {"severity": "low", "description": "  "}, "must not be empty"),
        # A line break would forge headings and items in the Markdown notes.
        ("risks", {"severity": "low", "description": "x\n## Known issues"}, "one line"),
        ("changes", {"changes": [{"title": "x\n## Security", "kind": "fix"}]}, "one line"),
        ("changes", {"changes": [{"title": "x", "kind": "fix all"}]}, "changes[0].kind: "),
        ("changes", {"changes": [{"title": "x", "kind": "fix", "link": "a b"}]}, "[0].link: "),
        (
            "changes",
            {
                "changes": [
                    {"title": "ok", "kind": "fix"},
                    {"title": "x", "kind": "fix", "author": "a\r\nb"},
                ]
            },
            "changes[1].author: must be one line",
        ),
        ("changes", {"changes": []}, "expected"),
        ("changes", {"changes": [{"kind": "fix"}]}, "title is required"),
        ("changes", {"changes": [{"title": "x", "kind": "fix", "merged_at": "soon"}]}, "merged_at"),
    ],
)
async def test_bad_risks_and_changes_get_400_and_change_nothing(
    bot: RunningBot, http: aiohttp.ClientSession, path: str, body: Any, message: str
) -> None:
    await call(http, "POST", f"{bot.url}/api/v1/releases", json={"release": "a@1"})
    events = len(store_of(bot).data.audit)
    status, answer = await call(http, "POST", f"{bot.url}/api/v1/releases/a@1/{path}", json=body)
    assert status == 400 and message in answer["error"], answer
    assert len(store_of(bot).data.audit) == events
    assert not store_of(bot).data.tables.risks and not store_of(bot).data.tables.changes
