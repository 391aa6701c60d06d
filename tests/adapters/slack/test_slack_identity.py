"""Who the bot is (auth.test) is learnt without holding up Slack's acknowledgement: with the
Web API hanging or failing after a restart, commands are still answered in time."""

from __future__ import annotations

import asyncio

from tests.support.blockkit import privately_shown
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackSender

from .conftest import Seed

# Slack shows the person an error when the acknowledgement takes longer than this.
SLACK_WAITS_SECONDS = 3.0


async def test_a_read_is_answered_in_time_while_the_web_api_hangs(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    fake.delay_next("auth.test", SLACK_WAITS_SECONDS + 1, times=10)
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")

    answer = await asyncio.wait_for(slack.slash("status checkout@2.4.0"), SLACK_WAITS_SECONDS)

    assert "Release checkout@2.4.0" in privately_shown(answer.json())


async def test_until_slack_says_who_the_bot_is_it_asks_again_and_answers_meanwhile(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    fake.fail_next("auth.test", times=3, status=500)
    await seed("declare checkout@2.4.0 at 2026-12-03 14:00")

    for _ in range(3):
        answer = await slack.slash("status checkout@2.4.0")
        assert "Release checkout@2.4.0" in privately_shown(answer.json())
    await slack.slash("declare search@7.1 at +2d")

    await fake.wait_for(lambda: len(fake.api_calls("chat.postMessage")) == 1)
    (posted,) = fake.api_calls("chat.postMessage")
    assert posted.headers["Authorization"] == "Bearer xoxb-test"  # the token, told to bolt
    await slack.slash("status checkout@2.4.0")
    # Three refusals, one call each, then one answer, remembered: nothing asks again.
    assert len(fake.api_calls("auth.test", delivered=False)) == 4
    assert len(fake.api_calls("auth.test")) == 1
