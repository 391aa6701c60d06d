from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import commands as c
from bot.parser import MAX_COMMAND_LENGTH, MAX_ID, RULES, ParseError, parse
from bot.usage import BY_VERB

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def p(text: str) -> c.Command:
    return parse(text, now=NOW, zone=ZoneInfo("UTC"))


def test_every_verb_has_a_usage_line_and_a_rule() -> None:
    assert set(RULES) == set(BY_VERB)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", c.Help()),
        ("HELP declare", c.Help("declare")),
        (
            "declare checkout@2.4.0 at 2026-12-03 14:00 class emergency train public env prod "
            "owner slack:U123",
            c.Declare(
                "checkout@2.4.0",
                datetime(2026, 12, 3, 14, tzinfo=UTC),
                "emergency",
                "public",
                "prod",
                "slack:U123",
            ),
        ),
        ("declare payload-api@1.0-rc.1", c.Declare("payload-api@1.0-rc.1")),
        ("declare svc@β1 train t", c.Declare("svc@β1", train="t")),
        ("status checkout@2.4.0", c.Status("checkout@2.4.0")),
        ("list", c.ListReleases()),
        ("list all train public service checkout", c.ListReleases("all", "public", "checkout")),
        ("calendar 30", c.Calendar(30)),
        ("approve a@1 as qa looks good", c.Approve("a@1", "qa", "looks good")),
        ("reject a@1 flaky   tests", c.Reject("a@1", "flaky   tests")),
        (
            "signal a@1 coverage=82.5 open_blockers=0",
            c.Signal("a@1", (("coverage", "82.5"), ("open_blockers", "0"))),
        ),
        ("gate a@1 if accept R7 r8", c.Gate("a@1", ("R7", "R8"))),
        ("risk a@1 high cache may stampede", c.AddRisk("a@1", "high", "cache may stampede")),
        ("huddle a@1 hotfix or next train?", c.Huddle("a@1", "hotfix or next train?")),
        ("decide R7 accept low blast radius", c.Decide("R7", "accept", "low blast radius")),
        ("rollback a@1 error rate", c.Rollback("a@1", "error rate")),
        ("cancel a@1 superseded by a@2", c.Cancel("a@1", "superseded by a@2")),
        ("reschedule a@1 +2h", c.Reschedule("a@1", datetime(2026, 11, 26, 14, tzinfo=UTC))),
        ("promote a@1 public", c.Promote("a@1", "public")),
        ("notes a@1 publish", c.Notes("a@1", True)),
        ("sync weekdays 09:30 tz Europe/London", c.AddSync("weekdays 09:30", "Europe/London")),
        ("sync mon,thu 14:00", c.AddSync("mon,thu 14:00")),
        ("sync */15 9-17 * * mon-fri", c.AddSync("*/15 9-17 * * mon-fri")),
        ("sync cancel S3", c.CancelSync("S3")),
        ("syncs", c.ListSyncs()),
        ("poll a@1 at tomorrow 09:00", c.Poll("a@1", datetime(2026, 11, 27, 9, tzinfo=UTC))),
        (
            "freeze 2026-12-20 00:00 2027-01-04 09:00 holidays",
            c.Freeze(
                datetime(2026, 12, 20, tzinfo=UTC), datetime(2027, 1, 4, 9, tzinfo=UTC), "holidays"
            ),
        ),
        ("unfreeze F2", c.Unfreeze("F2")),
        ("metrics checkout 90", c.Metrics("checkout", 90)),
        ("metrics", c.Metrics()),
        ("audit a@1", c.Audit("a@1")),
    ],
)
def test_the_command_language(text: str, expected: c.Command) -> None:
    assert p(text) == expected


@pytest.mark.parametrize(
    ("text", "problem", "verb"),
    [
        ("", "empty", "help"),
        ("   ", "empty", "help"),
        ("deplyo a@1", "did you mean 'deploy'", "deploy"),
        ("frobnicate", "unknown command", "help"),
        ("status", "release is missing", "status"),
        ("status checkout", "not a release", "status"),
        ("status Checkout@1", "not a service name", "status"),
        ("declare " + "s" * 101 + "@1", "the service name is too long (101 characters", "declare"),
        ("status svc@1." + "x" * 980, "the version is too long (982 characters", "status"),
        ("declare a@1 at 2026-13-45 10:00", "not a calendar date", "declare"),
        ("declare a@1 class urgent", "not a change class", "declare"),
        ("declare a@1 owner bob", "not a person", "declare"),
        ("declare a@1 train", "needs a value", "declare"),
        ("declare a@1 train x train y", "given twice", "declare"),
        ("cancel a@1", "reason is required", "cancel"),
        ("calendar 0", "number of days", "calendar"),
        ("calendar ٣", "number of days", "calendar"),
        ("signal a@1 coverage", "not a signal", "signal"),
        ("decide R7 accept", "needs a rationale", "decide"),
        ("decide X7 accept why", "not a risk id", "decide"),
        ("decide R٣ accept why", "not a risk id", "decide"),
        (
            "decide R99999999999999999999 accept x",
            "R99999999999999999999 is not a risk id I know",
            "decide",
        ),
        ("gate a@1 if accept R99999999999999999999", "is not a risk id I know", "gate"),
        (
            "unfreeze F99999999999999999999",
            "F99999999999999999999 is not a freeze id I know",
            "unfreeze",
        ),
        ("unfreeze F²", "'F²' is not a freeze id", "unfreeze"),
        ("sync cancel S99999999999999999999", "is not a sync id I know", "sync"),
        ("declare a@1 at 9999-12-31 23:59", "the date 9999-12-31 is out of range", "declare"),
        ("poll a@1 at 9999-12-31T23:59-01:00", "out of range", "poll"),
        ("freeze 0001-01-01 00:00 Asia/Tokyo +1d", "out of range", "freeze"),
        ("sync sometimes", "schedule must be", "sync"),
        ("freeze tomorrow 10:00 today 15:00", "must end after", "freeze"),
        ("déclare ünïcode@1 🚀", "unknown command", "declare"),
        ("x" * (MAX_COMMAND_LENGTH + 1), "too long", "help"),
        ("declare a@1 " + "x" * MAX_COMMAND_LENGTH, "too long", "declare"),
    ],
)
def test_bad_input_names_the_problem_and_the_usage(
    text: str, problem: str, verb: str | None
) -> None:
    with pytest.raises(ParseError) as raised:
        p(text)
    assert problem in raised.value.problem
    assert raised.value.verb == verb
    if verb:
        assert raised.value.usage == BY_VERB[verb].line


def test_an_id_stops_at_what_the_database_column_holds() -> None:
    assert p(f"unfreeze f{MAX_ID}") == c.Unfreeze(f"F{MAX_ID}")
    with pytest.raises(ParseError, match=f"F{MAX_ID + 1} is not a freeze id I know"):
        p(f"unfreeze F{MAX_ID + 1}")


def test_buttons_carry_commands_that_survive_a_round_trip() -> None:
    for command in [
        c.Approve("a@1", "qa"),
        c.Reject("a@1", "flaky tests", role="qa"),
        c.Decide("R1", "accept", "fine", expires_at=datetime(2026, 12, 3, 14, tzinfo=UTC)),
        c.AnswerPoll(3, "blocked", "migration"),
        c.Rollback("a@1", "errors"),
        c.Huddle("a@1", "go?"),
    ]:
        assert c.load(c.dump(command)) == command


FORGED = [
    '{"c":"Declare","release":"Evil Name@1 2"}',  # no button declares: it must be typed
    '{"c":"Signal","release":"a@1","values":"ab"}',
    '{"c":"AnswerPoll","poll_id":"1","answer":"ready"}',
    '{"c":"AnswerPoll","poll_id":true,"answer":"ready"}',
    '{"c":"Approve","release":["a@1"]}',
    '{"c":"Decide","risk_id":"R1","outcome":"accept","rationale":"x",'
    '"expires_at":"2026-12-03T14:00:00"}',
]


@pytest.mark.parametrize(
    "garbage", ["", "{}", '{"c":"Nope"}', '{"c":"Status"}', "[1]", "not json", *FORGED]
)
def test_a_foreign_button_value_is_refused(garbage: str) -> None:
    with pytest.raises(c.CommandDecodeError):
        c.load(garbage)
