"""Handlers, one small function per command; importing this package registers them all."""

from bot.handlers import audit_trail, freezes, lifecycle, releases, signoffs
from bot.handlers.base import HANDLERS, Context, Registration

__all__ = [
    "HANDLERS",
    "Context",
    "Registration",
    "audit_trail",
    "freezes",
    "lifecycle",
    "releases",
    "signoffs",
]
