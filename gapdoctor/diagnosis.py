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
# Below this score a cause is out of contention: the evidence argues against it. Between it
# and the threshold a cause is possible but not established, and is worded so.
CONTENTION = 0.2

CAUSES: tuple[str, ...] = (
    "overfitting", "label_noise", "metric_mismatch", "distribution_shift",
    "subgroup_underfitting", "pipeline_bug", "small_validation_set", "optimization",
    "metric_saturation",
)


def score_text(score: float) -> str:
    """A score in two decimals, rounded down: one under the reporting threshold never prints
    as the threshold (0.4996 reads 0.49, not 0.50).

    >>> score_text(0.4996), score_text(0.97), score_text(1.0)
    ('0.49', '0.97', '1.00')
    """
    if not math.isfinite(score):
        return "?"
    return f"{math.floor(score * 100 + 1e-9) / 100:.2f}"


@dataclass
class Evidence:
    """One measurement that counted: its value and what made it count.

    ``supports`` is True when it argues for the cause, False when it argues against.
    ``rule`` holds the declaration the weight came from (``key``, ``lo``, ``hi``, full
    ``weight``, ``log``, ``gate`` and the ``measured`` number), so the applied weight can be
    re-derived from what is printed; it is empty for context notes that weigh nothing.
    """

    name: str
    value: Any
    comparison: str
    supports: bool = True
    weight: float = 1.0
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.rule.get("key", ""))

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "value": json_safe(self.value), "comparison": self.comparison,
               "supports": bool(self.supports), "weight": round(float(self.weight), 3)}
        if self.rule:
            out["rule"] = json_safe(self.rule)
        return out


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
    # what the confirmation experiments measured for this cause (gapdoctor.confirm)
    confirmation: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        score = float(self.score) if self.score is not None else 0.0
        self.score = 0.0 if not math.isfinite(score) else min(1.0, max(0.0, score))

    threshold: float = REPORT_THRESHOLD

    @property
    def reported(self) -> bool:
        """At or above the reporting threshold of the diagnosis that holds it."""
        return self.score >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "title": self.title, "score": round(self.score, 4),
                "summary": self.summary, "evidence": [e.to_dict() for e in self.evidence],
                "fixes": [f.to_dict() for f in self.fixes], "confirm": list(self.confirm),
                "details": json_safe(self.details),
                **({"confirmation": json_safe(self.confirmation)} if self.confirmation else {})}


@dataclass
class Diagnosis:
    """The ranked findings for one run, plus what could not be checked.

    ``findings`` holds every rule that ran, highest score first; ``verdict`` is the top
    cause when it reaches ``threshold``, else ``"healthy"`` — or ``"inconclusive"`` when
    the record holds no complete epoch. ``status`` says whether training happened at all:
    ``"ok"``, ``"diverged"``, ``"not_learning"`` or ``"no_complete_epoch"``, with
    ``status_reason`` in words.
    """

    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    run_name: str = "run"
    source: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    threshold: float = REPORT_THRESHOLD
    status: str = "ok"
    status_reason: str = ""
    # every experiment run by gapdoctor.confirm, in the order run (empty: none was run)
    confirmations: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings = sorted(self.findings, key=lambda f: f.score, reverse=True)
        for finding in self.findings:
            finding.threshold = self.threshold

    @property
    def verdict(self) -> str:
        if self.status == "no_complete_epoch":
            return "inconclusive"
        if self.findings and self.findings[0].score >= self.threshold:
            return self.findings[0].cause
        return "healthy"

    @property
    def reported(self) -> list[Finding]:
        """Findings at or above the reporting threshold."""
        return [f for f in self.findings if f.score >= self.threshold]

    @property
    def close_call(self) -> dict[str, Any] | None:
        """The two leading causes when their scores are within noise of each other (and the
        second is reported too): both names, the difference, and what would tell them apart."""
        from gapdoctor.lookalikes import CLOSE, tell_apart

        if len(self.findings) < 2 or self.findings[1].score < self.threshold:
            return None
        first, second = self.findings[0], self.findings[1]
        if first.score - second.score >= CLOSE:
            return None
        confirm = {f.cause: f.confirm for f in (first, second)}
        return {"causes": [first.cause, second.cause],
                "difference": round(first.score - second.score, 4),
                "tell_apart": tell_apart(first.cause, second.cause, confirm,
                                         {**second.details, **first.details})}

    @property
    def unexplained_gap(self) -> dict[str, Any] | None:
        """When the verdict is healthy but training accuracy ends far above validation
        (``summary["gap"]``: 15 points or more, beyond validation's interval): the gap, the
        leading causes (all below the threshold) and what would tell the first two apart."""
        from gapdoctor.lookalikes import tell_apart

        gap = self.summary.get("gap")
        if self.verdict != "healthy" or self.status != "ok" or not gap or not self.findings:
            return None
        lead = self.findings[:2]
        if len(lead) == 2:
            check = tell_apart(lead[0].cause, lead[1].cause, {f.cause: f.confirm for f in lead},
                               {**lead[1].details, **lead[0].details})
        else:
            check = (lead[0].confirm or ["More recorded evidence would settle it."])[0]
        return {**gap, "candidates": [[f.cause, round(f.score, 4)] for f in lead],
                "tell_apart": check}

    @property
    def in_focus(self) -> list[Finding]:
        """The findings shown in full with their fixes: those reported, or, when none is but
        the gap is real (:attr:`unexplained_gap`), the two leading causes."""
        return self.reported or (self.findings[:2] if self.unexplained_gap is not None else [])

    def score_of(self, cause: str) -> float:
        return next((f.score for f in self.findings if f.cause == cause), 0.0)

    def finding(self, cause: str) -> Finding | None:
        return next((f for f in self.findings if f.cause == cause), None)

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"schema": DIAGNOSIS_SCHEMA, "run_name": self.run_name, "source": self.source,
                "verdict": self.verdict, "threshold": self.threshold,
                "status": self.status, "status_reason": self.status_reason,
                "close_call": self.close_call,
                "unexplained_gap": self.unexplained_gap,
                "findings": [f.to_dict() for f in self.findings],
                "skipped": list(self.skipped), "errors": list(self.errors),
                "summary": self.summary,
                **({"confirmations": self.confirmations} if self.confirmations else {})})

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        if path is not None:
            from gapdoctor.record.atomic import atomic_write_text

            atomic_write_text(path, text)  # complete or absent, never cut off
        return text
