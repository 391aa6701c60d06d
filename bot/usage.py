"""The usage line and one-line summary of every verb: the single source for help and errors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    verb: str
    line: str
    summary: str


USAGES: tuple[Usage, ...] = (
    Usage("help", "help [command]", "usage of all commands or one"),
    Usage(
        "declare",
        "declare <service@version> [at <when>] [class standard|normal|emergency] "
        "[train <train>] [env <env>] [owner <user>]",
        "declare a release and post its card",
    ),
    Usage("status", "status <service@version>", "the release card"),
    Usage(
        "list",
        "list [upcoming|active|all] [train <train>] [service <service>]",
        "releases, soonest first",
    ),
    Usage("calendar", "calendar [days]", "releases, freezes and syncs in the next days (14)"),
    Usage("approve", "approve <service@version> [as <role>] [note…]", "sign off a release"),
    Usage("reject", "reject <service@version> [as <role>] <reason>", "reject a release"),
    Usage("signal", "signal <service@version> <key>=<value>…", "record readiness signals"),
    Usage("gate", "gate <service@version> [if accept <risk-id>…]", "evaluate readiness gates"),
    Usage(
        "risk",
        "risk <service@version> <low|medium|high|critical> <description>",
        "record a risk",
    ),
    Usage(
        "huddle",
        "huddle <service@version> [topic] | huddle close <service@version>",
        "open a risk huddle, or close it and post the outcome",
    ),
    Usage(
        "decide",
        "decide <risk-id> <blocker|accept [until <when>]|defer> <rationale>",
        "decide on a risk",
    ),
    Usage("decisions", "decisions <service@version>", "the decision log of a release"),
    Usage("deploy", "deploy <service@version>", "start deploying"),
    Usage("deployed", "deployed <service@version>", "mark deployed"),
    Usage("verified", "verified <service@version>", "mark verified in production"),
    Usage("rollback", "rollback <service@version> <reason>", "roll a release back"),
    Usage("cancel", "cancel <service@version> <reason>", "cancel a release"),
    Usage("reschedule", "reschedule <service@version> <when>", "move a release"),
    Usage("promote", "promote <service@version> <train>", "move a release to another train"),
    Usage("notes", "notes <service@version> [publish]", "release notes"),
    Usage(
        "sync",
        "sync <schedule> [tz <Area/City>] | sync cancel <id>",
        "recurring release-sync reminders in this channel",
    ),
    Usage("syncs", "syncs", "the release syncs of this channel"),
    Usage("poll", "poll <service@version> [at <when>]", "a readiness poll to the sign-off roles"),
    Usage("freeze", "freeze <from> <to> [reason]", "declare a freeze window"),
    Usage("freezes", "freezes", "freeze windows"),
    Usage("unfreeze", "unfreeze <id>", "remove a freeze window"),
    Usage("metrics", "metrics [service] [days]", "DORA and release metrics"),
    Usage("audit", "audit <service@version>", "the audit trail of a release"),
)

BY_VERB: dict[str, Usage] = {usage.verb: usage for usage in USAGES}
