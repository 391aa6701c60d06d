"""The App Home tab over real HTTP: opening it publishes the person's page (views.publish at the
fake Web API), once per event; its Approve / Reject buttons sign off through the generic button
listener and publish the page again, since a click on App Home has no channel to answer in.

The people are the demo policy's: quinn (qa), erin (eng), and nick, who is in no role.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from adapters.clock import ManualClock
from bot import commands
from bot.domain import State
from bot.home import MAX_UPCOMING
from bot.signoffs import Verdict
from tests.support.blockkit import (
    assert_home_view_limits,
    assert_modal_limits,
    block_texts,
)
from tests.support.fake_slack import FakeSlack
from tests.support.server import running_bot
from tests.support.slack_requests import (
    SIGNING_SECRET,
    Answer,
    SlackSender,
    button_labels,
    home_click,
    home_opened,
    slack_env,
    view_submission,
)

from .conftest import ALICE, CHANNEL
from .signoff_steps import ENG, NAMES, NOBODY, QA, RELEASE, declared, shows, updates
from .signoff_steps import press as press_on_card

if TYPE_CHECKING:
    from .conftest import CardWatchingStore, Seed

APPROVE_QA = f"Approve as qa · {RELEASE}"
REJECT_QA = f"Reject as qa · {RELEASE}"
NOTHING_WAITING = "Nothing is waiting for your sign-off."


async def two_releases(seed: Seed) -> None:
    """One release needing qa and eng, one needing nobody; both in the next 14 days."""
    await seed(f"declare {RELEASE} at 2026-12-03 14:00")
    await seed("declare docs@1.0 at 2026-12-01 09:00 class standard")


async def opened(slack: SlackSender, fake: FakeSlack, user: str) -> dict[str, Any]:
    """`user` opens their App Home tab; returns the view the bot then published for them."""
    seen = len(fake.published(user))
    answer = await slack.event(home_opened(user))
    assert (answer.status, answer.text) == (200, "")  # acknowledged at once
    await fake.wait_for(lambda: len(fake.published(user)) == seen + 1)
    return republished(fake, user)


def republished(fake: FakeSlack, user: str) -> dict[str, Any]:
    """The latest view published for `user`, checked against the home view's limits."""
    view = fake.published(user)[-1]
    assert_home_view_limits(view)
    return view


async def press(slack: SlackSender, view: dict[str, Any], label: str, user: str) -> Answer:
    """`user` presses `label` on their App Home tab; the bot acknowledges at once, empty."""
    answer = await slack.action(home_click(view, label, user=user, name=NAMES[user]))
    assert (answer.status, answer.text) == (200, "")
    return answer


def line_of(view: dict[str, Any], name: str) -> str:
    (line,) = [line for line in block_texts(view).split("\n") if line.startswith(f"{name} ·")]
    return line


def button_values(view: dict[str, Any]) -> dict[str, str]:
    buttons = [e for b in view["blocks"] for e in b.get("elements", []) if e["type"] == "button"]
    return {button["text"]["text"]: button["value"] for button in buttons}


async def test_opening_the_home_tab_publishes_the_persons_view(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    await two_releases(seed)

    view = await opened(slack, fake, QA)

    (call,) = fake.api_calls("views.publish")
    assert call.body["user_id"] == QA
    assert view["type"] == "home"
    text = block_texts(view)
    # Upcoming, soonest first, each with its readiness (coverage has no signal yet: 2 of 3).
    assert text.index("docs@1.0 ·") < text.index(f"{RELEASE} ·")
    assert "readiness 100/100" in line_of(view, "docs@1.0")
    assert "readiness 67/100" in line_of(view, RELEASE)
    assert f"{RELEASE} as qa · Thu 3 Dec 2026 14:00 UTC · readiness 67/100" in text
    # The release card's own buttons, for quinn's role only.
    assert button_labels(view) == [APPROVE_QA, REJECT_QA]
    approve = commands.dump(commands.Approve(release=RELEASE, role="qa"))
    assert button_values(view)[APPROVE_QA] == approve
    assert "No huddle is open." in text


async def test_a_person_with_nothing_waiting_is_told_so(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    await two_releases(seed)

    view = await opened(slack, fake, NOBODY)

    assert NOTHING_WAITING in block_texts(view)
    assert button_labels(view) == []
    assert "readiness 67/100" in line_of(view, RELEASE)  # the upcoming list is everyone's


async def test_an_owner_is_not_asked_to_sign_their_own_release(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    await seed(f"declare {RELEASE} at 2026-12-03 14:00 owner slack:{QA}")

    view = await opened(slack, fake, QA)

    assert NOTHING_WAITING in block_texts(view)
    assert button_labels(view) == []


async def test_open_huddles_are_listed(slack: SlackSender, fake: FakeSlack, seed: Seed) -> None:
    await two_releases(seed)
    await seed(f"huddle {RELEASE} payment retries")

    view = await opened(slack, fake, ENG)

    assert f"H1 on {RELEASE} — payment retries" in block_texts(view)


async def test_many_deployed_releases_leave_the_waiting_sign_offs_and_huddles_on_the_page(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    # Deployed but never verified: active, and sooner than the release waiting for quinn.
    for n in range(60):
        await seed(f"declare old{n}@1 at 2026-11-27 09:00 class standard")
        await seed(f"deploy old{n}@1")
        await seed(f"deployed old{n}@1")
    await seed(f"declare {RELEASE} at 2026-12-03 14:00")
    await seed(f"huddle {RELEASE} go/no-go")

    view = await opened(slack, fake, QA)

    assert button_labels(view) == [APPROVE_QA, REJECT_QA]
    assert f"H1 on {RELEASE} — go/no-go" in block_texts(view)


async def test_more_upcoming_releases_than_the_page_shows_are_mentioned(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    for n in range(MAX_UPCOMING + 1):
        await seed(f"declare s{n:02d}@1 at 2026-12-01 {n % 24:02d}:00 class standard")

    view = await opened(slack, fake, NOBODY)

    assert "…and more releases in the next two weeks: `list` shows them all." in (block_texts(view))


async def test_a_redelivered_home_event_publishes_once(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, seed: Seed
) -> None:
    await two_releases(seed)
    envelope = home_opened(QA)

    await slack.event(envelope)
    await fake.wait_for(lambda: len(fake.published(QA)) == 1)
    again = await slack.event(envelope, retry_num=1)
    # The redelivery has been refused its claim; a different event is then answered after it.
    await store.claimed(f"slack:event:{envelope['event_id']}", 2)
    await slack.event(home_opened(ENG))
    await fake.wait_for(lambda: len(fake.published(ENG)) == 1)

    assert again.status == 200
    assert len(fake.published(QA)) == 1


async def test_the_messages_tab_publishes_nothing(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    await slack.event(home_opened(QA, tab="messages"))
    await slack.event(home_opened(ENG))

    await fake.wait_for(lambda: len(fake.published()) == 1)
    assert fake.published(QA) == []


async def test_approve_on_the_home_tab_signs_off_and_publishes_the_page_again(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, seed: Seed
) -> None:
    card = await declared(slack, fake, store)  # its card is in the channel
    await seed("declare docs@1.0 at 2026-12-01 09:00 class standard")
    view = await opened(slack, fake, QA)

    answer = await press(slack, view, APPROVE_QA, QA)

    await fake.wait_for(lambda: len(fake.published(QA)) == 2)
    after = republished(fake, QA)
    assert answer.response_key is None  # Slack gives a home click no response_url
    text = block_texts(after)
    assert text.startswith(f"Release {RELEASE}\nApproved as qa by quinn")
    assert NOTHING_WAITING in text
    assert "sign-off missing from eng" in line_of(after, RELEASE)
    assert button_labels(after) == []
    (signoff,) = store.data.tables.signoffs
    assert (signoff.role, signoff.principal, signoff.verdict) == (
        "qa",
        f"slack:{QA}",
        Verdict.APPROVED,
    )
    assert fake.responses() == [] and fake.api_calls("chat.postEphemeral") == []
    # The card in the channel is brought up to date as after any sign-off (by the outbox).
    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == 1)
    (update,) = updates(fake)
    assert "✓ qa: approved by quinn" in shows(update, card.answer["ts"])
    # …and quinn's page is not published a third time, which would wipe the outcome on top.
    await store.drained()
    assert len(fake.published(QA)) == 2


async def test_a_sign_off_on_the_channel_card_takes_its_buttons_off_every_page_offering_them(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    card = await declared(slack, fake, store)
    for user in (QA, ENG, NOBODY):
        await opened(slack, fake, user)

    await press_on_card(slack, card, "Approve as qa", QA)

    await fake.wait_for(lambda: len(fake.api_calls("chat.update")) == 1)
    await store.drained()
    quinns = republished(fake, QA)
    assert len(fake.published(QA)) == 2
    assert button_labels(quinns) == []  # no stale Approve as qa left live
    assert NOTHING_WAITING in block_texts(quinns)
    erins = republished(fake, ENG)
    assert len(fake.published(ENG)) == 2
    assert button_labels(erins) == [f"Approve as eng · {RELEASE}", f"Reject as eng · {RELEASE}"]
    assert "sign-off missing from eng" in line_of(erins, RELEASE)
    assert len(fake.published(NOBODY)) == 1  # his page offered no button: left as it was


async def test_a_cancelled_release_leaves_no_live_button_on_the_pages_that_offered_it(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore
) -> None:
    await declared(slack, fake, store)
    await opened(slack, fake, QA)
    assert button_labels(republished(fake, QA)) == [APPROVE_QA, REJECT_QA]

    await slack.slash(f"cancel {RELEASE} postponed to next sprint")

    await fake.wait_for(lambda: len(fake.published(QA)) == 2)
    page = republished(fake, QA)
    assert button_labels(page) == []
    assert NOTHING_WAITING in block_texts(page)


async def test_reject_on_the_home_tab_asks_why_then_publishes_the_page_again(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, seed: Seed
) -> None:
    await two_releases(seed)
    view = await opened(slack, fake, QA)

    await press(slack, view, REJECT_QA, QA)
    await fake.wait_for(lambda: len(fake.api_calls("views.open")) == 1)
    modal = fake.api_calls("views.open")[0].body["view"]
    assert_modal_limits(modal)
    submitted = await slack.submit(view_submission(modal, "flaky tests", user=QA, name="quinn"))

    assert (submitted.status, submitted.text) == (200, "")  # the modal closes
    await fake.wait_for(lambda: len(fake.published(QA)) == 2)
    assert "Rejected as qa by quinn: flaky tests" in block_texts(republished(fake, QA))
    (signoff,) = store.data.tables.signoffs
    assert (signoff.verdict, signoff.note) == (Verdict.REJECTED, "flaky tests")
    assert store.data.releases[RELEASE].state is State.PLANNED


async def test_a_refused_click_on_the_home_tab_is_shown_on_the_clickers_page(
    slack: SlackSender, fake: FakeSlack, store: CardWatchingStore, seed: Seed
) -> None:
    await two_releases(seed)
    quinns = await opened(slack, fake, QA)

    # nick presses quinn's button (say, from a view of quinn's that he was shown).
    await press(slack, quinns, APPROVE_QA, NOBODY)

    await fake.wait_for(lambda: len(fake.published(NOBODY)) == 1)
    text = block_texts(republished(fake, NOBODY))
    assert text.startswith(":x: You are not a member of the qa role")
    assert NOTHING_WAITING in text
    assert store.data.tables.signoffs == []
    assert [event.action for event in store.data.audit][-1] == "refused"


async def test_the_page_is_read_from_sqlite_too(
    fake: FakeSlack, clock: ManualClock, tmp_path: Path
) -> None:
    # The read-only unit of work takes its own path on SQLite (plain SQL on a snapshot).
    async with (
        running_bot(slack_env(fake), cwd=tmp_path, clock=clock) as bot,
        aiohttp.ClientSession() as session,
    ):
        for text in (f"declare {RELEASE} at 2026-12-03 14:00", f"huddle {RELEASE}"):
            assert (await bot.components.bot.handle_text(text, ALICE, CHANNEL)).problem is None
        view = await opened(SlackSender(session, bot.url, SIGNING_SECRET, fake), fake, QA)

    text = block_texts(view)
    assert "readiness 67/100" in line_of(view, RELEASE)
    assert f"H1 on {RELEASE}" in text
    assert button_labels(view) == [APPROVE_QA, REJECT_QA]


# --- the 100-block limit of a home view ----------------------------------------------------


async def test_a_busy_page_is_bounded_and_within_the_home_views_limits(
    slack: SlackSender, fake: FakeSlack, seed: Seed
) -> None:
    first = datetime(2026, 11, 27, 9, 0)
    for number in range(30):
        when = first + timedelta(hours=7 * number)  # the last one about 9 days from now
        declared = await seed(f"declare svc-{number:02d}@1.0 at {when:%Y-%m-%d %H:%M}")
        assert declared.problem is None
    for number in range(0, 30, 3):
        assert (await seed(f"huddle svc-{number:02d}@1.0")).problem is None

    view = await opened(slack, fake, QA)

    lines = block_texts(view).split("\n")
    listed = [line for line in lines if line.endswith("sign-off missing from qa, eng")]
    assert [line.split(" ·")[0] for line in listed] == [f"svc-{n:02d}@1.0" for n in range(15)]
    waiting = [line for line in lines if " as qa · " in line]
    assert [line.split(" ·")[0] for line in waiting] == [
        f"svc-{n:02d}@1.0 as qa" for n in range(10)
    ]
    assert "…and 20 more wait for your sign-off; the soonest are shown." in lines
    assert len(button_labels(view)) == 2 * 10
    assert len([line for line in lines if line.startswith("H") and " on svc-" in line]) == 10
