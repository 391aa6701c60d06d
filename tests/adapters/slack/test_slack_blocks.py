"""The Block Kit renderer: every reply fits Slack's limits and nothing is dropped or cut."""

from __future__ import annotations

import pytest

from adapters.slack.blocks import (
    ASK_PREFIX,
    Ask,
    BlockKitError,
    SlackMessage,
    home_view,
    read_ask,
    render,
)
from bot import commands
from bot.reply import Action, Fact, Reply, Section, Struck, Style, Tone
from tests.support.blockkit import assert_block_kit_limits, assert_home_view_limits, block_texts


def _long_line(number: int) -> str:
    return f"line {number:03d} " + " ".join(f"word{number}x{i}" for i in range(120))


def _all_text(messages: list[SlackMessage]) -> str:
    """The blocks' text with Slack's line breaks removed, so split lines read whole again."""
    return "".join(block_texts(message).replace("\n", "") for message in messages)


def test_a_huge_reply_continues_over_several_messages_within_limits() -> None:
    lines = (*(_long_line(n) for n in range(200)), "x" * 7000)
    buttons = tuple(
        Action(f"Status of service-{n}@1.0", commands.dump(commands.Status(f"service-{n}@1.0")))
        for n in range(30)
    )
    reply = Reply(title="Everything", sections=(Section("Lines", lines),), actions=buttons)

    messages = render(reply)

    assert len(messages) > 1
    for message in messages:
        assert_block_kit_limits(message)
    everything = _all_text(messages)
    assert all(line in everything for line in lines)
    pressed = [b for m in messages for block in m.blocks for b in block.get("elements", [])]
    assert [b["value"] for b in pressed if b.get("type") == "button"] == [
        a.command for a in buttons
    ]
    assert "continued" in messages[-1].text


def test_a_button_value_that_does_not_fit_is_refused_not_cut() -> None:
    action = Action("Too much", "x" * 2001)

    with pytest.raises(BlockKitError, match="2000"):
        render(Reply(title="Card", actions=(action,)))


def test_principals_become_mentions_and_user_text_is_escaped() -> None:
    reply = Reply(
        title="Release a@1",
        facts=(Fact("Owner", "slack:U04ALICE001"),),
        sections=(Section("Risks", ("db <migration> & cache > 2h",)),),
        notes=("Cancelled by slack:U04BOB00002: <@U999> is not a mention",),
    )

    (message,) = render(reply)

    assert_block_kit_limits(message)
    shown = block_texts(message)
    assert "<@U04ALICE001>" in shown and "<@U04BOB00002>" in shown
    assert "db &lt;migration&gt; &amp; cache &gt; 2h" in shown
    assert "&lt;@U999&gt;" in shown
    assert "<@U04ALICE001>" in message.text


def test_facts_notes_and_buttons_are_spread_over_blocks_of_legal_size() -> None:
    reply = Reply(
        title="Many things",
        tone=Tone.WARNING,
        facts=tuple(Fact(f"Fact {n}", f"value {n}") for n in range(23)),
        notes=tuple(f"note {n}" for n in range(12)),
        usage="status <service@version>",
        actions=(
            Action("Go", "{}", Style.PRIMARY),
            Action("Stop", "{}", Style.DANGER),
            Action("A label far longer than the seventy-five characters a button can show", "{}"),
        ),
    )

    (message,) = render(reply)

    assert_block_kit_limits(message)
    kinds = [block["type"] for block in message.blocks]
    assert kinds == ["header", "section", "section", "section", "context", "context", "actions"]
    styles = [button.get("style") for button in message.blocks[-1]["elements"]]
    assert styles == ["primary", "danger", None]
    assert "usage: `status &lt;service@version&gt;`" in block_texts(message).lower()


def test_a_title_too_long_for_a_header_is_kept_whole() -> None:
    title = "T" * 400

    (message,) = render(Reply(title=title, tone=Tone.ERROR))

    assert_block_kit_limits(message)
    assert message.blocks[0]["type"] == "section"
    assert title in block_texts(message)


def test_a_button_that_asks_first_carries_its_question_with_its_command() -> None:
    reject = commands.dump(commands.Reject("a@1", reason="", role="qa"))
    asking = Action("Reject as qa", reject, Style.DANGER, asks_for="reason", prompt="Why, <b>?")

    (message,) = render(Reply(title="Release a@1", actions=(asking, Action("Go", "{}"))))

    assert_block_kit_limits(message)
    ask, go = message.blocks[-1]["elements"]
    assert ask["action_id"].startswith(ASK_PREFIX) and not go["action_id"].startswith(ASK_PREFIX)
    assert read_ask(ask["value"]) == Ask(command=reject, field="reason", prompt="Why, <b>?")
    assert go["value"] == "{}"


@pytest.mark.parametrize("value", ["", "{}", '{"ask": "reason"}', "[1]", '{"command": "x"}'])
def test_a_value_that_is_no_asking_button_is_not_read_as_one(value: str) -> None:
    with pytest.raises(ValueError, match="not an asking button"):
        read_ask(value)


def test_an_asking_button_whose_question_does_not_fit_is_refused_not_cut() -> None:
    action = Action("Reject", "x" * 1990, asks_for="reason", prompt="Why?")

    with pytest.raises(BlockKitError, match="2000"):
        render(Reply(title="Card", actions=(action,)))


def test_a_title_that_names_people_mentions_them_instead_of_being_a_plain_header() -> None:
    reply = Reply(title="No readiness answer for a@1 from slack:U0BOTH0001", tone=Tone.WARNING)

    (message,) = render(reply)

    assert_block_kit_limits(message)
    (heading,) = message.blocks
    # A header is plain text: the person would see an id and get no notification.
    assert heading["type"] == "section"
    assert heading["text"]["text"] == "*:warning: No readiness answer for a@1 from <@U0BOTH0001>*"


# --- the App Home view: one page of at most 100 blocks --------------------------------------


def test_the_home_view_is_cut_to_100_blocks_and_says_so() -> None:
    lines = tuple(f"line {n}" for n in range(3))
    page = Reply(
        title="Your releases",
        sections=tuple(Section(f"part {n}", lines) for n in range(150)),
        actions=tuple(
            Action(f"Status {n}", commands.dump(commands.Status(f"s{n}@1"))) for n in range(5)
        ),
    )
    answer = Reply(
        title="You are not a member of the qa role",
        tone=Tone.ERROR,
        actions=(Action("Status", commands.dump(commands.Status("s0@1"))),),
        notes=("try again",),
    )

    view = home_view(page, answer=answer)

    assert_home_view_limits(view)
    assert len(view["blocks"]) == 100
    assert "Not everything fits on this page" in block_texts({"blocks": view["blocks"][-1:]})
    # What the click did comes first, without buttons of its own; the page follows.
    assert block_texts(view).startswith(":x: You are not a member of the qa role\ntry again")
    assert view["blocks"][2] == {"type": "divider"}


def test_a_short_page_is_published_whole() -> None:
    page = Reply(title="Your releases", sections=(Section("Upcoming", ("a", "b")),))

    view = home_view(page)

    assert_home_view_limits(view)
    assert block_texts(view) == "Your releases\n*Upcoming*\na\nb"


def test_a_struck_line_is_struck_through_in_mrkdwn_then_says_why() -> None:
    stale = Struck("qa: ✓ approved by slack:U0QA00001 <3", " — stale, waiting again")
    (message,) = render(Reply(title="Release a@1", sections=(Section("Sign-offs", (stale,)),)))

    assert block_texts(message).endswith(
        "*Sign-offs*\n~qa: ✓ approved by <@U0QA00001> &lt;3~ — stale, waiting again"
    )
    assert "qa: ✓ approved by <@U0QA00001> &lt;3 — stale, waiting again" in message.text
