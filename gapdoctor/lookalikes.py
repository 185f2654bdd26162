"""When the two leading causes are within noise of each other: name both, and the check that
would tell them apart.

Two scores closer than ``CLOSE`` are not a ranking one run's evidence supports (held-out
scores at 0.7 and 0.8 are right about equally often). The texts are practitioners' tests for
each pair of look-alikes; any other pair falls back on the first "how to confirm" line of
each cause's template.

Example:
    >>> tell_apart("overfitting", "label_noise").startswith("Retrain without")
    True
"""

from __future__ import annotations

# 0.1 of score is about the spread of a held-out score bin; closer leads are not a ranking.
CLOSE = 0.1

_PAIRS: dict[frozenset[str], str] = {
    frozenset({"overfitting", "label_noise"}):
        "Retrain without the flagged training samples (and, as a control, without as many random "
        "ones): if validation improves only in the first case, the labels were wrong; stronger "
        "regularisation or more data helping instead points at overfitting.",
    frozenset({"overfitting", "subgroup_underfitting"}):
        "Compare per-class validation recall: memorisation costs every class a little, a subgroup "
        "costs a few classes a lot. Retraining with class weights lifts a subgroup, not overfitting.",
    frozenset({"label_noise", "subgroup_underfitting"}):
        "Look at the flagged training samples of the lagging classes: wrong labels are visibly "
        "another class; hard but correct samples are not. Class weights help a subgroup, not noise.",
    frozenset({"distribution_shift", "pipeline_bug"}):
        "Re-apply the training preprocessing (fitted statistics) to the validation inputs and "
        "re-score: if the gap closes it was the pipeline; a shift survives it.",
    frozenset({"distribution_shift", "overfitting"}):
        "Train a classifier to tell training from validation inputs: if it can (AUC well above "
        "0.5), validation is from elsewhere; if not, the gap is memorisation.",
    frozenset({"distribution_shift", "subgroup_underfitting"}):
        "Check whether the lagging classes are rarer or different in validation than in training "
        "(label mix, a domain classifier per class): shift moves the data, a subgroup does not.",
    frozenset({"metric_mismatch", "subgroup_underfitting"}):
        "Tune the decision threshold on half of the validation set and score the other half: a "
        "metric that recovers was a threshold choice, a class that does not was never learned.",
    frozenset({"pipeline_bug", "overfitting"}):
        "Score the validation set the way the model will be used (random batches, evaluation "
        "mode, the training preprocessing re-applied) and check a few validation labels by hand: "
        "a gap that closes was the pipeline; memorisation survives it and narrows with more data "
        "or stronger regularisation.",
    frozenset({"optimization", "pipeline_bug"}):
        "Train a few epochs on 100 samples with a small learning rate: a model that cannot "
        "memorise them points at the data or the loss, one that can points at the optimiser.",
    frozenset({"optimization", "overfitting"}):
        "Rerun with the learning rate divided by 10: a smoother training loss that still leaves "
        "the gap is overfitting; a gap that closes was the optimiser.",
    frozenset({"small_validation_set", "overfitting"}):
        "Bootstrap the validation metric: a gap inside its interval is noise, not memorisation.",
    frozenset({"metric_saturation", "small_validation_set"}):
        "Count the validation errors left: a handful of errors on a small set cannot show progress "
        "either way; collect more validation data.",
}


def tell_apart(first: str, second: str, confirm: dict[str, list[str]] | None = None) -> str:
    """The check that separates two causes (generic when the pair has no specific test)."""
    text = _PAIRS.get(frozenset({first, second}))
    if text:
        return text
    confirm = confirm or {}
    steps = [f"for {cause.replace('_', ' ')}: {confirm[cause][0].rstrip('.')}" for cause in (first, second)
             if confirm.get(cause)]
    return "Run the confirming check of each: " + "; ".join(steps) + "." if steps else (
        "More recorded evidence (per-sample margins, input samples of both splits) would separate them.")
