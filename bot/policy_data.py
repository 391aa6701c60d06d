"""What every part of the policy parser shares: its error, and checks on the shape of plain data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PolicyError(ValueError):
    """The policy is invalid; the message names the key and the problem."""


def mapping(value: Any, key: str) -> Mapping[str, Any]:
    """`value` as a mapping (an absent section is an empty one), or PolicyError naming `key`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PolicyError(f"{key}: expected a mapping")
    return value


def reject_unknown(body: Mapping[str, Any], allowed: set[str], key: str) -> None:
    """PolicyError naming the first key of `body` that is not `allowed` (typos fail loudly)."""
    unknown = sorted(set(map(str, body)) - allowed)
    if unknown:
        raise PolicyError(
            f"{key}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
