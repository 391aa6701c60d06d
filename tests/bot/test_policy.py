from __future__ import annotations

import math
from typing import Any

import pytest

from bot.domain import ChangeClass
from bot.policy import PolicyError, parse_policy

SPEC_POLICY: dict[str, Any] = {
    "timezone": "Europe/London",
    "roles": {
        "qa": ["slack:U0QA00001", "teams:6a3a8f2c"],
        "eng": ["slack:U0ENG0001"],
        "ops": ["slack:U0OPS0001"],
    },
    "classes": {
        "standard": {"signoffs": [], "gates": {}},
        "normal": {"signoffs": ["qa", "eng"], "gates": {"min_coverage": 80}},
        "emergency": {"signoffs": ["ops"], "gates": {}, "retro_review_hours": 48},
    },
    "rules": {"forbid_self_approval": True},
}


def test_the_policy_of_the_spec_parses() -> None:
    policy = parse_policy(SPEC_POLICY)
    assert policy.for_class(ChangeClass.NORMAL).signoffs == ("qa", "eng")
    assert policy.for_class(ChangeClass.NORMAL).gates == {"min_coverage": 80.0}
    assert policy.for_class(ChangeClass.EMERGENCY).retro_review_hours == 48
    assert policy.forbid_self_approval and not policy.keep_signoffs_on_change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Base"}, "timezone: unknown timezone 'Mars/Base'"),
        ({"roles": {"qa": "slack:U1"}}, "roles.qa: expected a list"),
        ({"roles": {"qa": ["bob"]}}, "roles.qa: 'bob' is not a principal"),
        ({"classes": {"urgent": {}}}, "classes.urgent: unknown change class"),
        ({"classes": {"normal": {"signoffs": ["cto"]}}}, "classes.normal.signoffs: role 'cto'"),
        ({"classes": {"normal": {"gates": {"vibes": 1}}}}, "classes.normal.gates.vibes: unknown"),
        ({"classes": {"normal": {"gates": {"min_coverage": "high"}}}}, "expected a number"),
        ({"rules": {"forbid_self_approval": "yes"}}, "rules.forbid_self_approval: expected true"),
        ({"classes": {"normal": {}, "emergency": {}}}, "classes: standard missing"),
        ({"classes": {}}, "classes: standard, normal, emergency missing"),
        ({"colour": "blue"}, "policy: unknown key 'colour'"),
    ],
)
def test_an_invalid_policy_names_the_key_and_the_problem(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy({**SPEC_POLICY, **change})
    assert message in str(raised.value)


def with_class(name: str, **body: Any) -> dict[str, Any]:
    return {"classes": {**SPEC_POLICY["classes"], name: body}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # A threshold that is no number in its range would turn its gate off, or fail it always.
        (with_class("normal", gates={"min_coverage": float("nan")}), "from 0 to 100"),
        (with_class("normal", gates={"min_coverage": 150}), "from 0 to 100"),
        (with_class("normal", gates={"max_open_blockers": -1}), "a whole number from 0"),
        (with_class("normal", gates={"max_open_blockers": 0.5}), "a whole number from 0"),
        (with_class("normal", gates={"max_open_blockers": 10**400}), "a whole number from 0"),
        (
            with_class("normal", gates={"min_coverage": 80}, weights={"min_coverage": math.inf}),
            "classes.normal.weights.min_coverage: expected a number from 0 to 1000",
        ),
        (
            with_class("emergency", signoffs=["ops"], retro_review_hours=100_000_000),
            "classes.emergency.retro_review_hours: expected a whole number of hours from 1 to 8784",
        ),
        ({"polls": {"before_hours": math.inf}}, "polls.before_hours: expected a number of hours"),
        # Roles: named once each, as text, each with someone to fill it.
        (with_class("normal", signoffs=[["qa"], "eng"]), "role ['qa'] is not defined"),
        (with_class("normal", signoffs=["qa", "qa"]), "role 'qa' is listed twice"),
        (
            {"roles": {**SPEC_POLICY["roles"], "qa": []}},
            "classes.normal.signoffs: role 'qa' has no members to sign off",
        ),
        # An emergency's review needs both a window and someone to sign it.
        (
            with_class("emergency", signoffs=[], retro_review_hours=48),
            "classes.emergency.signoffs: name the roles that sign the retrospective review",
        ),
        (
            with_class("emergency", signoffs=["ops"]),
            "classes.emergency.retro_review_hours: needed with signoffs",
        ),
    ],
    ids=[
        "nan-threshold",
        "coverage-150",
        "negative-count",
        "fractional-count",
        "count-too-large-for-a-float",
        "infinite-weight",
        "huge-review-window",
        "infinite-poll-hours",
        "role-as-list",
        "role-twice",
        "role-without-members",
        "review-nobody-signs",
        "signoffs-without-review",
    ],
)
def test_a_policy_that_would_turn_a_rule_off_or_break_later_is_refused(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy({**SPEC_POLICY, **change})
    assert message in str(raised.value)


def test_members_named_by_email_match_whatever_case_the_platform_reports() -> None:
    policy = parse_policy(
        {**SPEC_POLICY, "roles": {**SPEC_POLICY["roles"], "qa": ["email:Quinn@Example.COM"]}}
    )

    assert policy.names_by_email and not parse_policy(SPEC_POLICY).names_by_email
    assert policy.in_role("qa", {"slack:U0QA00001", "email:quinn@example.com"})
    assert not policy.in_role("qa", {"slack:U0QA00001"})
