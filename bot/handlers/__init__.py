"""Handlers, one small function per command; importing this package registers them all."""

from bot.handlers import (
    audit_trail,
    freezes,
    lifecycle,
    metrics,
    notes,
    observe,
    polls,
    readiness,
    releases,
    risks,
    schedules,
    signoffs,
    smoke,
)
from bot.handlers.base import HANDLERS, Registration
from bot.handlers.context import Context

__all__ = [
    "HANDLERS",
    "Context",
    "Registration",
    "audit_trail",
    "freezes",
    "lifecycle",
    "metrics",
    "notes",
    "observe",
    "polls",
    "readiness",
    "releases",
    "risks",
    "schedules",
    "signoffs",
    "smoke",
]
