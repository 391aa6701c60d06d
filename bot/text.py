"""The plain-text rendering every reply has: console, notifications and accessibility."""

from __future__ import annotations

from bot.reply import Reply, Tone, line_text

_MARKS = {Tone.INFO: "", Tone.SUCCESS: "✓ ", Tone.WARNING: "! ", Tone.ERROR: "✗ "}


def plain_text(reply: Reply) -> str:
    # List displays rather than generators fed to extend(): every Slack acknowledgement carries
    # this text, and a generator costs a resumption per line.
    lines = [_MARKS[reply.tone] + reply.title]
    if reply.summary:
        lines.append(reply.summary)
    lines += [f"{fact.label}: {fact.value}" for fact in reply.facts]
    for section in reply.sections:
        if section.title:
            lines.append(f"{section.title}:")
        lines += [f"  {line_text(line)}" for line in section.lines]
    lines += reply.notes
    if reply.usage:
        lines.append(f"Usage: {reply.usage}")
    if reply.actions:
        lines.append("Actions: " + ", ".join([action.label for action in reply.actions]))
    return "\n".join(lines)
