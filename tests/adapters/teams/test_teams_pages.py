"""Splitting a reply into Teams messages: each within the budget and a valid card, nothing
dropped or repeated, the first carrying the head of the reply."""

from __future__ import annotations

import pytest

from adapters.teams import cards, pages
from bot import commands
from bot.reply import Action, Fact, Reply, Section, Struck, Style, line_text
from tests.support.adaptive_cards import assert_valid_card
from tests.support.teams_activities import card_text

STATUS = commands.dump(commands.Status("checkout@2.4.0"))


def numbered(prefix: str, count: int, width: int = 120) -> tuple[str, ...]:
    return tuple(f"{prefix} {n:04} " + "." * width for n in range(count))


BIG = Reply(
    title="Release notes: checkout@2.4.0",
    summary="What changed",
    facts=(Fact("Changes", "600"),),
    sections=(
        Section("Features", numbered("feature", 250)),
        Section("Fixes", numbered("fix", 250)),
        Section(None, numbered("misc", 100)),
    ),
    actions=(Action("Status", STATUS, Style.PRIMARY),),
    notes=("Published by Ada",),
    subject="checkout@2.4.0",
)


def text_of(parts: list[Reply]) -> str:
    return "\n".join(card_text(cards.render(part)) for part in parts)


def test_a_reply_that_fits_is_one_message_unchanged() -> None:
    small = Reply(title="Release checkout@2.4.0", sections=(Section("Risks", ("none",)),))

    assert pages.split(small) == [small]
    assert pages.first_only(small) == small


def test_a_large_reply_is_split_within_the_budget_with_every_line_once_in_order() -> None:
    parts = pages.split(BIG)

    assert len(parts) > 2
    assert all(pages.size(part) <= pages.BUDGET for part in parts)
    for part in (parts[0], parts[-1]):  # the first and a continuation (validating is slow)
        assert_valid_card(cards.render(part))
    text = text_of(parts)
    lines = [line for section in BIG.sections for line in section.lines]
    positions = [text.find(line) for line in lines]
    assert all(text.count(line) == 1 for line in lines) and positions == sorted(positions)
    assert text.count("Published by Ada") == 1


def test_the_first_message_carries_the_head_and_the_others_say_they_continue_it() -> None:
    first, *rest = pages.split(BIG)

    assert (first.title, first.summary, first.facts) == (BIG.title, BIG.summary, BIG.facts)
    assert first.actions == BIG.actions and first.subject == BIG.subject
    assert first.notes[-1] == f"Continued in {len(rest)} more message(s)."
    for index, part in enumerate(rest, 2):
        assert part.title == f"{BIG.title} (continued, {index} of {len(rest) + 1})"
        assert (part.summary, part.facts, part.actions, part.subject) == (None, (), (), None)
    cut = [s.title for part in rest for s in part.sections if s.title and "continued" in s.title]
    assert cut  # a section cut in two repeats its title, marked


def test_a_line_longer_than_a_message_is_cut_into_pieces_and_nothing_is_lost() -> None:
    huge = "x" * 30_000 + "END"
    reply = Reply(title="One huge line", sections=(Section("Log", ("before", huge, "after")),))

    parts = pages.split(reply)

    assert all(pages.size(part) <= pages.BUDGET for part in parts)
    pieces = [line for part in parts for s in part.sections for line in s.lines]
    assert "".join(pieces) == "before" + huge + "after"


def test_a_struck_line_cut_into_pieces_stays_struck_and_says_why_once() -> None:
    huge = Struck("qa: alice approved — " + "x" * 60_000, " (stale: rescheduled)")
    reply = Reply(title="One huge stale sign-off", sections=(Section("Sign-offs", (huge,)),))

    parts = pages.split(reply)

    assert len(parts) > 1 and all(pages.size(part) <= pages.BUDGET for part in parts)
    pieces = [line for part in parts for s in part.sections for line in s.lines]
    assert all(isinstance(piece, Struck) for piece in pieces)
    assert "".join(line_text(piece) for piece in pieces) == line_text(huge)
    for part in parts:
        assert_valid_card(cards.render(part))


def test_text_that_json_escapes_is_measured_as_sent() -> None:
    emoji = Reply(
        title="Wide", sections=(Section("Moods", tuple("🚀✅" * 40 for _ in range(400))),)
    )

    parts = pages.split(emoji)

    assert len(parts) > 1 and all(pages.size(part) <= pages.BUDGET for part in parts)


@pytest.mark.parametrize("budget", [6_000, 12_000])
def test_one_card_shows_what_fits_and_says_how_much_is_not_shown(budget: int) -> None:
    shown = pages.first_only(BIG, budget=budget)

    assert pages.size(shown) <= budget
    assert shown.notes[-1].startswith("Too long for one Teams card: ")
    assert shown.notes[-1].endswith(" more line(s) are not shown here.")
    assert shown.actions == BIG.actions
