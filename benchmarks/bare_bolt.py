"""The floor: a bare slack-bolt app whose /release handler only acknowledges."""

from __future__ import annotations

import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def create(signing_secret: str, api_base_url: str) -> web.Application:
    client = AsyncWebClient(token="xoxb-bench", base_url=api_base_url)
    bolt = AsyncApp(signing_secret=signing_secret, client=client)

    @bolt.command("/release")
    async def release(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


if __name__ == "__main__":
    secret, base_url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    web.run_app(create(secret, base_url), host="127.0.0.1", port=port, print=None)
