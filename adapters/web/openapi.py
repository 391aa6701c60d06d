"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

Every route `create_api` serves is described here or in openapi_observe.py; a test compares
the two so that a new route cannot go undocumented.
"""

from __future__ import annotations

from typing import Any

from adapters.web import openapi_observe, openapi_schemas
from adapters.web.openapi_schemas import array_of, body, errors, json_content, ref

RELEASE_PARAM = {
    "name": "release",
    "in": "path",
    "required": True,
    "description": "service@version, e.g. checkout@2.4.0",
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*@\\S+$"},
}


def _paths() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": {
                "summary": "This document (no token needed)",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": json_content({"type": "object"}, "The OpenAPI document")},
            }
        },
        "/releases": {"get": _list_releases(), "post": _declare()},
        "/releases/{release}": {
            "get": {
                "summary": "A release with its sign-offs and gates",
                "operationId": "getRelease",
                "parameters": [RELEASE_PARAM],
                "responses": {
                    "200": json_content(ref("ReleaseDetail"), "The release"),
                    **errors(400, 401, 404),
                },
            }
        },
        **_release_paths(),
        "/audit": {"get": _audit()},
    }


def _list_releases() -> dict[str, Any]:
    release_list = {"type": "object", "properties": {"releases": array_of("Release")}}
    return {
        "summary": "List releases, soonest first",
        "operationId": "listReleases",
        "parameters": [
            {
                "name": "scope",
                "in": "query",
                "schema": {"type": "string", "enum": ["upcoming", "active", "all"]},
            },
            {"name": "train", "in": "query", "schema": {"type": "string"}},
            {"name": "service", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": json_content(release_list, "Releases"), **errors(400, 401)},
    }


def _declare() -> dict[str, Any]:
    return {
        "summary": "Declare a release",
        "operationId": "declareRelease",
        "requestBody": body("Declare"),
        "responses": {
            "201": json_content(ref("ReleaseDeclared"), "Declared"),
            **errors(400, 401, 403, 409),
        },
    }


def _release_paths() -> dict[str, Any]:
    """What hangs off one release: its signals, the CI gate, risks, change items and notes."""
    return {
        "/releases/{release}/signals": {
            "post": _write(
                "recordSignals",
                "Record readiness signals; answers with the CI gate after them",
                "Signals",
                {"200": json_content(ref("GateVerdict"), "The gate after the signals")},
            )
        },
        "/releases/{release}/gate": {"get": _gate()},
        "/releases/{release}/risks": {
            "post": _write(
                "addRisk",
                "Record a risk (it gets an id like R7)",
                "NewRisk",
                {"201": json_content(ref("Risk"), "Recorded")},
            )
        },
        "/releases/{release}/changes": {
            "post": _write(
                "addChanges",
                "Add change items, the source of the release notes (earlier sign-offs go stale "
                "unless the policy keeps them)",
                "Changes",
                {"201": json_content(ref("ChangesAdded"), "Added")},
            )
        },
        "/releases/{release}/notes": {"get": _notes()},
    }


def _write(operation: str, summary: str, schema: str, answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "operationId": operation,
        "parameters": [RELEASE_PARAM],
        "requestBody": body(schema),
        "responses": {**answers, **errors(400, 401, 403, 404)},
    }


def _gate() -> dict[str, Any]:
    return {
        "summary": "The CI gate: may this release go out now, by the rules of `deploy`?",
        "description": (
            "200 when it may: a standard or normal change that is planned, approved or "
            "deploying with nothing blocking it now (no failing gate, no freeze in force, and "
            "before the deploy has started no missing sign-off); an emergency change once "
            "someone has run `deploy` for it, which opens its retrospective review (what it "
            "goes past is in `skipped`). 409 otherwise, "
            "with `reasons` in the words `deploy` refuses with, e.g. "
            '"checkout@2.4.0 is cancelled" or "freeze F1 is in force".'
        ),
        "operationId": "gate",
        "parameters": [RELEASE_PARAM],
        "responses": {
            "200": json_content(ref("GateVerdict"), "Pass: it may go out now"),
            "409": json_content(ref("GateVerdict"), "Fail: `reasons` says why"),
            **errors(400, 401, 404),
        },
    }


def _notes() -> dict[str, Any]:
    return {
        "summary": "Release notes from the change items, with known issues from accepted risks",
        "operationId": "releaseNotes",
        "parameters": [RELEASE_PARAM],
        "responses": {
            "200": {
                "description": "The notes as Markdown",
                "content": {"text/markdown": {"schema": {"type": "string"}}},
            },
            **errors(400, 401, 404),
        },
    }


def _audit() -> dict[str, Any]:
    events = {"type": "object", "properties": {"events": array_of("AuditEvent")}}
    return {
        "summary": "The audit trail, as JSON or CSV",
        "operationId": "audit",
        "parameters": [
            {"name": "release", "in": "query", "schema": {"type": "string"}},
            {
                "name": "format",
                "in": "query",
                "schema": {"type": "string", "enum": ["json", "csv"]},
            },
        ],
        "responses": {
            "200": {
                "description": "Audit events",
                "content": {
                    "application/json": {"schema": events},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            **errors(400, 401),
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "releasebot REST API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {**_paths(), **openapi_observe.paths()},
        "components": {
            "schemas": {**openapi_schemas.schemas(), **openapi_observe.schemas()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
