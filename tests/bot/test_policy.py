from __future__ import annotations

from typing import Any

import pytest

from bot.domain import ChangeClass
from bot.policy import PolicyError, parse_policy

SPEC_POLICY: dict[str, Any] = {
    "timezone": "Europe/London",
    "roles": {"qa": ["slack:U0QA00001", "teams:6a3a8f2c"], "eng": ["slack:U0ENG0001"]},
    "classes": {
        "standard": {"signoffs": [], "gates": {}},
        "normal": {"signoffs": ["qa", "eng"], "gates": {"min_coverage": 80}},
        "emergency": {"signoffs": [], "gates": {}, "retro_review_hours": 48},
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
