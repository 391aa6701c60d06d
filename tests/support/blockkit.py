"""Slack's Block Kit limits, checked on any message a test sees (Slack rejects, never trims)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_TEXT_OBJECT = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
# Modals (views.open) and the App Home (views.publish): https://api.slack.com/reference/surfaces/views
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24
MAX_METADATA = 3000
MAX_LABEL = 2000
MAX_INPUT_LENGTH = 3000
# In mrkdwn a `<` may only open Slack's own markup; anything else is unescaped user text.
UNESCAPED = re.compile(r"<(?![@#!]|https?:|mailto:)")


def assert_block_kit_limits(message: Any) -> None:
    """Fail, naming the place, if `message` (dict or object with text/blocks) breaks a limit."""
    text, blocks = _text_and_blocks(message)
    assert isinstance(text, str) and text.strip(), "a message needs fallback text"
    assert len(text) <= MAX_TEXT, f"text is {len(text)} characters"
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks in one message"
    action_ids: list[str] = []
    for index, block in enumerate(blocks):
        _check_block(block, f"blocks[{index}]", action_ids)
    assert len(action_ids) == len(set(action_ids)), f"duplicate action_id in {action_ids}"


def _text_and_blocks(message: Any) -> tuple[Any, list[dict[str, Any]]]:
    if isinstance(message, Mapping):
        return message.get("text"), list(message.get("blocks") or [])
    return message.text, list(message.blocks)


def _check_block(block: dict[str, Any], where: str, action_ids: list[str]) -> None:
    assert len(block.get("block_id", "")) <= MAX_ID, f"{where}.block_id too long"
    kind = block.get("type")
    if kind == "header":
        _check_text(block["text"], f"{where}.text", MAX_HEADER, plain_only=True)
    elif kind == "section":
        _check_section(block, where)
    elif kind == "context":
        elements = block["elements"]
        assert 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS, f"{where}: {len(elements)} elements"
        for i, element in enumerate(elements):
            _check_text(element, f"{where}.elements[{i}]", MAX_TEXT_OBJECT)
    elif kind == "actions":
        _check_actions(block, where, action_ids)
    else:
        assert kind == "divider", f"{where}: unexpected block type {kind!r}"


def _check_section(block: dict[str, Any], where: str) -> None:
    assert "text" in block or "fields" in block, f"{where}: a section needs text or fields"
    if "text" in block:
        _check_text(block["text"], f"{where}.text", MAX_TEXT_OBJECT)
    fields = block.get("fields", [])
    assert len(fields) <= MAX_FIELDS, f"{where}: {len(fields)} fields"
    for i, field in enumerate(fields):
        _check_text(field, f"{where}.fields[{i}]", MAX_FIELD)


def _check_actions(block: dict[str, Any], where: str, action_ids: list[str]) -> None:
    elements = block["elements"]
    assert 1 <= len(elements) <= MAX_ACTION_ELEMENTS, f"{where}: {len(elements)} elements"
    for i, button in enumerate(elements):
        place = f"{where}.elements[{i}]"
        assert button["type"] == "button", f"{place}: not a button"
        _check_text(button["text"], f"{place}.text", MAX_BUTTON_TEXT, plain_only=True)
        assert len(button.get("value", "")) <= MAX_BUTTON_VALUE, f"{place}.value too long"
        assert 0 < len(button["action_id"]) <= MAX_ID, f"{place}.action_id"
        assert button.get("style", "primary") in ("primary", "danger"), f"{place}.style"
        action_ids.append(button["action_id"])


def _check_text(obj: dict[str, Any], where: str, limit: int, *, plain_only: bool = False) -> None:
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    assert obj.get("type") in kinds, f"{where}: type {obj.get('type')!r}"
    text = obj.get("text", "")
    assert 1 <= len(text) <= limit, f"{where}: {len(text)} characters (limit {limit})"
    if obj["type"] == "mrkdwn":
        assert not UNESCAPED.search(text), f"{where}: unescaped '<' in {text[:80]!r}"


def assert_modal_limits(view: Mapping[str, Any]) -> None:
    """Fail, naming the place, if a modal view breaks one of Slack's limits for modals."""
    assert view.get("type") == "modal", f"view type {view.get('type')!r}"
    for key in ("title", "submit", "close"):
        _check_text(view[key], f"view.{key}", MAX_VIEW_TITLE, plain_only=True)
    assert 0 < len(view.get("callback_id", "")) <= MAX_ID, "view.callback_id"
    assert len(view.get("private_metadata", "")) <= MAX_METADATA, "view.private_metadata"
    blocks = view["blocks"]
    assert 1 <= len(blocks) <= MAX_VIEW_BLOCKS, f"{len(blocks)} blocks in a modal"
    block_ids = [block.get("block_id") for block in blocks]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"
    for index, block in enumerate(blocks):
        where = f"view.blocks[{index}]"
        if block.get("type") == "input":
            _check_input(block, where)
        else:
            _check_block(block, where, [])


def assert_home_view_limits(view: Mapping[str, Any]) -> None:
    """Fail, naming the place, if an App Home view breaks a limit: 100 blocks (a message has
    50), ids, and every block's own limits; a home view takes no inputs, title or submit."""
    assert view.get("type") == "home", f"view type {view.get('type')!r}"
    for key in ("title", "submit", "close"):
        assert key not in view, f"a home view has no {key}"
    assert len(view.get("callback_id", "")) <= MAX_ID, "view.callback_id"
    assert len(view.get("external_id", "")) <= MAX_ID, "view.external_id"
    assert len(view.get("private_metadata", "")) <= MAX_METADATA, "view.private_metadata"
    blocks = view["blocks"]
    assert 1 <= len(blocks) <= MAX_VIEW_BLOCKS, f"{len(blocks)} blocks in a home view"
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"
    action_ids: list[str] = []
    for index, block in enumerate(blocks):
        _check_block(block, f"view.blocks[{index}]", action_ids)
    assert len(action_ids) == len(set(action_ids)), f"duplicate action_id in {action_ids}"


def _check_input(block: dict[str, Any], where: str) -> None:
    assert 0 < len(block.get("block_id", "")) <= MAX_ID, f"{where}.block_id"
    _check_text(block["label"], f"{where}.label", MAX_LABEL, plain_only=True)
    element = block["element"]
    assert element["type"] == "plain_text_input", f"{where}.element: {element['type']!r}"
    assert 0 < len(element.get("action_id", "")) <= MAX_ID, f"{where}.element.action_id"
    assert 0 < element.get("max_length", MAX_INPUT_LENGTH) <= MAX_INPUT_LENGTH, "max_length"


def block_texts(message: Any) -> str:
    """Every text in a message's blocks (headers, sections, fields, context), one per line."""
    _, blocks = _text_and_blocks(message)
    found: list[str] = []
    for block in blocks:
        parts = [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                found.append(part["text"])
    return "\n".join(found)


def privately_shown(message: dict[str, Any]) -> str:
    """The texts of an answer shown to the asker alone (ephemeral), checked against Block Kit's
    limits on the way."""
    assert message["response_type"] == "ephemeral"
    assert_block_kit_limits(message)
    return block_texts(message)
