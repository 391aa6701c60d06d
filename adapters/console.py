"""`releasebot console`: the command language in a terminal, or from stdin for scripts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TextIO

from bot.domain import Actor, Conversation
from bot.reply import Tone
from bot.service import ReleaseBot
from bot.text import plain_text

PROMPT = "releasebot> "
CONVERSATION = Conversation("console", "terminal")
QUIT_WORDS = frozenset({"quit", "exit"})


async def run_console(
    bot: ReleaseBot,
    actor: Actor,
    *,
    stdin: TextIO,
    stdout: TextIO,
    history_file: Path | None = None,
) -> int:
    """Answer each line; returns 1 when any command was refused (useful in scripts), else 0."""
    interactive = stdin.isatty()
    lines = _interactive_lines(history_file) if interactive else _piped_lines(stdin)
    if interactive:
        stdout.write("releasebot console — type `help`, or `quit` to leave.\n")
    failed = False
    async for line in lines:
        reply = await bot.handle_text(line, actor, CONVERSATION)
        failed = failed or reply.tone is Tone.ERROR
        stdout.write(plain_text(reply) + "\n\n")
        stdout.flush()
    return 1 if failed else 0


async def _piped_lines(stdin: TextIO) -> AsyncIterator[str]:
    """Non-empty lines that are not `#` comments, until end of input or `quit`."""
    while line := await asyncio.to_thread(stdin.readline):
        text = line.strip()
        if text.lower() in QUIT_WORDS:
            return
        if text and not text.startswith("#"):
            yield text


async def _interactive_lines(history_file: Path | None) -> AsyncIterator[str]:
    read = _readline_prompt(history_file)
    while True:
        try:
            text = (await asyncio.to_thread(read, PROMPT)).strip()
        except (EOFError, KeyboardInterrupt):
            return
        if text.lower() in QUIT_WORDS:
            return
        if text:
            yield text


def _readline_prompt(history_file: Path | None) -> Callable[[str], str]:
    """`input` with line editing and a history kept between sessions, where readline exists."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows
        return input
    if history_file is not None:
        history_file.parent.mkdir(parents=True, exist_ok=True)
        if history_file.exists():
            readline.read_history_file(history_file)

    def read(prompt: str) -> str:
        text = input(prompt)
        if history_file is not None:
            readline.write_history_file(history_file)
        return text

    return read
