"""The policy's `observability` section: change correlation and post-release smoke checks.

```yaml
observability:
  correlation_hours: 24        # an incident lists the service's deployments this far back
  smoke_checks:                # run when a release of the service is marked deployed
    checkout:
      - {url: "https://checkout.example.com/healthz", expect_status: 200, timeout_seconds: 5}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain import SERVICE_PATTERN
from bot.observe import SmokeCheck
from bot.policy_data import PolicyError, mapping, reject_unknown

DEFAULT_CORRELATION_HOURS = 24.0
MAX_CORRELATION_HOURS = 24.0 * 30
MAX_TIMEOUT_SECONDS = 60.0
URL = re.compile(r"https?://[^\s/]+(/\S*)?")


@dataclass(frozen=True, slots=True)
class ObservabilityPolicy:
    correlation_hours: float = DEFAULT_CORRELATION_HOURS
    smoke_checks: Mapping[str, tuple[SmokeCheck, ...]] = field(default_factory=dict)

    def checks_for(self, service: str) -> tuple[SmokeCheck, ...]:
        return tuple(self.smoke_checks.get(service, ()))


def parse_observability(value: Any) -> ObservabilityPolicy:
    body = mapping(value, "observability")
    reject_unknown(body, {"correlation_hours", "smoke_checks"}, "observability")
    hours = body.get("correlation_hours", DEFAULT_CORRELATION_HOURS)
    if not _positive(hours) or hours > MAX_CORRELATION_HOURS:
        raise PolicyError(
            "observability.correlation_hours: expected a positive number of hours "
            f"(at most {MAX_CORRELATION_HOURS:.0f})"
        )
    checks = mapping(body.get("smoke_checks"), "observability.smoke_checks")
    return ObservabilityPolicy(
        correlation_hours=float(hours),
        smoke_checks={str(s): _service_checks(s, c) for s, c in checks.items()},
    )


def _service_checks(service: Any, value: Any) -> tuple[SmokeCheck, ...]:
    key = f"observability.smoke_checks.{service}"
    if not SERVICE_PATTERN.fullmatch(str(service)):
        raise PolicyError(f"{key}: {service!r} is not a service name")
    if not isinstance(value, list) or not value:
        raise PolicyError(f"{key}: expected a list of checks")
    return tuple(_check(item, f"{key}[{index}]") for index, item in enumerate(value))


def _check(value: Any, key: str) -> SmokeCheck:
    body = mapping(value, key)
    reject_unknown(body, {"url", "expect_status", "timeout_seconds"}, key)
    url = body.get("url")
    if not isinstance(url, str) or not URL.fullmatch(url):
        raise PolicyError(f"{key}.url: expected an http(s) URL")
    status = body.get("expect_status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise PolicyError(f"{key}.expect_status: expected an HTTP status (100–599)")
    timeout = body.get("timeout_seconds", 5)
    if not _positive(timeout) or timeout > MAX_TIMEOUT_SECONDS:
        raise PolicyError(
            f"{key}.timeout_seconds: expected a positive number of seconds "
            f"(at most {MAX_TIMEOUT_SECONDS:.0f})"
        )
    return SmokeCheck(url=url, expect_status=status, timeout_seconds=float(timeout))


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0
