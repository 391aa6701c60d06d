"""Who chat users are by email, for policies that name role members `email:<address>`.

Slack and Teams know people by their own ids; a policy may name them by address instead (SPEC
§4.2). For the commands whose rules ask who someone is, the bot asks the person's platform for
their address, but only while the policy names anyone by email, and remembers each answer for
an hour: most deployments never make the call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain import Actor
from bot.ports import Clock

log = logging.getLogger(__name__)

# A platform's answer to "what is this principal's email address?" (None: it has none).
EmailOf = Callable[[str], Awaitable[str | None]]
REMEMBERED_FOR = timedelta(hours=1)


class People:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lookups: dict[str, EmailOf] = {}
        self._known: dict[str, tuple[str | None, datetime]] = {}

    def register(self, platform: str, email_of: EmailOf) -> None:
        """How to ask `platform` (e.g. "slack") for its users' addresses."""
        self._lookups[platform] = email_of

    def remembered(self, principal: str) -> tuple[str, ...]:
        """The aliases last looked up for `principal` and not yet forgotten, without asking:
        for pages built where no lookup may wait (App Home)."""
        known = self._fresh(principal)
        return _aliases(known[0]) if known else ()

    async def identified(self, actor: Actor, email_of: EmailOf | None = None) -> Actor:
        """`actor` with their `email:` principal among its aliases, when their platform (or
        `email_of`, a lookup that only works in the current turn) tells it."""
        lookup = email_of or self._lookups.get(actor.principal.partition(":")[0])
        if lookup is None or actor.aliases:
            return actor
        known = self._fresh(actor.principal)
        email = known[0] if known else await self._ask(actor.principal, lookup)
        aliases = _aliases(email)
        return replace(actor, aliases=aliases) if aliases else actor

    def _fresh(self, principal: str) -> tuple[str | None, datetime] | None:
        """What was looked up for `principal` within the last REMEMBERED_FOR, if anything."""
        known = self._known.get(principal)
        return known if known and self._clock.now() - known[1] < REMEMBERED_FOR else None

    async def _ask(self, principal: str, lookup: EmailOf) -> str | None:
        try:
            email = await lookup(principal)
        except Exception as problem:  # the platform's to fail: the person acts by their id
            log.warning("could not look up the email address of %s: %s", principal, problem)
            return None  # not remembered: asked again next time
        self._known[principal] = (email, self._clock.now())
        return email


def _aliases(email: str | None) -> tuple[str, ...]:
    # Policies' members are lower-cased too (bot.policy): an address matches in any case.
    return (f"email:{email.lower()}",) if email else ()
