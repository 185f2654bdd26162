"""The retraining experiments: which arms each cause needs and how their effect is read.

Every effect is treated minus control, paired by seed, on validation samples neither arm
used for any choice (see ``gapdoctor.confirm.outcome.paired_effect``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gapdoctor.analysis.label_dynamics import dynamics_of
from gapdoctor.callback.confirm.arms import ArmResult
from gapdoctor.confirm.checks import predicted_class
from gapdoctor.confirm.gaps import memorisation
from gapdoctor.confirm.outcome import (
    MIN_EFFECT,
    Confirmation,
    decide,
    describe,
    paired_effect,
)
from gapdoctor.confirm.phase import Phase, memorisation_phase

# The bottom 30 % of classes by validation recall are "the lagging classes" (at least one);
# the same share ``flagged_class_concentration`` uses in analysis/margins.py.
LAGGING_SHARE = 0.3


def correct(result: ArmResult, labels: np.ndarray) -> np.ndarray:
    return (predicted_class(result.val_probs) == labels).astype(float)


def balanced(labels: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Per-sample weights over ``cols`` whose weighted mean of correctness is the balanced
    accuracy (mean recall over classes)."""
    y = labels[cols]
    classes, counts = np.unique(y, return_counts=True)
    per_class = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    return np.array([len(y) / (len(classes) * per_class[int(k)]) for k in y])


def _curves(control: ArmResult, treated: ArmResult) -> dict[str, list[float]]:
    key = next((k for k in ("val_loss", "loss") if k in control.history and k in treated.history),
               None)
    if key is None:
        return {}
    return {"metric": [key], "control": control.history[key], "treated": treated.history[key]}


def _confirmation(cause: str, experiment: str, treated: list[ArmResult],
                  control: list[ArmResult], labels: np.ndarray, cols: np.ndarray, what: str,
                  specific: bool, details: dict, partial: bool = False,
                  weights: np.ndarray | None = None) -> Confirmation:
    w = np.ones(len(cols)) if weights is None else weights
    t = np.stack([correct(a, labels)[cols] * w for a in treated])
    c = np.stack([correct(a, labels)[cols] * w for a in control])
    e = paired_effect(t, c, retrained=True)
    outcome = decide(e.low, e.high, e.effect)
    text = describe(outcome, what, e.effect, e.low, e.high, partial=partial)
    if outcome == "refuted" and not specific and e.effect <= -MIN_EFFECT:
        # a remedy that costs accuracy overshot (too much L2 for 123 rows, a weight that
        # silences a class): it tested a dose this model cannot take, not the cause
        outcome = "inconclusive"
        text += (f" Not a refutation: the remedy cost {-e.effect * 100:.1f} points, so it "
                 "overshot for this model; a milder dose would test the cause.")
    if e.n_seeds == 1:
        text += (" (One seed: the interval carries the retraining noise measured on null "
                 "retrainings, not this run's.)")
    return Confirmation(cause, experiment, outcome, before=float(c.mean()), after=float(t.mean()),
                        effect=e.effect, interval=(e.low, e.high), specific=specific,
                        partial=partial, text=text,
                        seconds=sum(a.seconds for a in treated),
                        curves=_curves(control[0], treated[0]),
                        details={**details, "seeds": e.n_seeds, "validation_samples": e.n_samples,
                                 "seed_sd": e.seed_sd})


def control_phase(control: list[ArmResult], labels: np.ndarray, train_labels: np.ndarray,
                  flagged: np.ndarray | None = None,
                  scored_rows: np.ndarray | None = None) -> Phase | None:
    """Whether the control (seed 0) reached the memorisation phase: its training accuracy
    from its last margins on every row (the label-noise dynamics) or else its predictions
    of ``scored_rows``; None when it recorded neither."""
    arm = control[0] if control else None
    if arm is None:
        return None
    if arm.margins:
        fits = arm.margins[-1] > 0
    elif arm.train_probs is not None and scored_rows is not None:
        fits = predicted_class(arm.train_probs) == train_labels[scored_rows]
        flagged = None   # the flagged rows are not among the scored ones
    else:
        return None
    fitted = (float(fits[flagged].mean()) if flagged is not None and len(flagged) else None)
    return memorisation_phase(float(fits.mean()), float(correct(arm, labels).mean()),
                              arm.history.get("val_loss"), fitted,
                              0 if flagged is None else len(flagged))


def original_suspects(record: object, n_train: int) -> np.ndarray | None:
    """Training rows the run's own whole-set dynamics flagged as likely wrong labels (their
    neighbours in the model's representation out-vote the label; hard samples, which the
    neighbours agree with, are not among them), as positions in the training data; None
    when the run recorded no dynamics of every row by position.

    These are the samples the diagnosis named, read on the full run: a shortened control's
    margins miss wrong labels a network memorises within a few epochs."""
    meta = getattr(record, "meta", None) or {}
    if (meta.get("dynamics") or {}).get("ids") != "position":
        return None
    facts = dynamics_of(record)
    if facts is None or facts.n != n_train:
        return None
    rows = np.asarray(facts.ids[facts.flagged], dtype=np.int64)
    return np.unique(rows[(rows >= 0) & (rows < n_train)])


def label_noise(flagged: list[ArmResult], random: list[ArmResult], labels: np.ndarray,
                n_flagged: int, n_train: int, flagged_by: str = "") -> Confirmation:
    """Dropping the flagged samples (``flagged_by``: how they were chosen) beats dropping as
    many at random."""
    cols = np.arange(len(labels))
    what = f"Retraining without the {n_flagged} flagged samples (vs. {n_flagged} random ones)"
    return _confirmation("label_noise", "drop_flagged_samples", flagged, random, labels, cols,
                         what, True, {"flagged": n_flagged, "n_train": n_train,
                                      "flagged_share": round(n_flagged / max(n_train, 1), 4),
                                      "flagged_by": flagged_by})


def overfitting(regularised: list[ArmResult], control: list[ArmResult], labels: np.ndarray,
                scored: np.ndarray, half_data: dict | None = None,
                phase: Phase | None = None) -> Confirmation:
    """Strong L2 plus restore-best early stopping (on the other validation half) helps: the
    main test. The half-data arm (:func:`gapdoctor.confirm.gaps.memorisation`) corroborates
    or contradicts it; when the two disagree the outcome is inconclusive, never reversed.
    A control short of the memorisation ``phase`` cannot show the half-data arm's gap
    widening either, so its "contradicts" counts for nothing then."""
    what = "Retraining with strong L2 and restore-best early stopping"
    c = _confirmation("overfitting", "regularise_and_stop_early", regularised, control,
                      labels, scored, what, False, {"scored_on": "the other validation half"})
    if half_data is None:
        return c
    c.details["half_data"] = {k: v for k, v in half_data.items() if k not in ("text", "seconds")}
    c.seconds += half_data.get("seconds", 0.0)
    verdict = half_data["verdict"]
    c.text += " " + half_data["text"]
    if verdict == "contradicts" and phase is not None and not phase.reached:
        verdict = "neither"
        c.details["half_data"]["verdict"] = verdict
        c.text += (" (Not held against memorisation: the control had not started "
                   "memorising, so neither arm could widen the gap.)")
    disagree = (c.outcome == "refuted" and verdict == "corroborates"
                or c.outcome == "confirmed" and verdict == "contradicts")
    if disagree:
        c.text += (f" The two arms disagree, so the regularisation arm's '{c.outcome}' is "
                   "withdrawn: inconclusive.")
        c.outcome = "inconclusive"
    elif verdict != "neither" and c.outcome != "inconclusive":
        c.text += " Both arms agree."
    return c


def half_data(half: list[ArmResult], control: list[ArmResult], scored_rows: np.ndarray,
              train_labels: np.ndarray, labels: np.ndarray, n_rows: int) -> dict:
    """The half-data arm read against the control, paired by seed: training accuracy on
    ``scored_rows`` (rows both trained on) and accuracy on the whole validation set (neither
    arm chose anything on it). See :func:`gapdoctor.confirm.gaps.memorisation`."""
    truth = train_labels[scored_rows]

    def fit(arms: list[ArmResult]) -> np.ndarray:
        return np.stack([(predicted_class(a.train_probs) == truth).astype(float) for a in arms])

    def val(arms: list[ArmResult]) -> np.ndarray:
        return np.stack([correct(a, labels) for a in arms])

    return {**memorisation(fit(control), fit(half), val(control), val(half)), "rows": n_rows,
            "seconds": sum(a.seconds for a in half)}


def lagging_classes(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Classes with the lowest recall in predictions ``probs`` of samples ``labels``."""
    pred = predicted_class(probs)
    classes = np.unique(labels)
    recall = np.array([np.mean(pred[labels == k] == k) for k in classes])
    n = max(1, int(round(LAGGING_SHARE * len(classes))))
    return classes[np.argsort(recall)[:n]]


def retuned_rule(arm: ArmResult, labels: np.ndarray, choose_on: np.ndarray) -> ArmResult:
    """``arm`` with its decision rule re-tuned on the rows ``choose_on``, what a threshold or
    prior shift gives without retraining: for two classes the threshold with the best
    balanced accuracy there (a sigmoid output counts as two columns), for more each class's
    probability divided by the arm's mean predicted probability of it there. The returned
    ``val_probs`` are the resulting decisions, one-hot."""
    probs = np.asarray(arm.val_probs, float)
    if probs.ndim == 1 or probs.shape[1] == 1:
        probs = np.column_stack([1 - probs.reshape(-1), probs.reshape(-1)])
    k = probs.shape[1]
    if not len(choose_on):
        decided = probs.argmax(axis=1)
    elif k == 2:
        p1, y = probs[:, 1], labels[choose_on]
        cuts = np.unique(np.quantile(p1[choose_on], np.linspace(0.01, 0.99, 99)))

        def balanced_accuracy(cut: float) -> float:
            said = p1[choose_on] >= cut
            return float(np.mean([np.mean(said[y == c] == c) for c in (0, 1) if np.any(y == c)]))

        decided = (p1 >= max(cuts, key=balanced_accuracy)).astype(int)
    else:
        prior = np.clip(probs[choose_on].mean(axis=0), 1e-6, None)
        decided = (probs / prior).argmax(axis=1)
    return replace(arm, val_probs=np.eye(k)[decided])


def subgroup(weighted: list[ArmResult], control: list[ArmResult], labels: np.ndarray,
             lagging: np.ndarray, scored: np.ndarray, choose_on: np.ndarray) -> Confirmation:
    """Class weights favouring the lagging classes (chosen on one validation half) raise the
    mean recall over ALL classes on the other half, beyond what re-tuning the decision rule
    gives. Both arms are scored with their decision rule re-tuned on the choosing half
    (:func:`retuned_rule`): on an imbalanced task any reweighting raises balanced
    accuracy by moving the threshold, which the control gets for free; only a group the
    model underfits gains beyond it. Their own recall would rise anyway: a reweighting
    trades one class's recall for another's; only an underfit group gains net."""
    what = (f"Retraining with class weights for the lagging classes {lagging.tolist()} (both "
            "arms with their decision rule re-tuned on the other validation half)")
    c = _confirmation("subgroup_underfitting", "class_weights",
                      [retuned_rule(a, labels, choose_on) for a in weighted],
                      [retuned_rule(a, labels, choose_on) for a in control], labels,
                      scored, what, False, {"lagging_classes": lagging.tolist(),
                                            "decision_rule": "re-tuned on the other half"},
                      partial=True,  # a slice inside classes is not what class weights reach
                      weights=balanced(labels, scored))
    c.metric = "balanced accuracy"
    c.text = c.text.replace("validation accuracy", "validation balanced accuracy")
    return c


def optimization(variants: dict[str, list[ArmResult]], control: list[ArmResult],
                 labels: np.ndarray, choose_on: np.ndarray, scored: np.ndarray) -> Confirmation:
    """Another learning rate or gradient clipping helps: the best variant is chosen on one
    validation half and scored on the other."""
    def accuracy(arms: list[ArmResult], cols: np.ndarray) -> float:
        return float(np.mean([correct(a, labels)[cols].mean() for a in arms]))

    best = max(variants, key=lambda name: accuracy(variants[name], choose_on))
    n = len(variants[best])
    # partial: dead units or a bad initialisation are not what a learning rate fixes
    return _confirmation("optimization", "learning_rate_and_clipping", variants[best],
                         control[:n], labels, scored, f"Retraining with {best}", False,
                         {"variants": sorted(variants), "chosen": best,
                          "scored_on": "the other validation half"}, partial=True)
