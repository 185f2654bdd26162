"""``diagnose(run)``: run every registered rule on a record and rank the findings.

A rule whose required fields are absent is skipped with the reason; a rule that raises is
reported in ``Diagnosis.errors`` and the others go on.

Example:
    >>> from gapdoctor import load_run, diagnose          # doctest: +SKIP
    >>> d = diagnose(load_run("gapdoctor-runs/run-1"))    # doctest: +SKIP
    >>> d.verdict, d.findings[0].score                    # doctest: +SKIP
    ('label_noise', 0.91)
"""

from __future__ import annotations

import os
from typing import Any

from gapdoctor.analysis.context import Context
from gapdoctor.diagnosis import REPORT_THRESHOLD, Diagnosis
from gapdoctor.errors import GapDoctorError
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules import RULES
from gapdoctor.rules.base import Rule, RuleSkipped
from gapdoctor.rules.calibration import joint_scores

_RULE_ERRORS = (GapDoctorError, ArithmeticError, LookupError, ValueError, TypeError,
                AttributeError, RuntimeError)


def diagnose(run: RunRecord | str | os.PathLike[str], rules: list[Rule] | None = None,
             threshold: float = REPORT_THRESHOLD) -> Diagnosis:
    """Score every candidate cause of the train/validation gap for one run.

    Args:
        run: a ``RunRecord`` or a path that ``load_run`` reads.
        rules: the rules to apply. Defaults to every registered rule.
        threshold: the score from which a finding is reported. Defaults to 0.5.
    """
    if not isinstance(run, RunRecord):
        from gapdoctor.importers import load_run

        run = load_run(run)
    if run.n_epochs == 0:
        # nothing to weigh: say so rather than call the run healthy
        rules = rules if rules is not None else [cls() for cls in RULES]
        return Diagnosis(skipped=[{"cause": r.cause, "reason": "no complete epoch"} for r in rules],
                         run_name=run.name, source=str(run.meta.get("source", "")),
                         summary={"epochs": 0}, threshold=threshold, status="no_complete_epoch",
                         status_reason="the record holds no complete epoch: training stopped "
                                       "(or was killed) before the first epoch ended")
    ctx = Context(run, threshold)
    weighed, findings, skipped, errors = [], [], [], []
    for rule in rules if rules is not None else [cls() for cls in RULES]:
        reason = rule.missing(run)
        if reason is None:
            try:
                if type(rule).evaluate is not Rule.evaluate:
                    findings.append(rule.evaluate(run, ctx))  # a rule that scores itself
                else:
                    weighed.append((rule, rule.assess(run, ctx)))
                continue
            except RuleSkipped as exc:
                reason = str(exc)
            except _RULE_ERRORS as exc:
                errors.append({"cause": rule.cause, "error": f"{type(exc).__name__}: {exc}"})
                continue
        skipped.append({"cause": rule.cause, "reason": reason})
    # scores after every rule has weighed: a calibration may read the causes as competitors
    scores = joint_scores({rule.cause: (w.logit, w.cap) for rule, w in weighed})
    for rule, weighing in weighed:
        try:
            findings.append(rule.render(run, ctx, weighing, scores[rule.cause]))
        except _RULE_ERRORS as exc:
            errors.append({"cause": rule.cause, "error": f"{type(exc).__name__}: {exc}"})
    summary: dict[str, Any] = ctx.run_summary()
    if ctx.established_gap is not None:  # here, not in run_summary: its interval needs scipy,
        summary["gap"] = ctx.established_gap  # which the report's own summary must not load
    premise = ctx.premise
    status, reason = "ok", ""
    if premise.diverged:
        status, reason = "diverged", "; ".join(premise.reasons)
    elif premise.never_learned >= 0.5:
        status, reason = "not_learning", "; ".join(premise.reasons)
    return Diagnosis(findings=findings, skipped=skipped, errors=errors, run_name=run.name,
                     source=str(run.meta.get("source", "")), summary=summary,
                     threshold=threshold, status=status, status_reason=reason)
