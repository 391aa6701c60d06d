"""Validate Adaptive Cards against the shared 1.5 schema (../shared/schemas/).

The schema is draft-06 and passes `check_schema`, and all its regexes compile in Python, but its
case-insensitive enum patterns are written `^(a)|(b)|(c)$`: the anchors bind to the first and
last alternatives only, `[d|D]` also admits '|', and with no `"type": "string"` beside them they
accept any non-string. As published it takes `"NotBolder"` or `5` for a weight, `"|efault"` for
a colour and any object as a `fallback`. We validate against a copy with those patterns as their
authors meant them (`^(?:…)$`, `[dD]`, strings only); the file itself is left alone.

Other quirks that do not bite our cards: the `id` keyword (draft-04 style, ignored by draft-06;
every `$ref` is local), Container's `"rtl?"` property typo, no room for Teams' `msteams` card
extension (additionalProperties is false), and the `uri` format goes unchecked without rfc3987.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCHEMA = SHARED / "schemas" / "adaptive-card-1.5.schema.json"

_LOOSE_CLASS = re.compile(r"\[(\w)\|(\w)\]")


def assert_valid_card(card: Any) -> None:
    """Fail with readable errors unless `card` is a valid Adaptive Card 1.5."""
    validator = card_validator()
    # The same card is often checked twice (as a reply, then at teardown) and validating one
    # takes tens of milliseconds: a card found valid once is not checked again.
    text = json.dumps(card, sort_keys=True)
    if text in _VALID:
        return
    errors = list(validator.iter_errors(card))
    assert not errors, "invalid Adaptive Card:\n" + _describe(errors) + "\n" + text[:2000]
    _VALID.add(text)


_VALID: set[str] = set()


def card_validator() -> Validator:
    """The (tightened) 1.5 validator; skips, or fails in CI, when the schema is missing."""
    if not SCHEMA.is_file():
        reason = f"Adaptive Card schema {SCHEMA} is missing: shared/ must sit beside the repository"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return _validator(SCHEMA)


@functools.cache
def _validator(path: Path) -> Validator:
    schema = tightened(json.loads(path.read_text("utf-8")))
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def tightened(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` whose patterns are anchored as a whole, `[xX]` and for strings only."""
    fixed = copy.deepcopy(schema)
    _fix_patterns(fixed)
    return fixed


def _fix_patterns(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _fix_patterns(item)
    if not isinstance(node, dict):
        return
    for value in node.values():
        _fix_patterns(value)
    if isinstance(node.get("pattern"), str):
        node["pattern"] = _anchored(node["pattern"])
        # Without a type a pattern accepts every non-string, e.g. `"weight": 5`.
        node.setdefault("type", "string")


def _anchored(pattern: str) -> str:
    body = _LOOSE_CLASS.sub(r"[\1\2]", pattern)
    if body.startswith("^") and body.endswith("$"):
        body = f"^(?:{body[1:-1]})$"
    return body


def _describe(errors: list[ValidationError]) -> str:
    leaves = [leaf for error in errors for leaf in _leaves(error)]
    lines = {f"  {'/'.join(map(str, e.absolute_path)) or '<card>'}: {e.message}" for e in leaves}
    return "\n".join(sorted(lines))


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that matter under an anyOf: those of the branches of the element's own type."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    right_type = [b for b in branches.values() if not any(_wrong_type(e) for e in b)]
    if not right_type:  # an unknown element or action type: every branch is wrong
        return [error]
    return [leaf for branch in right_type for sub in branch for leaf in _leaves(sub)]


def _wrong_type(error: ValidationError) -> bool:
    return error.validator == "enum" and list(error.relative_path) == ["type"]
