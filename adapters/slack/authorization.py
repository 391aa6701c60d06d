"""Who the bot is in its one workspace, told to bolt without holding up Slack's acknowledgement.

bolt's own single-workspace authorization asks Slack's `auth.test` inside the first request, and
inside every later one until an answer comes. While the Web API cannot be reached or is slow —
after a restart, say — every request then fails (500) or outlasts the 3 s Slack waits, reads
included, though a read needs nothing from the Web API. Here `auth.test` runs in a task of its
own, one at a time; a request waits for it at most IDENTITY_WAIT_SECONDS, then goes on with the
bot token alone, and a later request asks again.

Without an answer bolt does not know the bot's own user id, which only its filter of the bot's
own events reads; the listeners ignore messages from bots themselves (events.is_direct_message).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import ClientError
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

log = logging.getLogger(__name__)

# Well inside Slack's 3 s, with room for the answer itself.
IDENTITY_WAIT_SECONDS = 0.5
UNANSWERED = (SlackApiError, ClientError, TimeoutError)


class SingleWorkspace(AsyncAuthorize):
    """bolt's `authorize` for one workspace and one bot token. Given one, bolt leaves its own
    single-workspace authorization (the one that asks inside requests) aside."""

    def __init__(self, bot_token: str, api_base_url: str) -> None:
        super().__init__()
        # A client of its own, with only the SDK's default retry of a dropped connection (the
        # next request asks again) and no session kept open: it is asked once in the life of
        # the server, unless Slack is unwell.
        self._client = AsyncWebClient(token=bot_token, base_url=api_base_url)
        self._known: AuthorizeResult | None = None
        self._asking: asyncio.Task[AsyncSlackResponse] | None = None

    async def close(self) -> None:
        """Stop asking (at shutdown: the question may outlive every request waiting for it)."""
        asking, self._asking = self._asking, None
        if asking is not None:
            asking.cancel()
            await asyncio.wait({asking})

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: Any,
    ) -> AuthorizeResult:
        known = self._known or await self._identity()
        if known is not None:
            return known
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, bot_token=self._client.token
        )

    async def _identity(self) -> AuthorizeResult | None:
        """What auth.test says, if it says it within IDENTITY_WAIT_SECONDS."""
        asking = self._asking
        if asking is None:
            asking = self._asking = asyncio.create_task(self._client.auth_test())
            asking.add_done_callback(_settled)
        await asyncio.wait({asking}, timeout=IDENTITY_WAIT_SECONDS)
        if not asking.done():
            return None
        if self._asking is asking:
            self._asking = None  # answered or failed: the next request may ask again
        if asking.cancelled() or asking.exception() is not None:
            return None
        self._known = AuthorizeResult.from_auth_test_response(
            auth_test_response=asking.result(), bot_token=self._client.token
        )
        return self._known


def _settled(asking: asyncio.Task[AsyncSlackResponse]) -> None:
    """Log why auth.test went unanswered (once, whoever was waiting); this also keeps asyncio
    from reporting an exception nobody retrieved when the server stops meanwhile."""
    if asking.cancelled():
        return
    problem = asking.exception()
    if isinstance(problem, UNANSWERED):
        log.warning("Slack did not say who the bot is (auth.test: %s); asking again", problem)
    elif problem is not None:
        log.error("auth.test failed", exc_info=problem)
