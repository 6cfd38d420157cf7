"""What enrichment adds to an alert group (or alert), and the JSON schema the model must answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("critical", "warning", "info")

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "summary": {"type": "string", "description": "One or two sentences: what is wrong and where."},
        "suggested_action": {
            "type": "string",
            "description": "The first thing an on-call engineer should do.",
        },
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["severity", "summary", "suggested_action", "confidence"],
    "additionalProperties": False,
}


class InvalidAnswer(ValueError):
    """The model's output is not an answer of ANSWER_SCHEMA (asked again once, then fallback)."""


@dataclass(frozen=True)
class Enrichment:
    severity: str
    summary: str
    suggested_action: str
    confidence: float
    provider: str
    model: str
    cached: bool = False
    source: str = "llm"
    """``llm``, or ``fallback`` when the rule-based classifier answered."""
    error: str = ""
    """Why the provider did not answer (fallback only): timeout, circuit open, budget..."""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.error:
            del out["error"]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Enrichment:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def parse_answer(data: Any, provider: str, model: str) -> Enrichment:
    """A provider's JSON answer, checked field by field."""
    if not isinstance(data, dict):
        raise InvalidAnswer("the answer is not a JSON object")
    missing = [k for k in ANSWER_SCHEMA["required"] if k not in data]
    if missing:
        raise InvalidAnswer(f"the answer lacks {', '.join(missing)}")
    severity = str(data["severity"]).lower()
    if severity not in SEVERITIES:
        raise InvalidAnswer(f"severity {data['severity']!r} is not one of {', '.join(SEVERITIES)}")
    for key in ("summary", "suggested_action"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise InvalidAnswer(f"{key} must be a non-empty string")
    confidence = data["confidence"]
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise InvalidAnswer("confidence must be a number from 0 to 1")
    return Enrichment(
        severity,
        data["summary"].strip(),
        data["suggested_action"].strip(),
        float(confidence),
        provider,
        model,
    )
