"""The OpenAPI component schemas of releases and their sub-resources (used by openapi.py)."""

from __future__ import annotations

from typing import Any

NULLABLE = {"type": ["string", "null"]}
NULLABLE_INSTANT = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": {"type": "string"}}
PASS = {"pass": {"type": "boolean"}}  # `pass` is a Python keyword: spread it into _object
WORD = {"type": "string", "pattern": "^\\S+$", "description": "one word, without spaces"}
STATES = ["planned", "approved", "deploying", "deployed", "verified", "rolled_back", "cancelled"]
CLASSES = ["standard", "normal", "emergency"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def schemas() -> dict[str, Any]:
    return {
        "Error": _object(["error"], error={"type": "string"}),
        "Release": _release(),
        "ReleaseDetail": {"allOf": [_ref("Release"), _release_detail()]},
        "SignOff": _signoff(),
        "Gate": _object(
            ["gate", "pass"], gate={"type": "string"}, reason={"type": "string"}, **PASS
        ),
        "GateVerdict": _gate_verdict(),
        "Declare": _declare(),
        "Signals": _signals(),
        "NewRisk": _object(
            ["severity", "description"],
            severity={"type": "string", "enum": ["low", "medium", "high", "critical"]},
            description={"type": "string", "description": "one line of text"},
        ),
        "Risk": _risk(),
        "Changes": _object(
            ["changes"],
            changes={"type": "array", "minItems": 1, "maxItems": 1000, "items": _ref("Change")},
        ),
        "Change": _change(),
        "ChangesAdded": _object(["added"], added={"type": "integer"}, notes=STRINGS),
        "AuditEvent": _audit_event(),
    }


def _release() -> dict[str, Any]:
    return _object(
        ["name", "state", "class"],
        name={"type": "string"},
        service={"type": "string"},
        version={"type": "string"},
        state={"type": "string", "enum": STATES},
        **{"class": {"type": "string", "enum": CLASSES}},
        scheduled_at=NULLABLE_INSTANT,
        train=NULLABLE,
        env=NULLABLE,
        owner={"type": "string"},
        created_at={"type": "string", "format": "date-time"},
        updated_at={"type": "string", "format": "date-time"},
        review_due_at=NULLABLE_INSTANT,
        reviewed_by=NULLABLE,
    )


def _release_detail() -> dict[str, Any]:
    return _object(
        ["signoffs", "gates", "missing_signoffs"],
        signoffs={"type": "array", "items": _ref("SignOff")},
        readiness_index={"type": "integer"},
        gates={"type": "array", "items": _ref("Gate")},
        missing_signoffs=STRINGS,
    )


def _signoff() -> dict[str, Any]:
    return _object(
        ["role", "by", "verdict"],
        role={"type": "string"},
        by={"type": "string", "example": "slack:U0QA00001"},
        name={"type": "string"},
        verdict={"type": "string", "enum": ["approved", "rejected"]},
        at={"type": "string", "format": "date-time"},
        note=NULLABLE,
        stale={"type": "boolean"},
    )


def _gate_verdict() -> dict[str, Any]:
    gates = {"type": "array", "items": _ref("Gate")}
    verdict = _object(
        ["release", "pass", "state", "reasons", "skipped"],
        release={"type": "string"},
        **PASS,
        state={"type": "string", "enum": STATES},
        readiness_index={"type": "integer"},
        gates=gates,
        failing=gates,
        missing_signoffs=STRINGS,
        reasons={
            **STRINGS,
            "description": "Why it fails, in the words `deploy` refuses with; empty on a pass",
            "example": ["gate min_coverage fails: coverage 76.0 < 80", "freeze F1 is in force"],
        },
        skipped={
            **STRINGS,
            "description": "What an emergency change being deployed goes past",
        },
    )
    verdict["description"] = "The CI gate's answer (the rule: GET /releases/{release}/gate)."
    return verdict


def _declare() -> dict[str, Any]:
    return _object(
        ["release"],
        release={"type": "string", "example": "checkout@2.4.0"},
        at={"type": "string", "format": "date-time"},
        **{"class": {"type": "string", "enum": CLASSES}},
        train={**WORD, "example": "public"},
        env={**WORD, "example": "prod"},
        owner={"type": "string", "example": "slack:U0123ABCD"},
    )


def _signals() -> dict[str, Any]:
    value = {"oneOf": [{"type": "number"}, {"type": "string", "pattern": "^[^\\s=]+$"}]}
    signals = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 100,
        "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64},
        "additionalProperties": value,
        "example": {"coverage": 82.5, "open_blockers": 0},
    }
    return _object(["signals"], signals=signals)


def _risk() -> dict[str, Any]:
    return _object(
        ["id", "release", "severity", "description"],
        id={"type": "string", "example": "R7"},
        release={**NULLABLE, "description": "where it lives now; null while deferred"},
        origin={"type": "string", "description": "the release it was raised on"},
        severity={"type": "string", "enum": ["low", "medium", "high", "critical"]},
        description={"type": "string"},
        raised_by={"type": "string"},
        raised_at={"type": "string", "format": "date-time"},
    )


def _change() -> dict[str, Any]:
    line = {"type": "string", "description": "one line of text"}
    return _object(
        ["title", "kind"],
        title=line,
        kind={**WORD, "example": "feature"},
        squad=line,
        link={**WORD, "format": "uri"},
        author=line,
        merged_at={"type": "string", "format": "date-time"},
    )


def _audit_event() -> dict[str, Any]:
    return _object(
        ["seq", "at", "action", "hash"],
        seq={"type": "integer"},
        at={"type": "string", "format": "date-time"},
        action={"type": "string"},
        actor={"type": "string"},
        surface={"type": "string"},
        release=NULLABLE,
        before={"type": ["object", "null"]},
        after={"type": ["object", "null"]},
        detail={"type": "object"},
        prev_hash={"type": "string"},
        hash={"type": "string"},
    )
