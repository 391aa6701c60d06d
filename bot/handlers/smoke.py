"""Post-release smoke checks: an adapter runs them once a release is deployed, the core keeps
the results, shows them on the release card and, on a failure, offers the way back."""

from __future__ import annotations

from datetime import datetime

from bot import commands as c
from bot import observe_presenters as present
from bot.domain import DomainError, in_chat
from bot.handlers.base import Context, audit_draft, existing, finish, handles
from bot.observe import SmokeResult
from bot.outbox import Outgoing
from bot.reply import Reply


@handles(c.RecordSmoke)
async def record_smoke(cmd: c.RecordSmoke, ctx: Context) -> Reply:
    if not cmd.results:
        raise DomainError("no smoke check results")
    release = await existing(ctx, cmd.release, for_update=True)
    results = [_result(row) for row in cmd.results]
    await ctx.uow.smoke.add(release.name, results, at=ctx.now)
    failed = [r.url for r in results if not r.passed]
    detail = {"passed": len(results) - len(failed), "failed": failed}
    await ctx.uow.audit.append(audit_draft(ctx, "smoke_checked", release, detail=detail))
    report = present.smoke_report(release.name, results)
    if in_chat(release.channel):
        await ctx.uow.outbox.add(Outgoing(release.channel, report), at=ctx.now)
    await finish(ctx, release)  # the release's cards now show the results; this commits
    return report


def _result(row: tuple[str, int, int | None, bool, str, str]) -> SmokeResult:
    url, expected, status, passed, detail, at = row
    return SmokeResult(url, expected, status, passed, detail, datetime.fromisoformat(at))
