"""The App Home tab: a person's own page, published with views.publish.

It is published when the person opens the tab, and again after they press a button on it:
a click on App Home has no channel and no response_url, so the page itself is the answer.
Publishing is an answer given while the person looks (like a modal), so it goes straight to
the Web API with the interactive client, not through the outbox. A change made elsewhere to a
release whose buttons the page offers publishes it again through the outbox (Delivery.PAGE,
adapters/slack/sender.py), so that no stale button stays live on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.delivery import Undeliverable
from adapters.slack.blocks import BlockKitError, home_view
from adapters.slack.cards import PLATFORM
from adapters.slack.sender import refusal
from bot import home
from bot.people import People
from bot.policy import Policy
from bot.ports import Clock
from bot.reply import Reply
from storage.base import PageRef, Store

log = logging.getLogger(__name__)

DELIVERY_ERRORS = (SlackApiError, ClientError, TimeoutError)


class SlackHome:
    """Build a person's home page from the store and publish it to their App Home tab."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        policy: Callable[[], Policy],
        people: People | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        # Addresses looked up lately (bot/people.py): sign-offs made through one are this
        # person's, and the page must not offer what the click would refuse.
        self._people = people

    async def publish(
        self, client: AsyncWebClient, user: str, *, answer: Reply | None = None
    ) -> None:
        """Publish `user`'s page, headed by `answer` (what their click did) when given."""
        try:
            await self.publish_or_raise(client, user, answer=answer)
        except (BlockKitError, *DELIVERY_ERRORS):
            # Nobody waits on this but the person looking; the next visit publishes afresh.
            log.exception("could not publish the App Home of %s", user)

    async def publish_or_raise(
        self, client: AsyncWebClient, user: str, *, answer: Reply | None = None
    ) -> None:
        """Publish `user`'s page as it stands now; the outbox's sender retries what this raises.

        Which releases the page offers buttons for is remembered before it is published: a
        change to one of them after this point publishes the page again, so no stale button
        stays live on it (a failed publish only costs a needless refresh later).
        """
        page = await self.page(user)
        view = home_view(page.reply, answer=answer)
        where = PageRef(PLATFORM, user)
        await self._store.show_on_page(where, page.offers)
        try:
            await client.views_publish(user_id=user, view=view)
        except SlackApiError as problem:
            if isinstance(refusal(problem), Undeliverable):
                # Slack will never take this person's page (say, they left the workspace):
                # refreshing it after every change would only fill the dead letters.
                await self._store.show_on_page(where, ())
            raise

    async def page(self, user: str) -> home.HomePage:
        """`user`'s home page as the core sees it now, read without taking any write lock."""
        principal = f"{PLATFORM}:{user}"
        async with self._store(read_only=True) as uow:
            return await home.page_for(
                uow,
                principal=principal,
                policy=self._policy(),
                now=self._clock.now(),
                aliases=self._people.remembered(principal) if self._people else (),
            )
