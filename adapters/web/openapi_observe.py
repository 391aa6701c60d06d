"""The OpenAPI description of the event and metrics endpoints (merged into openapi.py)."""

from __future__ import annotations

from typing import Any

from adapters.web.openapi_schemas import (
    INSTANT,
    NULLABLE_INSTANT,
    body,
    errors,
    json_content,
    ref,
)


def schemas() -> dict[str, Any]:
    metric = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "value": {"type": ["number", "null"]},
            "numerator": {"type": "number"},
            "denominator": {"type": "number"},
            "unit": {"type": "string", "enum": ["per day", "hours", "ratio"]},
            "numerator_label": {"type": "string"},
            "denominator_label": {"type": "string"},
        },
    }
    metric_set = {"type": "object", "additionalProperties": ref("Metric")}
    return {
        "Deployment": {
            "type": "object",
            "required": [
                "service",
                "version",
                "environment",
                "status",
                "started_at",
                "finished_at",
            ],
            "properties": {
                "service": {"type": "string", "example": "checkout"},
                "version": {"type": "string", "example": "2.4.0"},
                "environment": {"type": "string", "example": "prod"},
                "status": {"type": "string", "enum": ["success", "failure", "rolled_back"]},
                "started_at": INSTANT,
                "finished_at": INSTANT,
                "commits": {
                    "type": "array",
                    "items": INSTANT,
                    "description": "Commit times, for the lead time; without them the merge "
                    "times of the release's change items are used.",
                },
            },
        },
        "Incident": {
            "type": "object",
            "required": ["service", "severity", "opened_at"],
            "properties": {
                "service": {"type": "string"},
                "severity": {"type": "string", "example": "sev1"},
                "opened_at": INSTANT,
                "resolved_at": NULLABLE_INSTANT,
                "release": {
                    "type": ["string", "null"],
                    "example": "checkout@2.4.0",
                    "description": "The release at fault: one of the incident's service.",
                },
                "key": {
                    "type": ["string", "null"],
                    "description": "Your id for the incident: posting it again updates it; "
                    "a resolved_at or release the new post leaves out keeps its value.",
                },
            },
        },
        "IncidentRecorded": {
            "allOf": [
                ref("Incident"),
                {"type": "object", "properties": {"id": {"type": ["string", "null"]}}},
            ]
        },
        "Metric": metric,
        "MetricsReport": {
            "type": "object",
            "properties": {
                "window": {"type": "object"},
                "overall": metric_set,
                "by_service": {"type": "object", "additionalProperties": metric_set},
                "daily": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


def paths() -> dict[str, Any]:
    release = {
        "type": ["object", "null"],
        "description": "The declared release it moved, if any",
        "properties": {"name": {"type": "string"}, "state": {"type": "string"}},
    }
    notes = {"type": "array", "items": {"type": "string"}}
    deployed = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "release": release, "notes": notes},
    }
    incident = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "incident": ref("IncidentRecorded"),
        },
    }
    return {
        "/deployments": {
            "post": {
                "summary": "Record a deployment; a declared release moves along its lifecycle",
                "operationId": "recordDeployment",
                "requestBody": body("Deployment"),
                "responses": {
                    "201": json_content(deployed, "Recorded"),
                    "200": json_content(
                        deployed, "The same deployment again: updated, or unchanged"
                    ),
                    **errors(400, 401, 403),
                },
            }
        },
        "/incidents": {
            "post": {
                "summary": "Record an incident; the service's deployments are posted in chat",
                "operationId": "recordIncident",
                "requestBody": body("Incident"),
                "responses": {
                    "201": json_content(incident, "Recorded"),
                    "200": json_content(
                        incident, "The incident with this key again: updated, or unchanged"
                    ),
                    **errors(400, 401, 403),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "DORA and release metrics with numerators and denominators",
                "operationId": "metrics",
                "parameters": [
                    {"name": "service", "in": "query", "schema": {"type": "string"}},
                    {"name": "environment", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "days",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 366},
                    },
                ],
                "responses": {
                    "200": json_content({"$ref": "#/components/schemas/MetricsReport"}, "Metrics"),
                    **errors(400, 401),
                },
            }
        },
    }
