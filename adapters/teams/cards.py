"""Reply → Adaptive Card 1.5: the only module that knows the card format.

Buttons. Every `Action` becomes an `Action.Execute` (Universal Actions) whose `verb` is the
command's verb and whose `data` is `{"rb": <commands.dump string>}`; its `fallback` is an
`Action.Submit` with the same `data`, for clients without Universal Actions. A click arrives as an
`adaptiveCard/action` invoke with the data in `value.action.data`, or as a message with the data
in `value`; `clicked_command` reads either. An action that `asks_for` a field becomes an
`Action.ShowCard` holding a required `Input.Text` and the Execute button, whose data adds
`"rbField": <field>, "rbInput": <input id>`; the client merges `{<input id>: <typed text>}` into
the data, and `clicked_command` puts that text into the field. On the card of a release or a
huddle every button's data also carries `"rbOn": <subject>`, so a click can be answered with the
card it was made on (`clicked_subject`). Keys are short because Teams caps a whole card at about
28 KB.

A click whose data is not ours (another app's card, tampered data) raises NotOurButton, and the
bot answers it like any refusal: HTTP 200 with a card that says so. Not the
`application/vnd.microsoft.error` shape: Teams shows the card to the clicker in place of the one
clicked, so they read our words, while the error shape is barely documented and shown as a
generic failure; and botbuilder 4.17.1 cannot even serialize its own error responses.

Notices. What one click got without changing the release (a refusal, "nothing changed") is
shown to the clicker as a Container at the top of the card as it stands (`render(card, notice)`),
so they keep the card, with its live buttons, and read why above it.

Text. A TextBlock renders a markdown subset, but a Reply carries plain text (release names,
reasons, people's names), so every string is escaped to show exactly as written.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from botbuilder.schema import Attachment

from bot import commands
from bot.reply import Action, Fact, Line, Reply, Section, Style, Tone
from bot.text import plain_text

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
DATA_KEY = "rb"
FIELD_KEY = "rbField"
INPUT_KEY = "rbInput"
ON_KEY = "rbOn"
MAX_INPUT_LENGTH = 1000

Element = dict[str, Any]

# Colour alone does not reach everyone, so the title also carries the plain-text mark.
_TONE_COLORS = {
    Tone.INFO: None,
    Tone.SUCCESS: "Good",
    Tone.WARNING: "Warning",
    Tone.ERROR: "Attention",
}
_TONE_MARKS = {Tone.INFO: "", Tone.SUCCESS: "✓ ", Tone.WARNING: "! ", Tone.ERROR: "✗ "}
_NOTICE_STYLES = {
    Tone.INFO: "emphasis",
    Tone.SUCCESS: "good",
    Tone.WARNING: "warning",
    Tone.ERROR: "attention",
}
_ACTION_STYLES = {Style.DEFAULT: "default", Style.PRIMARY: "positive", Style.DANGER: "destructive"}

# Markdown's inline punctuation, plus `{` `}` so that text cannot form a {{DATE(…)}} function.
_MARKUP = re.compile(r"([\\`*_~\[\]<>{}])")
# What only means something at the start of a line: a list item, a heading, a rule.
_LINE_MARK = re.compile(r"^(\s*)([-+#=])", re.MULTILINE)
_ORDERED_ITEM = re.compile(r"^(\s*\d+)\.(?=\s|$)", re.MULTILINE)


def escape(text: str) -> str:
    """Text that renders literally in a TextBlock or a Fact."""
    escaped = _MARKUP.sub(r"\\\1", text)
    escaped = _LINE_MARK.sub(r"\1\\\2", escaped)
    return _ORDERED_ITEM.sub(r"\1\\.", escaped)


def render(reply: Reply, notice: Reply | None = None) -> dict[str, Any]:
    """The Adaptive Card for `reply`, with `notice` (e.g. a refusal) set off at the top."""
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": VERSION,
        "fallbackText": plain_text(reply),
        "body": _body(reply),
    }
    if notice is not None:
        card["fallbackText"] = f"{plain_text(notice)}\n\n{card['fallbackText']}"
        card["body"].insert(0, _notice(notice))
    if reply.actions:
        on = {ON_KEY: reply.subject} if reply.subject else {}
        card["actions"] = [_action(action, i, on) for i, action in enumerate(reply.actions, 1)]
    return card


def attachment(reply: Reply) -> Attachment:
    """The card of `reply` as a Bot Framework attachment."""
    return Attachment(content_type=CONTENT_TYPE, content=render(reply))


class NotOurButton(ValueError):
    """Click data that releasebot did not put on a card (or that was tampered with)."""


def clicked_command(data: Any) -> commands.Command:
    """The command a click carries, with any text typed into its input; else NotOurButton."""
    if not isinstance(data, dict) or not isinstance(data.get(DATA_KEY), str):
        raise NotOurButton("the click carries no releasebot command")
    try:
        command = commands.load(data[DATA_KEY])
    except commands.CommandDecodeError as problem:
        raise NotOurButton(str(problem)) from None
    if FIELD_KEY not in data:
        return command
    return _with_input(command, data[FIELD_KEY], data.get(str(data.get(INPUT_KEY))))


def clicked_subject(data: Any) -> str | None:
    """The release or huddle whose card a click was made on, when the button says."""
    on = data.get(ON_KEY) if isinstance(data, dict) else None
    return on if isinstance(on, str) and on else None


def _with_input(command: commands.Command, field: Any, typed: Any) -> commands.Command:
    # Only a text field may be filled from the card: the input is a line of text.
    current = getattr(command, field, 0) if isinstance(field, str) else 0
    if not isinstance(current, str | None):
        raise NotOurButton(f"{type(command).__name__} has no text field {field!r}")
    text = typed.strip() if isinstance(typed, str) else ""
    return dataclasses.replace(command, **{field: text})


def _body(reply: Reply) -> list[Element]:
    body = [_title(reply)]
    if reply.summary:
        body.append(_text(reply.summary))
    if reply.facts:
        body.append(_fact_set(reply.facts))
    body.extend(_section(section) for section in reply.sections if section.title or section.lines)
    body.extend(_subtle(note) for note in reply.notes)
    if reply.usage:
        body.append(_subtle(f"Usage: {reply.usage}"))
    return body


def _title(reply: Reply) -> Element:
    title = _text(_TONE_MARKS[reply.tone] + reply.title, weight="Bolder", size="Medium")
    color = _TONE_COLORS[reply.tone]
    if color:
        title["color"] = color
    return title


def _notice(notice: Reply) -> Element:
    """A banner above a card: what one click got, shown only to the person who clicked."""
    items = [_title(notice)]
    if notice.summary:
        items.append(_text(notice.summary))
    return {"type": "Container", "style": _NOTICE_STYLES[notice.tone], "items": items}


def _text(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}


def _line(line: Line) -> Element:
    if isinstance(line, str):
        return _text(line, spacing="None")
    # TextBlock markdown has no strikethrough; a RichTextBlock's runs do (and take no markdown).
    runs = [{"type": "TextRun", "text": line.text, "strikethrough": True}]
    if line.after:
        runs.append({"type": "TextRun", "text": line.after})
    return {"type": "RichTextBlock", "inlines": runs, "spacing": "None"}


def _subtle(text: str) -> Element:
    return _text(text, isSubtle=True, size="Small")


def _fact_set(facts: tuple[Fact, ...]) -> Element:
    return {
        "type": "FactSet",
        "facts": [{"title": escape(f.label), "value": escape(f.value)} for f in facts],
    }


def _section(section: Section) -> Element:
    # One TextBlock per line: a single "\n" inside a TextBlock is not a line break everywhere.
    items = [_line(line) for line in section.lines]
    if section.title:
        items.insert(0, _text(section.title, weight="Bolder"))
    return {"type": "Container", "separator": True, "items": items}


def _action(action: Action, index: int, on: dict[str, str]) -> Element:
    if action.asks_for:
        return _asking(action, index, on)
    return _execute(action.label, {DATA_KEY: action.command, **on}, action.style)


def _execute(title: str, data: dict[str, str], style: Style) -> Element:
    look = _ACTION_STYLES[style]
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": _verb(data[DATA_KEY]),
        "data": data,
        "style": look,
        "fallback": {"type": "Action.Submit", "title": title, "data": data, "style": look},
    }


def _asking(action: Action, index: int, on: dict[str, str]) -> Element:
    """A button that first opens a text input, e.g. the reason for a rejection."""
    assert action.asks_for is not None
    input_id = f"{INPUT_KEY}{index}"  # unique on the card: inputs of every sub-card are sent
    data = {DATA_KEY: action.command, FIELD_KEY: action.asks_for, INPUT_KEY: input_id, **on}
    text_input = {
        "type": "Input.Text",
        "id": input_id,
        "label": action.prompt or action.asks_for.capitalize(),
        "isMultiline": True,
        "maxLength": MAX_INPUT_LENGTH,
        "isRequired": True,
        "errorMessage": f"Please write the {action.asks_for}.",
    }
    form = {
        "type": "AdaptiveCard",
        "body": [text_input],
        "actions": [_execute(action.label, data, action.style)],
    }
    return {
        "type": "Action.ShowCard",
        "title": action.label,
        "style": _ACTION_STYLES[action.style],
        "card": form,
    }


def _verb(command: str) -> str:
    # The verb is only a label for logs and tooling; `data` is what gets run.
    try:
        return commands.load(command).verb.replace(" ", "-")
    except commands.CommandDecodeError:
        return "run"
