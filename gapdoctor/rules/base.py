"""What every rule is: a cause id, the record fields it needs, and a weighing of evidence.

A rule subclass implements :meth:`Rule.weigh`, returning a :class:`Weighing` — the
evidence it measured (each with a log-odds weight, negative when it argues against the
cause) and the facts its template needs. The base class turns that into a
:class:`~gapdoctor.diagnosis.Finding` with a score in [0, 1] and texts from
``gapdoctor/report_templates/causes/<cause>.toml``.

Evidence is declared once per rule module as a :class:`~gapdoctor.rules.evidence.Ramp`
and weighed with :meth:`Weighing.use`; the printed comparison is generated from the same
numbers that set the weight.

Example:
    >>> GAP = Ramp("overfitting.gap", "train-minus-validation gap", 0.03, 0.15, 2.5, "memorisation")
    >>> w = Weighing(prior=-1.0)
    >>> w.use(GAP, 0.09)
    0.5
    >>> round(w.score, 3), w.evidence[0].comparison
    (0.545, 'memorisation — for: none at 0.03, full at 0.15 (+2.5)')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from gapdoctor.analysis.ramps import ramp  # noqa: F401  (re-exported: rules read it from here)
from gapdoctor.diagnosis import CONTENTION, REPORT_THRESHOLD, Evidence, Finding, Fix, score_text
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.calibration import MAX_SCORE, calibrated, fitted_prior, fitted_weight
from gapdoctor.rules.evidence import Ramp
from gapdoctor.templates import fill, load_template


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

    def use(self, spec: Ramp, value: float | None, shown: Any = None, gate: float = 1.0,
            gate_reason: str = "", name: str | None = None) -> float:
        """Weigh ``value`` by its declaration; returns the strength in [0, 1].

        ``gate`` in [0, 1] scales the evidence when it only counts under a condition the
        rule measured (``gate_reason`` says which, and is printed with it). ``shown`` is
        the value as the user reads it (defaults to ``value`` rounded); ``name`` overrides
        the declared name when it must include a measured detail (a layer's name).
        """
        spec = replace(spec, weight=fitted_weight(spec.key, spec.weight))
        strength = spec.strength(value)
        weight = spec.weight * strength * gate
        if weight == 0:
            return strength
        comparison = spec.comparison() + (f"; counted at {gate:.0%}: {gate_reason}"
                                          if gate < 1 else "")
        if spec.reason:
            comparison = f"{spec.reason} — {comparison}"
        self.evidence.append(Evidence(
            name=name or spec.name, value=shown if shown is not None else _rounded(value),
            comparison=comparison, supports=weight > 0, weight=weight,
            rule={"key": spec.key, "lo": spec.lo, "hi": spec.hi, "weight": spec.weight,
                  "log": spec.log, "gate": gate, "measured": value}))
        return strength

    def note(self, name: str, value: Any, comparison: str) -> None:
        """Record a measurement shown to the user that does not move the score."""
        self.evidence.append(Evidence(name=name, value=value, comparison=comparison,
                                      supports=True, weight=0.0))

    @property
    def logit(self) -> float:
        """Prior plus every piece of evidence, on the log-odds scale."""
        return self.prior + sum(e.weight for e in self.evidence)

    @property
    def score(self) -> float:
        """Logistic of :attr:`logit`, uncalibrated, scaled to at most ``MAX_SCORE`` and ``cap``."""
        return min(self.cap, MAX_SCORE / (1.0 + math.exp(-max(-30.0, min(30.0, self.logit)))))


def _rounded(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, (int, float)) and math.isfinite(value) else value


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

    def assess(self, run: RunRecord, ctx: Any) -> Weighing:
        """Weigh the evidence, with the prior in force (declared or refitted)."""
        weighing = self.weigh(run, ctx)
        weighing.prior = fitted_prior(self.cause, weighing.prior)
        return weighing

    def evaluate(self, run: RunRecord, ctx: Any) -> Finding:
        """Weigh the evidence and render the finding from this cause's template."""
        weighing = self.assess(run, ctx)
        return self.render(run, ctx, weighing, calibrated(self.cause, weighing.logit, weighing.cap))

    def render(self, run: RunRecord, ctx: Any, weighing: Weighing, score: float) -> Finding:
        """The finding of a weighing at ``score``, its texts from this cause's template."""
        from gapdoctor.fixkind import model_kind
        from gapdoctor.templates import render_fixes

        template = load_template(self.cause)
        curves = run.curves.columns if hasattr(run.curves, "columns") else ()
        kind = model_kind(run.meta, [str(c) for c in curves])
        # code facts fill snippets (loss class, label suffix); the rule's own facts win
        facts = kind.code_facts() | {"n_epochs": run.n_epochs or None} | dict(weighing.facts)
        if "lagging" in facts and "lagging_ids" not in facts:
            names = [str(n) for n in run.meta.get("class_names") or []]
            ids = [names.index(n) if n in names else int(n) if n.isdigit() else None
                   for n in str(facts["lagging"]).split(", ")]
            if ids and None not in ids:
                facts["lagging_ids"] = ", ".join(map(str, ids))
        summary = template.get("summary", "")
        if isinstance(summary, dict):
            # out of contention, say so instead of telling the cause's story; in contention
            # but below the reporting threshold, tell it as a possibility
            threshold = getattr(ctx, "threshold", REPORT_THRESHOLD)
            variant = "unlikely" if score < min(CONTENTION, threshold) else weighing.variant
            # out of contention with some evidence for it: "unlikely_<story>" says what it saw
            texts = [summary.get(f"unlikely_{weighing.variant}") if variant == "unlikely" else None,
                     summary.get(variant), summary.get("default")]
            summary = next((t for t in (fill(x, facts) for x in texts if x) if t), "")
            # a fact those texts need is missing (a short run): the cause's story instead,
            # which reads as a claim, so it is told at its score like a possibility
            story = not summary
            summary = summary or fill(template.get("story", ""), facts)
            if score < threshold and summary and (variant != "unlikely" or story):
                how = "Unlikely" if variant == "unlikely" else "Possible, not established"
                summary = (f"{how} (score {score_text(score)}, below the reporting "
                           f"threshold {threshold:g}): {summary}")
        else:
            summary = fill(summary, facts)
        fixes = [Fix(title=f["title"], why=f["why"], code=f["code"])
                 for f in render_fixes(template, facts, kind.tags)]
        confirm = [c for c in (fill(c, facts) for c in template.get("confirm", [])) if c]
        return Finding(cause=self.cause, score=score,
                       summary=summary or fill(template.get("story", ""), facts),
                       evidence=weighing.evidence, fixes=fixes, confirm=confirm,
                       title=template.get("title", self.cause),
                       details={**weighing.facts, "logit": weighing.logit, "cap": weighing.cap})


class Tags(list):
    """The fix tags raised, each with the weight of the evidence that raised it."""

    def __init__(self) -> None:
        super().__init__()
        self.weight: dict[str, float] = {}

    def add(self, w: Weighing, tag: str) -> None:
        """Raise ``tag`` for the evidence ``w`` counted last."""
        if tag not in self:
            self.append(tag)
        last = w.evidence[-1].weight if w.evidence else 0.0
        self.weight[tag] = max(self.weight.get(tag, 0.0), last)

    def leading(self, first: tuple[str, ...] = ()) -> str:
        """The story to tell: a tag of ``first`` when raised (a cause that explains everything
        downstream of it), else that of the strongest evidence, else "default"."""
        for tag in first:
            if tag in self:
                return tag
        return max(self, key=lambda t: self.weight[t]) if self else "default"


def use_disagreement(w: Weighing, spec: Ramp, ctx: Any) -> float:
    """Count ``spec`` on the reverse reference's disagreement with the training labels
    (:attr:`Context.label_disagreement`), gated by how far it can be trusted; returns the
    trusted strength in [0, 1]."""
    excess, z, trust, why = ctx.label_disagreement
    if not finite(z):
        return 0.0
    return _use_trusted(w, spec, z, trust, why,
                        ctx.features.reference_read(f"{excess:.3f} ({z:.1f} s.e.)"))


def use_split_disagreement(w: Weighing, spec: Ramp, ctx: Any) -> float:
    """Count ``spec`` on the cross-split neighbour agreement's shortfall
    (:attr:`Context.split_disagreement`), gated like the reverse reference."""
    return _use_read(w, spec, ctx.split_disagreement)


def use_label_consistency(w: Weighing, spec: Ramp, ctx: Any) -> float:
    """Count ``spec`` on how much better validation's labels are learned within validation
    than training's within training (:attr:`Context.label_consistency`), gated by its trust."""
    return _use_read(w, spec, ctx.label_consistency)


def use_purity_lead(w: Weighing, spec: Ramp, ctx: Any) -> float:
    """Count ``spec`` on validation's within-split neighbour agreement over training's
    (:attr:`Context.purity_lead`), gated like the cross-split read."""
    return _use_read(w, spec, ctx.purity_lead)


def _use_read(w: Weighing, spec: Ramp, read: tuple[float, float, float, str]) -> float:
    """Count ``spec`` on a ``(value, value in standard errors, trust, why)`` read."""
    value, z, trust, why = read
    if not finite(z):
        return 0.0
    return _use_trusted(w, spec, z, trust, why, f"{value:.3f} ({z:.1f} s.e.)")


def _use_trusted(w: Weighing, spec: Ramp, z: float, trust: float, why: str, shown: str) -> float:
    return w.use(spec, z, shown=shown, gate=trust, gate_reason=why) * trust


def finite(value: float | None) -> bool:
    """True for a real, finite number."""
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)
