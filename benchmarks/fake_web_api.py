"""A minimal Slack Web API for the benchmarks: enough for auth.test and posting."""

from __future__ import annotations

import sys
import time

from aiohttp import web


async def answer(request: web.Request) -> web.Response:
    method = request.match_info["method"]
    if method == "auth.test":
        return web.json_response(
            {"ok": True, "user_id": "U0BOT00001", "bot_id": "B0BOT00001", "team_id": "T0BENCH001"}
        )
    return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "channel": "C0BENCH001"})


def create() -> web.Application:
    app = web.Application()
    app.router.add_post("/api/{method}", answer)
    return app


if __name__ == "__main__":
    web.run_app(create(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
