"""The OpenAPI component schemas of releases and their sub-resources, and the pieces every part
of the document is built from (openapi.py, openapi_observe.py)."""

from __future__ import annotations

from typing import Any

from adapters.web.limits import MAX_SIGNAL_TEXT, MAX_SIGNALS
from bot.domain import ChangeClass, State
from bot.handlers.notes import MAX_ITEMS_PER_CALL
from bot.parser import SIGNAL_KEY
from bot.risks import Severity

INSTANT = {"type": "string", "format": "date-time"}
NULLABLE = {"type": ["string", "null"]}
NULLABLE_INSTANT = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": {"type": "string"}}
PASS = {"pass": {"type": "boolean"}}  # `pass` is a Python keyword: spread it into _object
WORD = {"type": "string", "pattern": "^\\S+$", "description": "one word, without spaces"}
STATES = [s.value for s in State]
CLASSES = [c.value for c in ChangeClass]
SEVERITIES = {"type": "string", "enum": [s.value for s in Severity]}
ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_WORDS = {
    400: "Bad input",
    401: "Missing or wrong bearer token",
    403: "Writes are off",
    404: "No such release",
    409: "Refused by the rules",
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


def errors(*codes: int) -> dict[str, Any]:
    return {str(code): json_content(ERROR, ERROR_WORDS[code]) for code in codes}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def schemas() -> dict[str, Any]:
    return {
        "Error": _object(["error"], error={"type": "string"}),
        "Release": _release(),
        "ReleaseDetail": {"allOf": [ref("Release"), _release_detail()]},
        "ReleaseDeclared": {
            "allOf": [
                ref("Release"),
                _object(
                    ["notes"],
                    notes={
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "What chat shows under the card: a clash with a nearby "
                        "release, a freeze it falls in, deferred risks it took over.",
                    },
                ),
            ]
        },
        "SignOff": _signoff(),
        "Gate": _object(
            ["gate", "pass"], gate={"type": "string"}, reason={"type": "string"}, **PASS
        ),
        "GateVerdict": _gate_verdict(),
        "Declare": _declare(),
        "Signals": _signals(),
        "NewRisk": _object(
            ["severity", "description"],
            severity=SEVERITIES,
            description={"type": "string", "description": "one line of text"},
        ),
        "Risk": _risk(),
        "Changes": _object(
            ["changes"],
            changes={**array_of("Change"), "minItems": 1, "maxItems": MAX_ITEMS_PER_CALL},
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
        created_at=INSTANT,
        updated_at=INSTANT,
        review_due_at=NULLABLE_INSTANT,
        reviewed_by=NULLABLE,
    )


def _release_detail() -> dict[str, Any]:
    return _object(
        ["signoffs", "gates", "missing_signoffs"],
        signoffs=array_of("SignOff"),
        readiness_index={"type": "integer"},
        gates=array_of("Gate"),
        missing_signoffs=STRINGS,
    )


def _signoff() -> dict[str, Any]:
    return _object(
        ["role", "by", "verdict"],
        role={"type": "string"},
        by={"type": "string", "example": "slack:U0QA00001"},
        name={"type": "string"},
        verdict={"type": "string", "enum": ["approved", "rejected"]},
        at=INSTANT,
        note=NULLABLE,
        stale={"type": "boolean"},
    )


def _gate_verdict() -> dict[str, Any]:
    gates = array_of("Gate")
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
        at=INSTANT,
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
        "maxProperties": MAX_SIGNALS,
        # JSON Schema patterns search; the parser matches the whole key.
        "propertyNames": {"pattern": f"^{SIGNAL_KEY.pattern}$", "maxLength": MAX_SIGNAL_TEXT},
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
        severity=SEVERITIES,
        description={"type": "string"},
        raised_by={"type": "string"},
        raised_at=INSTANT,
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
        merged_at=INSTANT,
    )


def _audit_event() -> dict[str, Any]:
    return _object(
        ["seq", "at", "action", "hash"],
        seq={"type": "integer"},
        at=INSTANT,
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
