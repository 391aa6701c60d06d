"""Loading the policy file (YAML) and keeping the one in force, reloadable on SIGHUP."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import yaml

from bot.policy import Policy, PolicyError, parse_policy

log = logging.getLogger(__name__)


def load_policy(path: Path | None, *, default_timezone: str) -> Policy:
    """The policy at `path`, or the built-in demo policy; raises PolicyError naming the key."""
    if path is None:
        text = resources.files("adapters").joinpath("demo_policy.yaml").read_text()
        source = "built-in demo policy"
    else:
        text, source = path.read_text(encoding="utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise PolicyError(f"{source}: not valid YAML ({problem})") from None
    try:
        return parse_policy(data, default_timezone=default_timezone)
    except PolicyError as problem:
        raise PolicyError(f"{source}: {problem}") from None


class PolicyHolder:
    """The policy in force. `reload()` swaps it only when the new file is valid."""

    def __init__(self, path: Path | None, *, default_timezone: str) -> None:
        self._path = path
        self._default_timezone = default_timezone
        self.current = load_policy(path, default_timezone=default_timezone)

    def __call__(self) -> Policy:
        return self.current

    def reload(self) -> bool:
        try:
            self.current = load_policy(self._path, default_timezone=self._default_timezone)
        except (PolicyError, OSError) as problem:
            log.error("policy not reloaded, keeping the old one: %s", problem)
            return False
        log.info("policy reloaded from %s", self._path or "the built-in demo policy")
        return True
