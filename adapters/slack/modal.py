"""The modal an asking button opens (e.g. the reason for a rejection), and reading its answer."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import Ask, BlockKitError, trim
from bot import commands

CALLBACK_ID = "rb:ask"
# One input; its block and element share an id so the answer is easy to find in view.state.
ANSWER = "rb:answer"
# Slack's limits for modals (it rejects, rather than trims, anything longer).
MAX_TITLE = 24
MAX_LABEL = 2000
MAX_METADATA = 3000
MAX_ANSWER = 3000
FALLBACK_TITLE = "releasebot"


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted modal: the command waiting for its answer, where it was asked, the answer."""

    command: str
    field: str
    channel: str | None
    message_ts: str | None
    answer: str
    home: bool = False  # asked from the App Home tab, where the answer is shown


def ask_modal(
    ask: Ask, *, title: str, channel: str | None, message_ts: str | None, home: bool = False
) -> Any:
    """The modal view asking `ask.prompt`; the rest rides along in private_metadata."""
    metadata = _metadata(ask, channel, message_ts, home)
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(trim(title.strip() or FALLBACK_TITLE, MAX_TITLE)),
        "submit": _plain("Submit"),
        "close": _plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [_answer_block(ask.prompt)],
    }


def command_of(dumped: str, field: str) -> commands.Command:
    """The command that waits for `field`; raises ValueError when it cannot be filled."""
    command = commands.load(dumped)  # CommandDecodeError is a ValueError
    if field not in {each.name for each in dataclasses.fields(command)}:
        raise ValueError(f"{type(command).__name__} has no field {field!r}")
    return command


def read_submission(view: dict[str, Any]) -> Submission:
    """What a `view_submission` of our modal says; ValueError if it is not one of ours."""
    try:
        stored = json.loads(view["private_metadata"])
        answer = view["state"]["values"][ANSWER][ANSWER].get("value")
        return Submission(
            command=str(stored["command"]),
            field=str(stored["field"]),
            channel=stored.get("channel"),
            message_ts=stored.get("ts"),
            answer=answer or "",
            home=stored.get("home") is True,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as problem:
        raise ValueError(f"not a releasebot form: {problem}") from None


def filled(submission: Submission) -> commands.Command:
    """The stored command with the answer in its asked field; ValueError if that fails."""
    command = command_of(submission.command, submission.field)
    return dataclasses.replace(command, **{submission.field: submission.answer})


def _metadata(ask: Ask, channel: str | None, message_ts: str | None, home: bool) -> str:
    stored: dict[str, Any] = {
        "command": ask.command,
        "field": ask.field,
        "channel": channel,
        "ts": message_ts,
    }
    if home:
        stored["home"] = True  # only then: forms asked from messages keep their old metadata
    metadata = json.dumps(stored, separators=(",", ":"), ensure_ascii=False)
    if len(metadata) > MAX_METADATA:
        # Cut metadata would lose the command: refuse, as blocks.py does for button values.
        raise BlockKitError(f"the form's metadata is {len(metadata)} characters")
    return metadata


def _answer_block(prompt: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": ANSWER,
        "label": _plain(trim(prompt, MAX_LABEL)),
        "optional": False,
        "element": {
            "type": "plain_text_input",
            "action_id": ANSWER,
            "multiline": True,
            "max_length": MAX_ANSWER,
        },
    }


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}
