"""metric_mismatch: the loss improves what the monitored metric does not reward."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.against_loss import against_loss, proportion_se
from gapdoctor.analysis.classes import watched_class_share
from gapdoctor.analysis.context import Context
from gapdoctor.analysis.curves import flat_stretch, series
from gapdoctor.analysis.inert_metric import inert_metric
from gapdoctor.analysis.logged_metric import logged_against_own
from gapdoctor.record.schema import RunRecord, metric_mode
from gapdoctor.rules.base import Rule, Weighing, finite, ramp
from gapdoctor.rules.evidence import Ramp

E = "metric_mismatch."
ONLY_LOSS = Ramp(E + "only_loss", "monitored metric is the loss itself", 1, 1, -2.0,
                 "only the loss is logged: nothing to mismatch")
STRETCH = Ramp(E + "stretch", "share of the run with the metric flat (within 0.02) while validation loss improves",
               0.25, 0.5, 3.0, "a quarter of the run or more of a stuck metric over a falling loss")
NEVER_CHANGES = Ramp(E + "never_changes", "monitored metric range over the run", 1e-6, 0.0, 2.0,
                     "a metric that never changes")
CONFIG = Ramp(E + "config", "metric configuration that cannot reward learning", 1, 1, 4.0,
              "read from the recorded configuration, not inferred: the metric cannot track the model")
WRONG_WAY = Ramp(E + "wrong_way", "rank correlation of the monitored metric (larger = better) with the "
                 "validation loss over epochs", 0.3, 0.6, 3.0,
                 "a metric that gets worse as the validation loss improves rewards something the loss "
                 "does not; weighed as a flat stretch is, whose stronger form it is")
LOGGED_DIFFERS = Ramp(E + "logged_differs", "monitored validation accuracy as fit logged it against the callback's "
                      "accuracy on the same rows and weights (mean absolute difference, in standard errors)",
                      3.0, 6.0, 4.0,
                      "measured, not inferred: a metric named accuracy that is not the share of rows the model "
                      "gets right computes something else; weighed as the frozen-config evidence is (3 standard "
                      "errors is beyond the noise of the callback's sample of the validation rows)")
OWN_GAIN = Ramp(E + "own_gain", "arg-max accuracy gain minus monitored metric gain (validation)", 0.05, 0.2, 1.5,
                "the model improves on a standard metric while the monitored one does not")
INERT = Ramp(E + "inert", "monitored metric's range over the run / the callback's validation accuracy's gain "
             "(above its first epoch and the majority rate)",
             0.5, 0.2, 3.0,
             "a share that moves a fifth as much as the share of rows the model gets right, or less, does not "
             "read what the model learns; weighed as a flat stretch is, of which it is the direction-free form")
THRESHOLD = Ramp(E + "threshold", "F1 at the best threshold minus F1 at 0.5 (last epoch)", 0.05, 0.2, 2.5,
                 "a tuned threshold recovers what 0.5 misses")
RARE = Ramp(E + "rare", "share of positives in validation", 0.3, 0.1, 0.5,
            "imbalance makes 0.5 a poor threshold")
# how every rule reads a metric of one class (its Keras class_id) that most rows belong to
MAJORITY_FACT = "validation share of the one class the monitored metric reads (its class_id)"
MAJORITY_RANGE = (0.5, 0.8)
MAJORITY_WHY = ("a model that predicts the class most rows belong to everywhere scores that "
                "class's recall near 1 from the first epoch; from half the rows on, more and more "
                "of its value needs no learning")
MAJORITY = Ramp(E + "majority_class", MAJORITY_FACT, *MAJORITY_RANGE, 3.5,
                "it cannot show whether the other classes are learned: " + MAJORITY_WHY +
                "; a fact of the metric's configuration, weighed near the frozen-config evidence")

# Metrics that only make sense on one output (a probability of the positive class).
_BINARY_ONLY = ("BinaryAccuracy", "Precision", "Recall", "AUC", "PrecisionAtRecall",
                "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
                "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives", "BinaryIoU")
# Keras metrics that take the arg-max over the output's classes
_ARGMAX_CLASSES = ("SparseCategoricalAccuracy", "CategoricalAccuracy",
                   "SparseTopKCategoricalAccuracy", "TopKCategoricalAccuracy")
# Monitors that already are arg-max accuracy: comparing them with it says nothing.
_ARGMAX = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")
# Regression and similarity metrics (Keras names and aliases, without underscores): they
# compare label and output number by number, not the predicted class
_REGRESSION = frozenset(("mae", "meanabsoluteerror", "mse", "meansquarederror", "rmse",
                         "rootmeansquarederror", "mape", "meanabsolutepercentageerror", "msle",
                         "meansquaredlogarithmicerror", "cosinesimilarity", "logcosh",
                         "logcosherror", "r2score"))


def _regression_metric(metric: dict) -> tuple[str, str] | None:
    """``(name as recorded, key in _REGRESSION)`` of the regression metric a recorded metric
    entry is (by its name, class or function), None for any other metric."""
    fn = (metric.get("config") or {}).get("fn")
    fn_name = fn.get("config") if isinstance(fn, dict) else fn
    for value in (metric.get("name"), metric.get("class_name"), fn_name):
        key = str(value or "").lower().replace("_", "")
        if key in _REGRESSION:
            return str(value), key
    return None


def _regression_on_classes(metric: dict, run: RunRecord) -> str | None:
    """Why a regression metric cannot read a classifier's output (None when it can: a
    squared error on one-hot labels or on one sigmoid output is the Brier score)."""
    regression = _regression_metric(metric)
    if regression is None:
        return None
    found, key = regression
    if run.meta.get("task") == "multiclass" and run.meta.get("label_format") == "sparse":
        # Keras broadcasts a column of class ids (n, 1) against the (n, K) probabilities
        return (f"{found} on integer class labels compares each class id with every class "
                "probability, not the predicted class with the label: it moves with how "
                "spread the probabilities are, not with how many rows are right")
    if run.meta.get("task") == "binary" and key == "cosinesimilarity":
        return (f"{found} of one-number vectors is 1 on every positive row and 0 on every "
                "negative one, whatever the model predicts: it reports the share of positives")
    return None


def frozen_metric_config(run: RunRecord, monitor: str) -> str | None:
    """A metric configuration that cannot reward learning, in words (None if fine)."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    outputs = run.meta.get("n_outputs") or ((run.meta.get("model") or {}).get("n_outputs"))
    single = outputs == 1 or run.meta.get("task") == "binary"
    multiclass = run.meta.get("task") == "multiclass"
    for metric in run.meta.get("metrics") or []:
        if not isinstance(metric, dict) or metric.get("name") != name:
            continue
        config = metric.get("config") or {}
        cls = str(metric.get("class_name", ""))
        if "threshold" in config and config.get("threshold") is None and single and "F" in cls:
            return f"{cls}(threshold=None) on a single output marks every sample positive"
        if cls == "Accuracy":
            return "keras.metrics.Accuracy compares values exactly, not the arg-max class"
        if single and cls in _ARGMAX_CLASSES:
            return (f"{cls} on a single (sigmoid) output takes the arg-max of one score, which is "
                    "always 0: it reports the share of class 0 whatever the model learns")
        if cls in ("CategoricalAccuracy", "TopKCategoricalAccuracy") and \
                run.meta.get("label_format") == "sparse":
            return (f"{cls} expects one-hot labels; on integer class labels the arg-max of each "
                    "one-number label is always 0, so it reports how often the model predicts "
                    "class 0")
        regression = _regression_on_classes(metric, run)
        if regression:
            return regression
        if multiclass and cls in _BINARY_ONLY and config.get("class_id") is None:
            return (f"{cls} on a {run.meta.get('n_classes') or 'multi'}-class softmax output "
                    "thresholds every class score separately, not the predicted class")
    return None


class MetricMismatchRule(Rule):
    cause = "metric_mismatch"
    requires = ("curve:val_loss",)

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        c, monitor = ctx.curves, ctx.monitor
        w.facts.update(monitor=monitor)
        if not monitor or monitor == "val_loss":
            w.use(ONLY_LOSS, 1.0, shown=monitor or "none")
            return w
        vloss, metric = series(run.curves, "val_loss"), series(run.curves, monitor)
        vloss_gain = 1 - float(vloss.min()) / float(vloss.iloc[0]) if len(vloss) and vloss.iloc[0] > 0 else np.nan
        w.facts.update(val_loss_gain=vloss_gain, metric_gain=c.metric_gain, metric_first=c.first_value,
                       metric_best=c.best_value)
        stretch = flat_stretch(metric, vloss)
        if stretch is not None and stretch.length >= 3:
            # a metric stuck far below its ceiling, not a converged one (for bounded metrics)
            headroom = 1 - stretch.level if c.mode == "max" and stretch.level <= 1 else 1.0
            w.facts.update(stretch_epochs=stretch.length, stretch_start=stretch.start,
                           stretch_gain=stretch.loss_gain, stretch_level=stretch.level)
            gate = ramp(stretch.loss_gain, 0.1, 0.3) * ramp(headroom, 0.15, 0.3)
            w.use(STRETCH, stretch.length / len(metric), gate=gate,
                  shown=f"{stretch.length} of {len(metric)} epochs at {stretch.level:.3f}",
                  gate_reason=f"validation loss fell {stretch.loss_gain:.0%} (full from 30%), "
                              f"headroom {headroom:.2f} (full from 0.3)")
        if len(metric) >= 3:
            w.use(NEVER_CHANGES, float(metric.max() - metric.min()))
        watched = watched_class_share(run, monitor)
        if watched is not None and w.use(MAJORITY, watched[1], shown=f"{watched[1]:.2f} (class {watched[0]})"):
            w.variant = "majority_class"
            w.facts.update(watched_class=watched[0], watched_share=watched[1])
        frozen = frozen_metric_config(run, monitor)
        if frozen:
            w.variant = "frozen"
            w.facts["frozen_reason"] = frozen
            w.use(CONFIG, 1.0, shown=frozen)
        own = ctx.val_accuracy_series()
        argmax_monitor = monitor.removeprefix("val_") in _ARGMAX or (
            monitor.removeprefix("val_") == "binary_accuracy" and run.meta.get("task") == "binary")
        if len(own) >= 3 and finite(c.metric_gain) and not argmax_monitor:
            w.use(OWN_GAIN, float(own.max() - own.iloc[0]) - abs(c.metric_gain))
        self._wrong_way(w, run, monitor, ctx.n_val)
        self._logged_differs(w, run, monitor, ctx.logged_cross_entropy)
        if not argmax_monitor:  # after them: a metric moving the wrong way is the sharper story
            self._inert(w, run, monitor, ctx.n_val, ctx.chance)
        classes = ctx.classes
        if classes is not None and finite(classes.f1_best_threshold):
            w.variant = w.variant if frozen else "threshold"
            w.facts.update(f1_at_half=classes.f1_at_half, f1_best=classes.f1_best_threshold,
                           best_threshold=classes.best_threshold, positive_share=classes.positive_share)
            w.use(THRESHOLD, classes.f1_best_threshold - classes.f1_at_half)
            w.use(RARE, classes.positive_share)
        # no calibration-error evidence: on all seven benchmark sets the validation ECE was
        # higher on runs of every other cause (overfitting 0.84, label noise 0.78 of full
        # strength on average) than on metric mismatches (0.16); see docs/measurements.md
        return w

    @staticmethod
    def _inert(w: Weighing, run: RunRecord, monitor: str, n_val: int | None, chance: float) -> None:
        """A share that hardly moves while the model's own validation accuracy moves by
        several standard errors; at its good end it has no room to move, so that is gated."""
        found = inert_metric(run, monitor, metric_mode(monitor, run.meta.get("metrics")), n_val, chance)
        if found is None:
            return
        # 2-4 standard errors: beyond the noise of one epoch's accuracy on n rows;
        # 0.15-0.3 headroom: STRETCH's, a metric near its end has nowhere left to go
        moved = found.own_range / found.own_se
        gate = ramp(moved, 2.0, 4.0) * ramp(found.headroom, 0.15, 0.3)
        strength = w.use(INERT, found.ratio, gate=gate,
                         shown=f"{found.ratio:.2f} ({found.metric_range:.3f} against {found.own_range:.3f})",
                         gate_reason=f"the accuracy gained {moved:.1f} standard errors (full from 4); the "
                                     f"metric is {found.headroom:.2f} from its end (full from 0.3)")
        if strength * gate > 0:
            w.facts.update(inert_range=found.metric_range, inert_own_range=found.own_range)
            if w.variant == "default":
                w.variant = "inert"

    @staticmethod
    def _wrong_way(w: Weighing, run: RunRecord, monitor: str, n_val: int | None) -> None:
        """A metric of known direction that ends worse than it began while the validation loss
        falls. Its direction must come from its Keras class or name: one read off the run
        (``infer_mode``) agrees with the loss by construction."""
        direction = metric_mode(monitor, run.meta.get("metrics"))
        moved = against_loss(series(run.curves, monitor), series(run.curves, "val_loss"), direction)
        if moved is None:
            return
        # the loss must have improved for the metric to lag it, and the metric must end below
        # where it began: a metric that rose and fell back is a peak, not a wrong direction
        gate = ramp(moved.loss_gain, 0.1, 0.3) * float(moved.worse > 0)
        se = proportion_se(moved.first, n_val, series(run.curves, monitor))
        noise = ""
        if finite(se) and se > 0:
            # a fall of one standard error is a sample or two of a small validation set
            gate *= ramp(moved.worse / se, 1.0, 2.0)
            noise = f", by {moved.worse / se:.1f} standard errors (full from 2)"
        strength = w.use(WRONG_WAY, moved.rho, gate=gate,
                         shown=f"{moved.rho:.2f} ({moved.first:.3f} at the first epoch, {moved.last:.3f} "
                               "over the last three)",
                         gate_reason=f"validation loss fell {moved.loss_gain:.0%} (full from 30%); the "
                                     f"metric ended {'worse' if moved.worse > 0 else 'no worse'} than it began{noise}")
        if strength * gate > 0:
            w.facts.update(wrong_way_first=moved.first, wrong_way_last=moved.last,
                           wrong_way_rho=moved.rho, val_loss_gain=moved.loss_gain)
            if w.variant == "default":
                w.variant = "wrong_way"

    @staticmethod
    def _logged_differs(w: Weighing, run: RunRecord, monitor: str, loss_column: str | None) -> None:
        """fit's logged validation accuracy against the callback's, when the losses agree: fit
        scored the same model on the same rows, and only the metric differs."""
        found = logged_against_own(run, monitor, loss_column)
        if found is None:
            return
        if np.isfinite(found.loss_ratio):
            # losses that differ as well mean fit evaluated another model or other data (a
            # pipeline_bug story); regularisation terms in fit's loss can add a few percent
            gate = ramp(abs(np.log(found.loss_ratio)), 0.3, 0.1)
            why = f"fit's validation loss is {found.loss_ratio:.3f} x the callback's (full within 10 %)"
        else:
            gate, why = 0.5, "fit's loss is not the callback's cross-entropy: the losses cannot be compared"
        strength = w.use(LOGGED_DIFFERS, found.diff / found.se, gate=gate, gate_reason=why,
                         shown=f"{found.diff / found.se:.1f} ({found.logged_last:.3f} logged, "
                               f"{found.own_last:.3f} measured at the last epoch)")
        if strength * gate > 0:
            w.facts.update(logged_last=found.logged_last, own_last=found.own_last)
            if w.variant in ("default", "wrong_way"):
                w.variant = "logged_differs"
