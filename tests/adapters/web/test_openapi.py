"""The OpenAPI document over real HTTP: valid, and describing exactly the routes served."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from openapi_spec_validator import validate

from adapters.web.api import create_api
from tests.support.rest import call
from tests.support.server import RunningBot

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
async def document(bot: RunningBot, http: aiohttp.ClientSession) -> dict[str, Any]:
    status, body = await call(http, "GET", f"{bot.url}/api/v1/openapi.json", headers=None)
    assert status == 200
    return body


async def test_the_openapi_document_is_valid(document: dict[str, Any]) -> None:
    validate(document)
    assert "/releases/{release}/gate" in document["paths"]


async def test_the_document_describes_every_route_served_and_no_other(
    bot: RunningBot, document: dict[str, Any]
) -> None:
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }
    # Read from the router itself so that a new route cannot go undocumented. aiohttp adds a
    # HEAD twin to every GET route; the document leaves those implicit.
    served = {
        (route.method, route.resource.canonical)
        for route in create_api(bot.components).router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    assert documented == served


async def test_the_gate_response_is_described_with_its_reasons(document: dict[str, Any]) -> None:
    verdict = document["components"]["schemas"]["GateVerdict"]
    assert {"reasons", "skipped"} <= set(verdict["required"])
    gate = document["paths"]["/releases/{release}/gate"]["get"]
    assert "deploy" in gate["description"] and set(gate["responses"]) >= {"200", "409"}
