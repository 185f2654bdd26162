"""How experiment outcomes update a diagnosis: each outcome is one more piece of evidence on
the log-odds scale, so the ranking and the verdict follow from the same arithmetic as the
rules'.

Example:
    >>> from gapdoctor.diagnosis import Diagnosis, Finding
    >>> d = Diagnosis(findings=[Finding("overfitting", 0.8, ""), Finding("label_noise", 0.6, "")])
    >>> c = Confirmation("label_noise", "drop_suspects", "confirmed", specific=True)
    >>> apply_confirmations(d, [c]).verdict
    'label_noise'

    Outcomes both of two look-alikes predict raise both, and keep their order:

    >>> d = Diagnosis(findings=[Finding("pipeline_bug", 0.6, ""), Finding("distribution_shift", 0.5, "")])
    >>> c = Confirmation("distribution_shift", "resplit_training", "confirmed")
    >>> [(f.cause, f.score) for f in apply_confirmations(d, [c]).findings]
    [('pipeline_bug', 0.8527), ('distribution_shift', 0.8018)]
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
# Confirmed outcomes another cause predicts just as well count for it too, so they move
# neither ahead of the other: a bug on the validation input path (a decode, a crop, a cast)
# leaves inputs a classifier tells apart, and mixing validation rows into training closes its
# gap as it closes a shift's (gaps.resplit says so). fresh12: a crop window off by the other
# instrument's index led as a pipeline bug and fell behind a shift on these two outcomes.
SHARED: dict[tuple[str, str], tuple[str, ...]] = {
    ("distribution_shift", "domain_classifier"): ("pipeline_bug",),
    ("distribution_shift", "resplit_training"): ("pipeline_bug",),
}


def _logit(score: float) -> float:
    p = min(max(score / MAX_SCORE, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _score(logit: float) -> float:
    return MAX_SCORE / (1.0 + math.exp(-logit))


def shift_for(confirmation: Confirmation) -> float:
    """The log-odds an outcome adds to its cause."""
    if confirmation.details.get("explained_by") or confirmation.restates:
        return 0.0
    if confirmation.outcome == "confirmed":
        return CONFIRMED_SPECIFIC if confirmation.specific else CONFIRMED_GENERIC
    if confirmation.outcome == "refuted":
        return 0.0 if confirmation.partial else REFUTED
    return 0.0


def _refutes_cause(c: Confirmation) -> bool:
    """A causal test of its cause came out refuted (not a premise, not one way among several)."""
    return c.outcome == "refuted" and not (c.partial or c.premise)


def _shared_with(c: Confirmation, inputs_differ: bool) -> tuple[str, ...]:
    """The causes that predict ``c``'s confirmed outcome as well as its own cause. Besides
    :data:`SHARED`: validation labels that gain by another class order, on inputs a classifier
    confirmed differ, are what a shift does too (it can move whole classes onto others, as the
    rule's renaming evidence allows for); a shift of rows no shift produces."""
    found = SHARED.get((c.cause, c.experiment), ())
    if (c.cause, c.experiment) == ("pipeline_bug", "label_alignment") and inputs_differ and \
            not str(c.details.get("alignment", "")).startswith("rows"):
        found += ("distribution_shift",)
    return found


def _shared(confirmations: list[Confirmation]) -> dict[str, list[Confirmation]]:
    """Per cause, the confirmed outcomes of another cause's tests that it predicts as well
    (:data:`SHARED`); each such outcome's text says so."""
    out: dict[str, list[Confirmation]] = {}
    # a premise whose own cause's causal test was refuted explains no gap, for either cause
    refuted = {c.cause for c in confirmations if _refutes_cause(c)}
    differ = any(c.cause == "distribution_shift" and c.experiment == "domain_classifier"
                 and c.outcome == "confirmed" for c in confirmations)
    for c in confirmations:
        if c.outcome != "confirmed" or c.details.get("explained_by") or \
                c.premise and c.cause in refuted:
            continue
        for cause in _shared_with(c, differ):
            out.setdefault(cause, []).append(c)
            note = (f" A {cause.replace('_', ' ')} on the validation input path passes this test too: it counts for both."
                    if cause == "pipeline_bug" else
                    f" A {cause.replace('_', ' ')} moves whole classes too when the inputs differ: it counts for both.")
            if note not in c.text:
                c.text += note
    return out


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
    shared = _shared(confirmations)
    for finding in diagnosis.findings:
        tested = by_cause.get(finding.cause)
        borrowed = shared.get(finding.cause, [])
        if not tested and not borrowed:
            continue
        finding.details.setdefault("score_before_confirmation", round(finding.score, 4))
        before = float(finding.details["score_before_confirmation"])
        tested = tested or []
        causal_refuted = any(_refutes_cause(c) for c in tested)
        shift = sum(0.0 if c.premise and causal_refuted else shift_for(c) for c in tested)
        shift += sum(shift_for(c) for c in borrowed)
        if borrowed:
            finding.details["shared_confirmations"] = [f"{c.cause}/{c.experiment}" for c in borrowed]
        finding.score = round(_score(_logit(before) + shift), 4) if shift else before
        if tested:
            finding.confirmation = [c.to_dict() for c in tested]
    diagnosis.findings.sort(key=lambda f: f.score, reverse=True)
    diagnosis.confirmations = [c.to_dict() for c in confirmations]
    return diagnosis
