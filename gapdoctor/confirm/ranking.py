"""How experiment outcomes update a diagnosis: each outcome is one more piece of evidence on
the log-odds scale, so the ranking and the verdict follow from the same arithmetic as the
rules'.

Example:
    >>> from gapdoctor.diagnosis import Diagnosis, Finding
    >>> d = Diagnosis(findings=[Finding("overfitting", 0.8, ""), Finding("label_noise", 0.6, "")])
    >>> c = Confirmation("label_noise", "drop_suspects", "confirmed", specific=True)
    >>> apply_confirmations(d, [c]).verdict
    'label_noise'
"""

from __future__ import annotations

import math

from gapdoctor.confirm.outcome import Confirmation
from gapdoctor.diagnosis import Diagnosis
from gapdoctor.rules.calibration import MAX_SCORE

# Log-odds an outcome adds. A *specific* experiment (removing flagged samples beats removing
# as many random ones; re-aligned labels fix the metric) is something few other causes
# produce: x20 odds. A *generic* remedy (more regularisation, another learning rate, class
# weights) helps under several causes: x4.5 odds. A refuted prediction counts x7 against,
# whatever its kind: the cause predicted an effect that reliably did not come. A refuted
# *partial* experiment moves nothing: it ruled out one way the cause happens, not the cause.
# A confirmed *premise* (the inputs of the two splits differ) stops counting once a causal
# test of the same cause was refuted (mixing the splits did not close the gap): the
# condition holds, but it does not explain the gap.
CONFIRMED_SPECIFIC = 3.0
CONFIRMED_GENERIC = 1.5
REFUTED = -2.0
# A generic remedy that a specifically confirmed cause predicts as well is explained by it
# and counts for nothing: strong L2 and restore-best early stopping also help when training
# labels are wrong (they stop the model before it fits them), so once dropping the flagged
# samples is confirmed, regularisation helping is no evidence for overfitting (fresh5: a
# run with 28 % wrong labels where both were confirmed stayed "overfitting").
EXPLAINS: dict[str, set[tuple[str, str]]] = {
    "label_noise": {("overfitting", "regularise_and_stop_early")},
}


def _logit(score: float) -> float:
    p = min(max(score / MAX_SCORE, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _score(logit: float) -> float:
    return MAX_SCORE / (1.0 + math.exp(-logit))


def shift_for(confirmation: Confirmation) -> float:
    """The log-odds an outcome adds to its cause."""
    if confirmation.details.get("explained_by"):
        return 0.0
    if confirmation.outcome == "confirmed":
        return CONFIRMED_SPECIFIC if confirmation.specific else CONFIRMED_GENERIC
    if confirmation.outcome == "refuted":
        return 0.0 if confirmation.partial else REFUTED
    return 0.0


def apply_confirmations(diagnosis: Diagnosis, confirmations: list[Confirmation]) -> Diagnosis:
    """Attach every outcome to its finding, move the score by its log-odds and re-rank.

    The score before the experiments stays in ``details["score_before_confirmation"]``.
    Several experiments on one cause add up. The diagnosis is updated in place and returned.
    """
    explained = {(cause, experiment): c.cause for c in confirmations
                 if c.outcome == "confirmed" and c.specific
                 for cause, experiment in EXPLAINS.get(c.cause, ())}
    by_cause: dict[str, list[Confirmation]] = {}
    for c in confirmations:
        by = explained.get((c.cause, c.experiment))
        if by is not None and c.outcome == "confirmed" and not c.details.get("explained_by"):
            c.details["explained_by"] = by
            c.text += (f" Counted for nothing: {by.replace('_', ' ')}, confirmed by its own "
                       "test, predicts this effect as well.")
        by_cause.setdefault(c.cause, []).append(c)
    for finding in diagnosis.findings:
        tested = by_cause.get(finding.cause)
        if not tested:
            continue
        finding.details.setdefault("score_before_confirmation", round(finding.score, 4))
        before = float(finding.details["score_before_confirmation"])
        causal_refuted = any(c.outcome == "refuted" and not (c.partial or c.premise) for c in tested)
        shift = sum(0.0 if c.premise and causal_refuted else shift_for(c) for c in tested)
        finding.score = round(_score(_logit(before) + shift), 4) if shift else before
        finding.confirmation = [c.to_dict() for c in tested]
    diagnosis.findings.sort(key=lambda f: f.score, reverse=True)
    diagnosis.confirmations = [c.to_dict() for c in confirmations]
    return diagnosis
