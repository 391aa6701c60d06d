"""A Reply as one or more Teams messages, each within Teams' size limit, nothing dropped.

Teams refuses a message over about 28 KB, counted over the whole activity. We measure what we
control — the card and the summary, serialized as they go on the wire — against BUDGET, which
leaves about 4 KB for the envelope the connector call adds (addresses, ids, tenant).

A reply that does not fit is split: the first message carries the title, summary, facts, usage
and as many actions, section lines and notes as fit, in that order; continuation messages carry
the rest under the same title, "(continued, 2 of 3)". A section cut in two repeats its title,
marked "(continued)"; a line too long for a message of its own is cut into pieces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from botbuilder.schema import Activity, ActivityTypes

from adapters.teams import cards
from bot.reply import Action, Line, Reply, Section, Struck, line_text
from bot.text import plain_text

log = logging.getLogger(__name__)

BUDGET = 24_000  # bytes of card + summary, as JSON with \u escapes (what msrest sends)
RESERVE = 600  # room for what labelling adds after packing: part numbers, a closing note
SUMMARY = 400  # characters of plain text in a notification; the card has it all
# No piece renders in fewer bytes (a TextBlock alone is about 60): so no part holds more than
# BUDGET // SMALLEST_PIECE pieces, which bounds the search for a huge reply.
SMALLEST_PIECE = 50


@dataclass(frozen=True, slots=True)
class Piece:
    """One thing a part may carry: an action, a line of a section, or a note."""

    action: Action | None = None
    section: int | None = None  # index into the reply's sections, for a line
    line: Line | None = None  # None with a section: a section that has a title but no lines
    note: str | None = None


def message(reply: Reply) -> Activity:
    """One message carrying the card, with the start of its text for the notification."""
    return Activity(
        type=ActivityTypes.message, summary=_summary(reply), attachments=[cards.attachment(reply)]
    )


def size(reply: Reply) -> int:
    """The bytes of `reply`'s message that count against Teams' limit."""
    # The same JSON msrest makes of message(reply), without walking its model: several times
    # faster, and splitting measures many candidate parts.
    attachment = {"contentType": cards.CONTENT_TYPE, "content": cards.render(reply)}
    body = {"type": "message", "summary": _summary(reply), "attachments": [attachment]}
    return len(json.dumps(body))


def split(reply: Reply, *, budget: int = BUDGET) -> list[Reply]:
    """`reply` as the messages to send, in order; one when it fits."""
    if size(reply) <= budget:
        return [reply]
    parts, _ = _pack(reply, budget - RESERVE)
    return [_labelled(part, i, len(parts)) for i, part in enumerate(parts, 1)]


def first_only(reply: Reply, *, budget: int = BUDGET) -> Reply:
    """What one message can show of `reply` (a card replaced in place has one message)."""
    if size(reply) <= budget:
        return reply
    [first], hidden = _pack(reply, budget - RESERVE, limit=1)
    note = f"Too long for one Teams card: {hidden} more line(s) are not shown here."
    return replace(first, notes=(*first.notes, note))


def _summary(reply: Reply) -> str:
    text = plain_text(reply)
    return text if len(text) <= SUMMARY else text[: SUMMARY - 1] + "…"


def _pack(reply: Reply, budget: int, *, limit: int | None = None) -> tuple[list[Reply], int]:
    """Greedy: each part takes the most pieces that fit. Returns the parts (at most `limit`)
    and how many pieces were left out of them."""
    pieces, start, guess = _pieces(reply), 0, 0
    head, started = _head(reply), set[int]()  # sections begun in an earlier part
    parts: list[Reply] = []
    while (start < len(pieces) or not parts) and len(parts) != limit:
        rest = pieces[start:]
        count = _fill(reply, head, rest, started, budget, guess)
        if count == 0 and parts and len(line_text(rest[0].line or "")) > 1:
            pieces[start : start + 1] = _halves(rest[0])  # a line too long on its own
            continue
        if count == 0 and parts:
            log.warning("Teams: one piece of %r is larger than a message", reply.title)
            count = 1  # sent anyway: the connector says no, and the outbox keeps it visible
        parts.append(_assemble(reply, head, rest[:count], started))
        started.update(piece.section for piece in rest[:count] if piece.section is not None)
        start, guess = start + count, count
        head = Reply(title=reply.title, tone=reply.tone)
    return parts, len(pieces) - start


def _fill(
    reply: Reply, head: Reply, rest: list[Piece], started: set[int], budget: int, guess: int
) -> int:
    """How many of `rest` fit in one message under `head`."""

    def fits(count: int) -> bool:
        return size(_assemble(reply, head, rest[:count], started)) <= budget

    return _most_that_fit(fits, min(len(rest), budget // SMALLEST_PIECE), guess)


def _most_that_fit(fits: Callable[[int], bool], most: int, guess: int) -> int:
    """The largest n ≤ `most` that `fits` (0 always does; more never fits better), trying
    `guess` first: the parts of one reply tend to hold about as many pieces as each other."""
    low, high = 0, most
    if 0 < guess <= most:
        if fits(guess):
            low, step = guess, 1
            while low + step <= most and fits(low + step):  # gallop up from the guess
                low, step = low + step, step * 2
            high = min(most, low + step - 1)
        else:
            high = guess - 1
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def _pieces(reply: Reply) -> list[Piece]:
    pieces = [Piece(action=action) for action in reply.actions]
    for index, section in enumerate(reply.sections):
        lines: Sequence[Line | None] = section.lines or [None]
        pieces.extend(Piece(section=index, line=line) for line in lines)
    pieces.extend(Piece(note=note) for note in reply.notes)
    return pieces


def _head(reply: Reply) -> Reply:
    return replace(reply, sections=(), actions=(), notes=())


def _assemble(reply: Reply, head: Reply, pieces: list[Piece], started: set[int]) -> Reply:
    return replace(
        head,
        actions=tuple(piece.action for piece in pieces if piece.action),
        sections=_sections(reply, pieces, started),
        notes=tuple(piece.note for piece in pieces if piece.note),
    )


def _sections(reply: Reply, pieces: list[Piece], started: set[int]) -> tuple[Section, ...]:
    lines: dict[int, list[Line]] = {}
    for piece in pieces:
        if piece.section is not None:
            found = lines.setdefault(piece.section, [])
            found.extend([piece.line] if piece.line is not None else [])
    return tuple(
        Section(_continued(reply.sections[index].title, index in started), tuple(texts))
        for index, texts in lines.items()
    )


def _continued(title: str | None, started: bool) -> str | None:
    return f"{title} (continued)" if title and started else title


def _halves(piece: Piece) -> list[Piece]:
    line = piece.line
    assert line is not None
    if isinstance(line, Struck) and len(line.text) > 1:
        # Both halves stay struck; the reason why follows the second, where the line ends.
        middle = len(line.text) // 2
        first, second = Struck(line.text[:middle]), Struck(line.text[middle:], line.after)
        return [replace(piece, line=first), replace(piece, line=second)]
    text = line_text(line)
    middle = len(text) // 2
    return [replace(piece, line=text[:middle]), replace(piece, line=text[middle:])]


def _labelled(part: Reply, index: int, total: int) -> Reply:
    if total == 1:
        return part
    if index == 1:
        return replace(part, notes=(*part.notes, f"Continued in {total - 1} more message(s)."))
    return replace(part, title=f"{part.title} (continued, {index} of {total})")
