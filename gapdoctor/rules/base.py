"""What every rule is: a cause id, the record fields it needs, and a weighing of evidence.

A rule subclass implements :meth:`Rule.weigh`, returning a :class:`Weighing` — the
evidence it measured (each with a log-odds weight, negative when it argues against the
cause) and the facts its template needs. The base class turns that into a
:class:`~gapdoctor.diagnosis.Finding` with a score in [0, 1] and texts from
``gapdoctor/report_templates/causes/<cause>.toml``.

Example:
    >>> class Always(Rule):
    ...     cause = "overfitting"
    ...     def weigh(self, run, ctx):
    ...         w = Weighing(prior=-1.0)
    ...         w.add("gap", 0.3, "> 0.1", 3.0)
    ...         return w
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gapdoctor.diagnosis import REPORT_THRESHOLD, Evidence, Finding, Fix
from gapdoctor.record.schema import RunRecord
from gapdoctor.templates import fill, load_template

# Rule-based evidence from one run never warrants certainty: scores stop short of 1 so a
# report never reads "1.00" (scaling, not clipping, keeps the ranking free of ties).
MAX_SCORE = 0.97


@dataclass
class Weighing:
    """Evidence gathered by a rule, combined on the log-odds scale.

    ``prior`` is the log-odds before any evidence (how common the cause is among stalled
    runs); each ``add`` shifts it by ``weight``. The score is the logistic of the sum, so
    independent pieces of evidence add up and counter-evidence subtracts.
    """

    prior: float = -2.0
    evidence: list[Evidence] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    variant: str = "default"
    cap: float = 1.0

    def add(self, name: str, value: Any, comparison: str, weight: float) -> None:
        """Record a measurement; ``weight`` > 0 argues for the cause, < 0 against it."""
        if weight == 0:
            return
        self.evidence.append(Evidence(name=name, value=value, comparison=comparison,
                                      supports=weight > 0, weight=weight))

    def note(self, name: str, value: Any, comparison: str) -> None:
        """Record a measurement shown to the user that does not move the score."""
        self.evidence.append(Evidence(name=name, value=value, comparison=comparison,
                                      supports=True, weight=0.0))

    @property
    def score(self) -> float:
        """Logistic of prior + evidence, scaled to at most ``MAX_SCORE`` and ``cap``."""
        logit = self.prior + sum(e.weight for e in self.evidence)
        return min(self.cap, MAX_SCORE / (1.0 + math.exp(-max(-30.0, min(30.0, logit)))))


class RuleSkipped(Exception):
    """Raised inside ``weigh`` when the record lacks what the rule needs after all."""


class Rule:
    """Base class of every rule. Subclasses set ``cause`` and ``requires`` and implement weigh.

    ``requires`` names record fields (see :meth:`RunRecord.has`) that must all be present;
    ``requires_any`` lists alternatives of which at least one must be present.
    """

    cause: str = ""
    requires: tuple[str, ...] = ()
    requires_any: tuple[str, ...] = ()

    def missing(self, run: RunRecord) -> str | None:
        """Why this rule cannot run on ``run``, or None when it can."""
        absent = [name for name in self.requires if not run.has(name)]
        if absent:
            return "the record has no " + ", ".join(absent)
        if self.requires_any and not any(run.has(n) for n in self.requires_any):
            return "the record has none of " + ", ".join(self.requires_any)
        return None

    def weigh(self, run: RunRecord, ctx: Any) -> Weighing:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, run: RunRecord, ctx: Any) -> Finding:
        """Weigh the evidence and render the finding from this cause's template."""
        weighing = self.weigh(run, ctx)
        template = load_template(self.cause)
        facts = dict(weighing.facts)
        summary = template.get("summary", "")
        if isinstance(summary, dict):
            # below the reporting threshold, say so instead of telling the cause's story
            variant = "unlikely" if weighing.score < REPORT_THRESHOLD else weighing.variant
            summary = summary.get(variant) or summary.get("default", "")
        fixes = [Fix(title=fill(f.get("title", ""), facts), why=fill(f.get("why", ""), facts),
                     code=fill(f.get("code", ""), facts, unknown=None).strip())
                 for f in template.get("fixes", [])
                 if not f.get("when") or f.get("when") in facts.get("fix_tags", ())]
        confirm = [fill(c, facts) for c in template.get("confirm", [])]
        return Finding(cause=self.cause, score=weighing.score, summary=fill(summary, facts),
                       evidence=weighing.evidence, fixes=fixes, confirm=confirm,
                       title=template.get("title", self.cause), details=facts)


def ramp(value: float, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between; 0 for NaN.

    Evidence strength grows smoothly with a measurement instead of jumping at a cut-off.

    Example:
        >>> ramp(0.1, 0.0, 0.2), ramp(float("nan"), 0, 1)
        (0.5, 0.0)
    """
    if value is None or not math.isfinite(value):
        return 0.0
    if hi == lo:
        return float(value >= hi)
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))


def finite(value: float | None) -> bool:
    """True for a real, finite number."""
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)
