"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`."""

from __future__ import annotations

from typing import Any

from adapters.web import openapi_observe

RELEASE_PARAM = {
    "name": "release",
    "in": "path",
    "required": True,
    "description": "service@version, e.g. checkout@2.4.0",
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*@\\S+$"},
}
ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Bad input",
        401: "Missing or wrong bearer token",
        403: "Writes are off",
        404: "No such release",
        409: "Refused by the rules",
    }
    return {str(code): _json(ERROR, words[code]) for code in codes}


def _schemas() -> dict[str, Any]:
    nullable = {"type": ["string", "null"]}
    gate = {
        "type": "object",
        "properties": {
            "gate": {"type": "string"},
            "pass": {"type": "boolean"},
            "reason": {"type": "string"},
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Release": {
            "type": "object",
            "required": ["name", "state", "class"],
            "properties": {
                "name": {"type": "string"},
                "service": {"type": "string"},
                "version": {"type": "string"},
                "state": {
                    "type": "string",
                    "enum": [
                        "planned",
                        "approved",
                        "deploying",
                        "deployed",
                        "verified",
                        "rolled_back",
                        "cancelled",
                    ],
                },
                "class": {"type": "string", "enum": ["standard", "normal", "emergency"]},
                "scheduled_at": {"type": ["string", "null"], "format": "date-time"},
                "train": nullable,
                "env": nullable,
                "owner": {"type": "string"},
            },
        },
        "Gate": gate,
        "GateVerdict": {
            "type": "object",
            "required": ["release", "pass"],
            "properties": {
                "release": {"type": "string"},
                "pass": {"type": "boolean"},
                "state": {"type": "string"},
                "readiness_index": {"type": "integer"},
                "gates": {"type": "array", "items": gate},
                "failing": {"type": "array", "items": gate},
                "missing_signoffs": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Declare": {
            "type": "object",
            "required": ["release"],
            "properties": {
                "release": {"type": "string", "example": "checkout@2.4.0"},
                "at": {"type": "string", "format": "date-time"},
                "class": {"type": "string", "enum": ["standard", "normal", "emergency"]},
                "train": {"type": "string"},
                "env": {"type": "string"},
                "owner": {"type": "string", "example": "slack:U0123ABCD"},
            },
        },
        "Signals": {
            "type": "object",
            "required": ["signals"],
            "properties": {
                "signals": {
                    "type": "object",
                    "additionalProperties": {"type": "number"},
                    "example": {"coverage": 82.5, "open_blockers": 0},
                }
            },
        },
        "AuditEvent": {
            "type": "object",
            "properties": {
                "seq": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "action": {"type": "string"},
                "actor": {"type": "string"},
                "surface": {"type": "string"},
                "release": nullable,
                "hash": {"type": "string"},
                "prev_hash": {"type": "string"},
            },
        },
    }


def _paths() -> dict[str, Any]:
    release_list = {
        "type": "object",
        "properties": {
            "releases": {"type": "array", "items": {"$ref": "#/components/schemas/Release"}}
        },
    }
    return {
        "/releases": {
            "get": {
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
                "responses": {"200": _json(release_list, "Releases"), **_errors(400, 401)},
            },
            "post": {
                "summary": "Declare a release",
                "operationId": "declareRelease",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Declare"}}
                    },
                },
                "responses": {
                    "201": _json({"$ref": "#/components/schemas/Release"}, "Declared"),
                    **_errors(400, 401, 403, 409),
                },
            },
        },
        "/releases/{release}": {
            "get": {
                "summary": "A release with its sign-offs and gates",
                "operationId": "getRelease",
                "parameters": [RELEASE_PARAM],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Release"}, "The release"),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/releases/{release}/signals": {
            "post": {
                "summary": "Record readiness signals",
                "operationId": "recordSignals",
                "parameters": [RELEASE_PARAM],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Signals"}}
                    },
                },
                "responses": {
                    "200": _json(
                        {"$ref": "#/components/schemas/GateVerdict"}, "The gates after the signals"
                    ),
                    **_errors(400, 401, 403, 404),
                },
            }
        },
        "/releases/{release}/gate": {
            "get": {
                "summary": "The CI gate: 200 when the release may go, 409 with the failing gates",
                "operationId": "gate",
                "parameters": [RELEASE_PARAM],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/GateVerdict"}, "Pass"),
                    "409": _json({"$ref": "#/components/schemas/GateVerdict"}, "Fail"),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/audit": {
            "get": {
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
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "events": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/AuditEvent"},
                                        }
                                    },
                                }
                            },
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(401),
                },
            }
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
            "schemas": {**_schemas(), **openapi_observe.schemas()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
