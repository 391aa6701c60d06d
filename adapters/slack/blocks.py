"""Reply → Block Kit. The only module that knows Slack's message layout and its limits."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from bot.reply import Action, Fact, Reply, Section, Struck, Style, Tone
from bot.text import plain_text

# Slack rejects, rather than trims, blocks over these limits (the SDK does not check raw dicts).
MAX_BLOCKS = 50
# A view (the App Home tab) has its own limit and no second page to spill onto.
MAX_VIEW_BLOCKS = 100
MAX_HEADER = 150
MAX_TEXT_OBJECT = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
# The notification text; Slack accepts more but recommends this, and the blocks carry the rest.
MAX_FALLBACK = 4000
ACTION_PREFIX = "rb:"
# A button that first asks for text (Action.asks_for) opens a modal; its value says what to ask.
ASK_PREFIX = f"{ACTION_PREFIX}ask:"
ELLIPSIS = "…"

TONE_EMOJI = {
    Tone.INFO: "",
    Tone.SUCCESS: ":white_check_mark: ",
    Tone.WARNING: ":warning: ",
    Tone.ERROR: ":x: ",
}
# `slack:` that does not follow a word character or a colon. The literal comes first and the
# look-behind after it, so `re` scans for the literal instead of trying the look-behind at every
# character: ≈ 4× faster on a card's fallback text.
PRINCIPAL = re.compile(r"slack:(?<![\w:]slack:)([UW][A-Z0-9]+)\b")
Block = dict[str, Any]


class BlockKitError(ValueError):
    """A reply that cannot be shown in Slack without losing what it means."""


@dataclass(frozen=True, slots=True)
class Ask:
    """What an asking button carries: its command, the field to fill and the question."""

    command: str
    field: str
    prompt: str


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One Slack message: blocks, and the plain text Slack shows where blocks are not shown."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def render(reply: Reply) -> list[SlackMessage]:
    """The reply as one message, or several when it needs more than Slack's 50 blocks."""
    blocks = [
        *_heading(reply),
        *_facts(reply.facts),
        *_sections(reply.sections),
        *_context(reply),
        *_actions(reply.actions),
    ]
    if len(blocks) <= MAX_BLOCKS:
        # Nearly every reply: one page, and no copy of its blocks.
        return [SlackMessage(text=_fallback(reply, 1, 1), blocks=blocks)]
    pages = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    return [
        SlackMessage(text=_fallback(reply, number, len(pages)), blocks=page)
        for number, page in enumerate(pages, start=1)
    ]


def render_in_place(reply: Reply) -> SlackMessage:
    """The reply as one message, to replace one in place (a card keeps one message however long
    it grows): what passes Slack's 50 blocks is cut from its sections, never its buttons."""
    first, *rest = render(reply)
    if not rest:
        return first
    head = [*_heading(reply), *_facts(reply.facts)]
    tail = [*_context(reply), *_actions(reply.actions)]
    cut = _context_block(["Too long for one message: some of its lines are cut here."])
    room = max(MAX_BLOCKS - len(head) - len(tail) - 1, 0)
    blocks = [*head, *_sections(reply.sections)[:room], cut, *tail][:MAX_BLOCKS]
    return SlackMessage(text=_fallback(reply, 1, 1), blocks=blocks)


def home_view(reply: Reply, *, answer: Reply | None = None) -> Block:
    """The App Home tab showing `reply`, under a short `answer` to what the person just did.

    A view is one page: what would not fit in its 100 blocks is cut, and the page says so.
    """
    blocks = [*_answer_blocks(answer), *_page_blocks(reply)]
    if len(blocks) > MAX_VIEW_BLOCKS:
        cut = "Not everything fits on this page; use `/release list` for the rest."
        blocks = [*blocks[: MAX_VIEW_BLOCKS - 1], _context_block([cut])]
    return {"type": "home", "blocks": blocks}


def _page_blocks(reply: Reply) -> list[Block]:
    # Buttons before the notes: on a page they belong right under the list they act on.
    return [
        *_heading(reply),
        *_facts(reply.facts),
        *_sections(reply.sections),
        *_actions(reply.actions),
        *_context(reply),
    ]


def _answer_blocks(answer: Reply | None) -> list[Block]:
    """What a click did, in brief: title and notes. Its buttons are left out, since the page
    below shows the ones still live (and two sets would repeat action ids)."""
    if answer is None:
        return []
    return [*_heading(answer), *_context(answer), {"type": "divider"}]


def mrkdwn(text: str) -> str:
    """Escape text for mrkdwn and show `slack:U…` principals as mentions."""
    # Most texts need neither step; checking first keeps the acknowledgement path cheap.
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return PRINCIPAL.sub(_mention, text) if "slack:" in text else text


def _struck(line: Struck) -> str:
    return f"~{mrkdwn(line.text)}~{mrkdwn(line.after)}"


def _mention(principal: re.Match[str]) -> str:
    # A function, not the template r"<@\1>": re looks a template up on every call, which costs
    # four times what the replacement does.
    return f"<@{principal[1]}>"


def _fallback(reply: Reply, number: int, total: int) -> str:
    if number == 1:
        return trim(mrkdwn(plain_text(reply)), MAX_FALLBACK)
    return trim(mrkdwn(f"{reply.title} (continued, part {number} of {total})"), MAX_FALLBACK)


# The block builders below return lists, not generators: this is the acknowledgement's hot
# path, and a generator costs a resumption per block at every level of nesting.


def _heading(reply: Reply) -> list[Block]:
    title = TONE_EMOJI[reply.tone] + reply.title
    if len(title) <= MAX_HEADER and not ("slack:" in title and PRINCIPAL.search(title)):
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}]
    else:
        # Too long for a header, or naming people (a header is plain text: no mentions, so
        # nobody would be notified): a bold section keeps every word and pings whom it names.
        blocks = _text_sections([f"*{mrkdwn(title)}*"])
    if reply.summary:
        blocks += _text_sections([mrkdwn(reply.summary)])
    return blocks


def _facts(facts: Sequence[Fact]) -> list[Block]:
    blocks: list[Block] = []
    fields: list[str] = []
    for fact in facts:
        text = f"*{mrkdwn(fact.label)}*\n{mrkdwn(fact.value)}"
        if len(text) <= MAX_FIELD:
            fields.append(text)
            continue
        blocks += _field_sections(fields)
        fields = []
        blocks += _text_sections(text.split("\n"))
    blocks += _field_sections(fields)
    return blocks


def _field_sections(fields: list[str]) -> list[Block]:
    return [
        {
            "type": "section",
            "fields": [_mrkdwn_object(text) for text in fields[start : start + MAX_FIELDS]],
        }
        for start in range(0, len(fields), MAX_FIELDS)
    ]


def _sections(sections: Sequence[Section]) -> list[Block]:
    blocks: list[Block] = []
    for section in sections:
        lines = [mrkdwn(line) if isinstance(line, str) else _struck(line) for line in section.lines]
        if section.title:
            lines.insert(0, f"*{mrkdwn(section.title)}*")
        blocks += _text_sections(lines)
    return blocks


def _text_sections(lines: list[str]) -> list[Block]:
    return [
        {"type": "section", "text": _mrkdwn_object(chunk)} for chunk in pack(lines, MAX_TEXT_OBJECT)
    ]


def _context(reply: Reply) -> list[Block]:
    if not reply.notes and not reply.usage:
        return []
    notes = [mrkdwn(note) for note in reply.notes]
    if reply.usage:
        notes.append(f"Usage: `{mrkdwn(reply.usage)}`")
    pieces = [piece for note in notes for piece in split(note, MAX_TEXT_OBJECT)]
    return [
        _context_block(pieces[start : start + MAX_CONTEXT_ELEMENTS])
        for start in range(0, len(pieces), MAX_CONTEXT_ELEMENTS)
    ]


def _context_block(texts: list[str]) -> Block:
    return {"type": "context", "elements": [_mrkdwn_object(text) for text in texts]}


def _actions(actions: Sequence[Action]) -> list[Block]:
    buttons = [_button(action, index) for index, action in enumerate(actions)]
    return [
        {"type": "actions", "elements": buttons[start : start + MAX_BUTTONS]}
        for start in range(0, len(buttons), MAX_BUTTONS)
    ]


def _button(action: Action, index: int) -> Block:
    prefix, value = (ACTION_PREFIX, action.command)
    if action.asks_for:
        # Slack hands back only the value on a click, so the question travels inside it.
        prefix, value = ASK_PREFIX, ask_value(action)
    if len(value) > MAX_BUTTON_VALUE:
        # A cut value would run a different command, or none: refuse instead.
        raise BlockKitError(
            f"the command behind button {action.label!r} is {len(value)} characters; "
            f"Slack allows {MAX_BUTTON_VALUE}"
        )
    button: Block = {
        "type": "button",
        "action_id": f"{prefix}{index}",
        "text": {"type": "plain_text", "text": trim(action.label, MAX_BUTTON_TEXT), "emoji": True},
        "value": value,
    }
    if action.style in (Style.PRIMARY, Style.DANGER):
        button["style"] = action.style.value
    return button


def ask_value(action: Action) -> str:
    """The value of a button that asks before it runs (see `read_ask`)."""
    prompt = action.prompt or action.label
    fields = {"ask": action.asks_for, "prompt": prompt, "command": action.command}
    return orjson.dumps(fields).decode()


def read_ask(value: str) -> Ask:
    """The `Ask` an asking button's value carries; ValueError for anything else."""
    try:
        fields = json.loads(value)
        ask = Ask(command=fields["command"], field=fields["ask"], prompt=fields["prompt"])
    except (ValueError, KeyError, TypeError) as problem:
        raise ValueError(f"not an asking button: {problem}") from None
    if not all(isinstance(part, str) and part for part in (ask.command, ask.field, ask.prompt)):
        raise ValueError("not an asking button: a part is missing")
    return ask


def _mrkdwn_object(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def pack(lines: Sequence[str], limit: int) -> list[str]:
    """Join lines into texts of at most `limit` characters; lines too long are split, not cut.

    Blank lines are dropped.
    """
    whole = "\n".join(lines)
    if len(whole) <= limit and all(map(str.strip, lines)):
        # The common case, decided in C: everything fits in one text and no line is blank.
        return [whole] if whole else []
    chunks: list[str] = []
    current = ""
    for line in lines:
        for piece in split(line, limit):
            joined = f"{current}\n{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
                continue
            chunks.append(current)
            current = piece
    if current.strip():
        chunks.append(current)
    return chunks


def split(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut between words where possible."""
    pieces = []
    while len(text) > limit:
        cut = _safe_cut(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text.strip() else pieces


def _safe_cut(text: str, limit: int) -> int:
    """A cut at or before `limit` that splits neither an entity (`&amp;`) nor a `<@U…>`."""
    space = text.rfind(" ", limit // 2, limit)
    cut = space + 1 if space > 0 else limit
    for opener, closer in (("&", ";"), ("<", ">")):
        start = text.rfind(opener, 0, cut)
        if start > 0 and text.find(closer, start, cut) == -1:
            cut = min(cut, start)
    return cut


def trim(text: str, limit: int) -> str:
    """`text` cut to `limit` characters between words, with an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    return text[: _safe_cut(text, limit - len(ELLIPSIS))] + ELLIPSIS
