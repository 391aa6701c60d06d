"""Handlers, one small function per command; importing this package registers them all."""

from bot.handlers import releases
from bot.handlers.base import HANDLERS, Context, Registration

__all__ = ["HANDLERS", "Context", "Registration", "releases"]
