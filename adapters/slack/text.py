"""Slack's message text → the command language's plain text."""

from __future__ import annotations

import re

# A message that addresses the bot starts with its mention: `<@U0BOT> status x@1`.
LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*")
USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# `<https://x|label>`, `<mailto:a@b|a@b>` and bare `<https://x>`.
LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
# Slack escapes only these three; `&amp;` goes last so `&amp;lt;` stays the text `&lt;`.
ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def command_text(text: str) -> str:
    """The command a person typed, without the bot's mention and without Slack's markup."""
    return from_slack(LEADING_MENTION.sub("", text, count=1))


def from_slack(text: str) -> str:
    """Users become principals (`slack:U…`), links their targets, entities their characters."""
    # Most commands carry no markup; the checks keep their path through here short.
    if "<" in text:  # mentions and links both start with it
        text = USER.sub(lambda match: f"slack:{match.group(1)}", text)
        text = LINK.sub(_as_typed, text)
    if "&" in text:  # every entity starts with it
        for entity, character in ENTITIES:
            text = text.replace(entity, character)
    return text.strip()


def _as_typed(link: re.Match[str]) -> str:
    """What the person meant by a link: what they typed when Slack made the link itself (it
    turns `api.example.com` into `<http://api.example.com|api.example.com>` and an address into
    `<mailto:a@b|a@b>`), else its target (a labelled link points where it was meant to)."""
    target, label = link.group(1), link.group(2)
    if label is not None and target.partition(":")[2].lstrip("/") == label:
        return label
    return target
