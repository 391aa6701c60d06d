"""A Slack Web API stand-in that takes a fixed time per call, as a busy Slack would."""

from __future__ import annotations

import asyncio
import sys
import time

from aiohttp import web


def create(delay: float) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(delay)  # the latency being simulated, not a race being hidden
        return web.json_response({"ok": True, "ts": f"{time.time():.6f}", "channel": "C"})

    app = web.Application()
    app.router.add_post("/api/{method}", answer)
    return app


if __name__ == "__main__":
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    web.run_app(create(delay), host="127.0.0.1", port=port, print=None, access_log=None)
