"""The bot's front door: text or a command in, a Reply out, whatever the surface."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import commands as c
from bot import handlers
from bot.domain import Actor, ConcurrentChange, Conversation, DomainError
from bot.parser import ParseError, id_number, parse
from bot.people import EmailOf, People
from bot.policy import Policy
from bot.ports import Clock, SyncTimes, UnitOfWork, UnitOfWorkFactory
from bot.reply import Reply, error
from bot.usage import BY_VERB

log = logging.getLogger(__name__)

RETRIES_ON_CONFLICT = 3
# The commands whose rules ask who someone is: role membership, ownership.
ASKS_WHO = (c.Approve, c.Reject, c.Decide)


class ReleaseBot:
    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        policy: Callable[[], Policy],
        public_url: str = "http://127.0.0.1:8080",
        sync_times: SyncTimes | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._policy = policy
        self._public_url = public_url
        self._sync_times = sync_times
        self.people = People(clock)
        verbs = (cmd.verb.split()[0] for cmd in handlers.HANDLERS)
        self.available = frozenset(verb for verb in verbs if verb in BY_VERB)

    @property
    def policy(self) -> Policy:
        return self._policy()

    def parse(self, text: str) -> c.Command:
        """Parse in the policy's timezone at the clock's now; raises ParseError."""
        return parse(text, now=self._clock.now(), zone=self.policy.zone)

    def is_read_only(self, command: c.Command) -> bool:
        registration = handlers.HANDLERS.get(type(command))
        return registration is not None and registration.read_only

    async def handle_text(
        self, text: str, actor: Actor, conversation: Conversation | None = None
    ) -> Reply:
        try:
            command = self.parse(text)
        except ParseError as problem:
            return error(problem.problem, problem.usage)
        return await self.handle(command, actor, conversation)

    async def handle(
        self,
        command: c.Command,
        actor: Actor,
        conversation: Conversation | None = None,
        *,
        email_of: EmailOf | None = None,
    ) -> Reply:
        """Run `command` as `actor`. `email_of` looks the actor's address up where only the
        surface's current turn can (Teams); other platforms register theirs (bot/people.py)."""
        registration = handlers.HANDLERS.get(type(command))
        if registration is None:
            return self._not_available(command)
        for _attempt in range(RETRIES_ON_CONFLICT):
            try:
                # Inside the error handling: it reads the store. Again on a retry is cheap:
                # an actor identified already is not looked up twice.
                if await self._asks_by_email(command):
                    actor = await self.people.identified(actor, email_of)
                return await self._run(registration, command, actor, conversation)
            except ConcurrentChange:
                continue
            except DomainError as refusal:
                return error(str(refusal), _usage(command), problem=refusal.problem)
            except Exception:
                log.exception("command %s failed", type(command).__name__)
                message = "something went wrong on our side; nothing was changed"
                return error(message, problem="internal")
        message = "the release kept changing while I worked on it; please try again"
        return error(message, problem="conflict")

    async def _asks_by_email(self, command: c.Command) -> bool:
        """Whether `command`'s rules may need the actor's address: role members are named by
        email, or (for a sign-off) the release's owner is. Looked up before the command's
        unit of work, never while it holds the store's locks."""
        if not isinstance(command, ASKS_WHO):
            return False
        if self.policy.names_by_email:
            return True
        async with self._unit_of_work(read_only=True) as uow:
            owner = await _owner_of(uow, command, self.policy)
        return owner is not None and owner.startswith("email:")

    async def _run(
        self,
        registration: handlers.Registration,
        command: c.Command,
        actor: Actor,
        conversation: Conversation | None,
    ) -> Reply:
        async with self._unit_of_work(read_only=registration.read_only) as uow:
            ctx = handlers.Context(
                actor=actor,
                conversation=conversation,
                now=self._clock.now(),
                policy=self.policy,
                uow=uow,
                available=self.available,
                public_url=self._public_url,
                sync_times=self._sync_times,
            )
            return await registration.handler(command, ctx)

    def _not_available(self, command: c.Command) -> Reply:
        verbs = ", ".join(sorted(self.available))
        return error(f"`{command.verb}` is not available yet. Available now: {verbs}.")


async def _owner_of(uow: UnitOfWork, command: c.Command, policy: Policy) -> str | None:
    """The owner of the release `command` acts on, where the owner matters to its rules: a
    sign-off (self-approval), a decision when only owners and sign-off roles may decide."""
    name: str | None = None
    if isinstance(command, c.Approve | c.Reject):
        name = command.release
    elif isinstance(command, c.Decide) and policy.restrict_deciders:
        number = id_number(command.risk_id, "R")
        risk = await uow.risks.get(number) if number is not None else None
        name = risk.release if risk is not None else None
    release = await uow.releases.get(name) if name is not None else None
    return release.owner if release is not None else None


def _usage(command: c.Command) -> str | None:
    usage = BY_VERB.get(command.verb.split()[0])
    return usage.line if usage else None
