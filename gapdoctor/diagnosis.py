"""What the engine returns: findings with evidence and fixes, gathered in a Diagnosis.

Example:
    >>> f = Finding(cause="overfitting", score=0.8, summary="The gap widens.")
    >>> d = Diagnosis(findings=[f], run_name="r")
    >>> d.verdict, d.to_dict()["schema"]
    ('overfitting', 'gapdoctor.diagnosis/1')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gapdoctor.jsonsafe import json_safe

DIAGNOSIS_SCHEMA = "gapdoctor.diagnosis/1"

# A finding is reported (and can be the verdict) from this score on: below it the evidence
# is too thin to bother a user with; 0.5 is "more likely than not" on our calibrated scale.
REPORT_THRESHOLD = 0.5

CAUSES: tuple[str, ...] = (
    "overfitting", "label_noise", "metric_mismatch", "distribution_shift",
    "subgroup_underfitting", "pipeline_bug", "small_validation_set", "optimization",
    "metric_saturation",
)




@dataclass
class Evidence:
    """One measurement that counted: its value and what made it count.

    ``supports`` is True when it argues for the cause, False when it argues against.
    """

    name: str
    value: Any
    comparison: str
    supports: bool = True
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": json_safe(self.value), "comparison": self.comparison,
                "supports": bool(self.supports), "weight": round(float(self.weight), 3)}


@dataclass
class Fix:
    """A concrete thing to try: what, why it helps, and a short Keras snippet."""

    title: str
    why: str
    code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "why": self.why, "code": self.code}


@dataclass
class Finding:
    """A rule's verdict on one cause: how strongly the evidence supports it and why."""

    cause: str
    score: float
    summary: str
    evidence: list[Evidence] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)
    title: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        score = float(self.score) if self.score is not None else 0.0
        self.score = 0.0 if not math.isfinite(score) else min(1.0, max(0.0, score))

    @property
    def reported(self) -> bool:
        return self.score >= REPORT_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "title": self.title, "score": round(self.score, 4),
                "summary": self.summary, "evidence": [e.to_dict() for e in self.evidence],
                "fixes": [f.to_dict() for f in self.fixes], "confirm": list(self.confirm),
                "details": json_safe(self.details)}


@dataclass
class Diagnosis:
    """The ranked findings for one run, plus what could not be checked.

    ``findings`` holds every rule that ran, highest score first; ``verdict`` is the top
    cause when it reaches ``REPORT_THRESHOLD``, else ``"healthy"``.
    """

    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    run_name: str = "run"
    source: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    threshold: float = REPORT_THRESHOLD

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=lambda f: f.score, reverse=True)

    @property
    def verdict(self) -> str:
        if self.findings and self.findings[0].score >= self.threshold:
            return self.findings[0].cause
        return "healthy"

    @property
    def reported(self) -> list[Finding]:
        """Findings at or above the reporting threshold."""
        return [f for f in self.findings if f.score >= self.threshold]

    def score_of(self, cause: str) -> float:
        return next((f.score for f in self.findings if f.cause == cause), 0.0)

    def finding(self, cause: str) -> Finding | None:
        return next((f for f in self.findings if f.cause == cause), None)

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"schema": DIAGNOSIS_SCHEMA, "run_name": self.run_name, "source": self.source,
                "verdict": self.verdict, "threshold": self.threshold,
                "findings": [f.to_dict() for f in self.findings],
                "skipped": list(self.skipped), "errors": list(self.errors),
                "summary": self.summary})

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
