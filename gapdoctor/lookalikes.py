"""When the two leading causes are within noise of each other: name both, and the check that
would tell them apart.

Two scores closer than ``CLOSE`` are not a ranking one run's evidence supports (held-out
scores at 0.7 and 0.8 are right about equally often). The texts are practitioners' tests for
every pair of the nine causes, the decisive check first (the console shows one line of it);
a pair outside them (a cause added later) falls back on the first "how to confirm" line of
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
    frozenset({"overfitting", "metric_mismatch"}):
        "Watch the validation loss beside the metric: memorisation raises the loss as the metric "
        "stalls; a metric that stays put while the loss still falls does not measure what the model "
        "learns (threshold, averaging or class id).",
    frozenset({"overfitting", "metric_saturation"}):
        "Count the validation errors left: a metric at its ceiling has nothing to gain, however "
        "wide the gap; with room left and a rising validation loss, it is memorisation.",
    frozenset({"label_noise", "metric_mismatch"}):
        "Re-score the saved validation predictions at a tuned threshold and with a threshold-free "
        "metric (ROC AUC): a metric that recovers was a metric choice; wrong training labels cost "
        "every metric alike.",
    frozenset({"label_noise", "distribution_shift"}):
        "Train a classifier to tell training from validation inputs: alike inputs (AUC near 0.5) "
        "labelled differently are wrong labels; inputs it tells apart are a shift. Then check a "
        "dozen flagged training labels by hand.",
    frozenset({"label_noise", "pipeline_bug"}):
        "Check by hand which split's labels are wrong: a dozen flagged training samples, a dozen "
        "misclassified validation ones (both splits label alike inputs differently). Wrong training "
        "labels are label noise; validation labels renamed, offset or shifted by rows (the errors "
        "map one predicted class onto one label, or sit in one block of rows) are a bug in how "
        "validation is loaded.",
    frozenset({"label_noise", "small_validation_set"}):
        "Bootstrap the validation metric: a gap inside its interval is the small set's noise; "
        "flagged training samples whose labels are visibly wrong are label noise whatever the "
        "validation size.",
    frozenset({"label_noise", "optimization"}):
        "Look at the training loss: one that jumps, stalls or turns NaN is the optimiser; one that "
        "falls smoothly while a set of training samples is fitted only late points at their labels.",
    frozenset({"label_noise", "metric_saturation"}):
        "Count the validation errors left: at the ceiling there is nothing to gain; a training "
        "accuracy held below validation's by samples it never fits points at their labels.",
    frozenset({"metric_mismatch", "distribution_shift"}):
        "Re-score the saved validation predictions at a tuned threshold: a metric that recovers was "
        "a threshold choice; a shift moves the inputs, which a classifier telling the splits apart "
        "sees (AUC well above 0.5).",
    frozenset({"metric_mismatch", "pipeline_bug"}):
        "Re-score the saved validation predictions at a tuned threshold and with the labels matched "
        "to the class ids the model trained with: a metric that recovers was a metric choice; one "
        "that stays at chance points at labels or inputs broken on the way in.",
    frozenset({"metric_mismatch", "small_validation_set"}):
        "Count the validation positives of the class the metric scores: F1 or recall on a handful "
        "jumps with each one; bootstrap it, and compare a threshold-free metric (ROC AUC) on the "
        "same predictions.",
    frozenset({"metric_mismatch", "optimization"}):
        "Look at the training loss first: if it falls smoothly the optimiser works and the stuck "
        "metric is a metric choice (score it at a tuned threshold); if it stalls, jumps or turns "
        "NaN, rerun with the learning rate divided by 10.",
    frozenset({"metric_mismatch", "metric_saturation"}):
        "Score the same predictions with a threshold-free metric (ROC AUC) and count the errors "
        "left: at the ceiling both are done; a metric stuck while the AUC moves was the metric's "
        "choice.",
    frozenset({"distribution_shift", "small_validation_set"}):
        "Train a classifier to tell training from validation inputs and bootstrap the validation "
        "metric: a domain AUC near 0.5 with a gap inside the interval is the small set's noise; an "
        "AUC well above 0.5 is a shift more data from the same source will not remove.",
    frozenset({"distribution_shift", "optimization"}):
        "Look at the training loss: one that jumps, stalls or turns NaN is the optimiser; one that "
        "falls smoothly with validation behind on inputs a classifier tells apart (AUC well above "
        "0.5) is a shift.",
    frozenset({"distribution_shift", "metric_saturation"}):
        "Count the validation errors left: at the ceiling there is nothing to gain; below it, "
        "inputs a classifier tells apart from training (AUC well above 0.5) are a shift.",
    frozenset({"subgroup_underfitting", "pipeline_bug"}):
        "Score a slice of the training data through the validation pipeline: a class that fails "
        "there too was broken on the way in (labels or inputs); one that fails only on validation "
        "rows and lifts with class weights is a subgroup.",
    frozenset({"subgroup_underfitting", "small_validation_set"}):
        "Count the validation samples of the lagging classes: a per-class recall on a dozen "
        "samples swings by tens of points; with enough of them, a class that stays behind is a "
        "subgroup.",
    frozenset({"subgroup_underfitting", "optimization"}):
        "Look at the training loss: one that jumps, stalls or turns NaN is the optimiser and costs "
        "every class; a smooth fall that leaves a few classes behind is a subgroup (class weights "
        "lift it).",
    frozenset({"subgroup_underfitting", "metric_saturation"}):
        "Compare per-class validation recall: at the ceiling every class is done; a class far "
        "behind the others is a subgroup, even when the average looks saturated.",
    frozenset({"pipeline_bug", "small_validation_set"}):
        "Bootstrap the validation metric and score a slice of the training data through the "
        "validation pipeline: a gap inside the interval is the small set's noise; a slice that "
        "drops is the pipeline.",
    frozenset({"pipeline_bug", "metric_saturation"}):
        "Count the validation errors left and check a few validation labels by hand: at the "
        "ceiling there is nothing to gain; a validation metric far from training's on alike "
        "inputs is the pipeline.",
    frozenset({"small_validation_set", "optimization"}):
        "Look at the training loss first: an unstable or stalled training loss is the optimiser "
        "whatever the validation size; if it falls smoothly, bootstrap the validation metric - a "
        "wobble inside its interval is the small set.",
    frozenset({"optimization", "metric_saturation"}):
        "Count the validation errors left: at the ceiling a flat metric is done; with room left "
        "and a training loss that jumps or stalls, rerun with the learning rate divided by 10.",
}


# Pairs whose deciding check gapdoctor already ran when it could: the measured fact, and the
# advice told with its value, instead of asking the user to run it again.
_MEASURED: dict[frozenset[str], list[tuple[str, str]]] = {
    frozenset({"distribution_shift", "overfitting"}): [(
        "domain_auc",
        "A classifier telling training from validation inputs (gapdoctor's, on the recorded "
        "samples) reads ROC AUC {value:.2f} here; 0.5 means the splits look alike. From about "
        "0.8 validation is from elsewhere; near 0.5 the gap is memorisation. In between, compare "
        "the gap on the validation rows that look most like training rows with the rest: a shift "
        "concentrates it in the unlike rows.")],
    frozenset({"distribution_shift", "pipeline_bug"}): [(
        "integrity_columns",
        "Validation columns that break what training shows: {value}. A changed world moves "
        "values; a column stuck on one value, a pile on a value training lacks or values far "
        "beyond training's range are what a parse, a cast, a unit or a byte order leaves (a dead "
        "sensor aside). Load a few training files through the validation loader: if those "
        "columns come out broken too, it is the pipeline."), (
        "far_values",
        "{value:.1%} of the validation input values lie beyond twice training's whole range. A "
        "changed world lifts some values that far, not most of them; a byte order, a decode into "
        "the wrong type or a scale applied twice carries them all. Print both splits' range after "
        "each step of the validation loader: the first step where they part is the bug."), (
        "new_fill",
        "{value:.1%} of the validation sequences are filled with an id training's hardly ever "
        "are. New text changes which tokens a sequence holds, not how it is padded: tokenise a "
        "few training texts through the validation path and compare their last ids."), (
        "signal_left",
        "Validation is {value:.0%} of the way from chance to perfect while the model fits its "
        "training data. A changed world blurs the link between inputs and labels but seldom "
        "erases it (on gapdoctor's benchmark sets: 2 shifts in 65 against 18 pipeline bugs in 42 "
        "whose inputs differed). Score a slice of the training data through the validation "
        "path: if it falls to chance too, the path is broken."), (
        "off_support",
        "Validation rows that no training row resembles: {value}. Print a few beside training "
        "rows as the model receives them: values on another scale, inverted, reordered or "
        "re-encoded point at a step of the validation path (a pipeline bug); plausible rows that "
        "training never covered point at a shift. Re-applying the training preprocessing to the "
        "raw validation data and re-scoring settles it.")],
}
# the logged-accuracy check (metric_mismatch.logged_differs) settles a metric question first
_LOGGED = [(
    "own_last",
    "gapdoctor measured validation accuracy {value:.3f} on the same rows with the same weights, "
    "and the logged metric does not match it: a metric that disagrees with the model's own "
    "predictions computes something else, whatever the set's size or the classes' recalls. "
    "Read the metric's definition before acting on anything else.")]
for _other in ("small_validation_set", "subgroup_underfitting", "overfitting"):
    _MEASURED[frozenset({"metric_mismatch", _other})] = _LOGGED


def tell_apart(first: str, second: str, confirm: dict[str, list[str]] | None = None,
               facts: dict | None = None) -> str:
    """The check that separates two causes (generic when the pair has no specific test);
    told with the measured value when gapdoctor already ran it (``facts``: the findings'
    details).

    Example:
        >>> tell_apart("overfitting", "distribution_shift", facts={"domain_auc": 0.71})[:60]
        'A classifier telling training from validation inputs (gapdoc'
    """
    for key, told in _MEASURED.get(frozenset({first, second}), []):   # the most telling first
        value = (facts or {}).get(key)
        if isinstance(value, (int, float)) and value == value or isinstance(value, str) and value:
            return told.format(value=value)
    text = _PAIRS.get(frozenset({first, second}))
    if text:
        return text
    confirm = confirm or {}
    steps = [f"for {cause.replace('_', ' ')}: {confirm[cause][0].rstrip('.')}" for cause in (first, second)
             if confirm.get(cause)]
    return "Run the confirming check of each: " + "; ".join(steps) + "." if steps else (
        "More recorded evidence (per-sample margins, input samples of both splits) would separate them.")
