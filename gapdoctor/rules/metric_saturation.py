"""metric_saturation: the validation metric is at its ceiling while the loss keeps refining.

Saturation explains a *stalled* metric, so it needs the stall: the metric has sat at its
ceiling for several epochs. A metric near 1 that is still rising is a healthy run.
"""

from __future__ import annotations

from gapdoctor.analysis.classes import watched_class_share
from gapdoctor.analysis.context import Context
from gapdoctor.analysis.curves import series
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, RuleSkipped, Weighing, finite, ramp
from gapdoctor.rules.evidence import Ramp
from gapdoctor.rules.metric_mismatch import (
    MAJORITY_FACT,
    MAJORITY_RANGE,
    MAJORITY_WHY,
    frozen_metric_config,
)

_BOUNDED = ("acc", "auc", "f1", "precision", "recall", "iou", "io_u", "dice", "jaccard")
E = "metric_saturation."
AT_CEILING = Ramp(E + "at_ceiling", "best validation metric's distance to 1.0", 0.02, 0.002, 4.0,
                  "a handful of errors left (0.2%) cannot show progress; at 2% a plateau may be the "
                  "data's own error rate, which is no ceiling of the metric")
PLATEAU = Ramp(E + "plateau", "epochs at the best value (within 0.005), excluding the first", 2, 5, 1.5,
               "saturation is a stall: the metric has sat at its best for several epochs")
# The ceiling only explains a stall: being near 1 counts in full once the metric has sat
# there for 4 epochs, not at all when it touched it once.
_STALL = (1, 4)
STILL_RISING = Ramp(E + "still_rising", "validation metric gain over the last third of the run",
                    0.002, 0.01, -3.0, "a metric still climbing is not saturated")
SHORT = Ramp(E + "short", "epochs run", 6, 3, -3.0,
             "a stall cannot be seen in a handful of epochs")
LOW_BOUND = Ramp(E + "low_bound", "95% lower bound of the best validation metric", 0.96, 0.9, -3.0,
                 "too few samples to know the metric is at its ceiling")
REFINING = Ramp(E + "refining", "training loss drop in the second half", 0.1, 0.4, 1.0,
                "the loss keeps refining confidence the metric cannot show")
FROM_START = Ramp(E + "from_start", "validation metric gain from the first epoch to the best", 0.002, 0.0, -2.0,
                  "a metric at its best from the first epoch never showed progress: it says nothing about this run")
MISCONFIGURED = Ramp(E + "misconfigured", "monitored metric configured so it cannot track the model", 1, 1, -3.0,
                     "a ceiling read off a misconfigured metric says nothing about the model")
LEAKED = Ramp(E + "leaked", "validation samples also in training (exact duplicates), share", 0.02, 0.1, -3.0,
              "a perfect score on samples the model trained on is leakage, not a ceiling")
VAL_LOSS_UP = Ramp(E + "val_loss_up", "validation loss above its earlier minimum", 0.5, 2.0, -3.0,
                   "a validation loss that climbs far above its minimum is not confidence being refined")
NOT_REFINING = Ramp(E + "not_refining", "training loss drop in the second half (none)", 0.05, 0.0, -3.0,
                    "nothing is being refined: the loss has stopped too, so the metric is not what hides progress")
MAJORITY = Ramp(E + "majority_class", MAJORITY_FACT, *MAJORITY_RANGE, -3.0,
                "its ceiling says nothing about the task: " + MAJORITY_WHY)
HEADROOM = Ramp(E + "headroom", "best validation metric's distance to 1.0 (headroom)", 0.05, 0.05, -3.0,
                "far from the ceiling")


class MetricSaturationRule(Rule):
    cause = "metric_saturation"
    requires = ("val_curves",)

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        c, monitor = ctx.curves, ctx.monitor
        if not monitor or c.mode != "max" or not any(k in monitor.lower() for k in _BOUNDED):
            raise RuleSkipped(f"the monitored metric {monitor!r} has no known ceiling")
        if not finite(c.best_value) or c.best_value > 1.0 + 1e-9:
            raise RuleSkipped(f"the monitored metric {monitor!r} is not on a 0..1 scale")
        w = Weighing(prior=-2.5)
        err = 1 - c.best_value
        values = series(run.curves, monitor)
        at_best = int((values.iloc[1:] >= c.best_value - 0.005).sum()) if len(values) > 1 else 0
        third = values.iloc[-max(3, len(values) // 3):]
        rising = float(third.iloc[-1] - third.iloc[0]) if len(third) >= 2 else float("nan")
        w.facts.update(monitor=monitor, best_value=c.best_value, best_epoch=c.best_epoch,
                       loss_drop_second_half=c.loss_drop_second_half, errors_left=err,
                       epochs_at_best=at_best)
        stall = ramp(at_best, *_STALL)
        ceiling = w.use(AT_CEILING, err, gate=stall,
                        gate_reason=f"{at_best} epochs at the best value (full from {_STALL[1]})")
        w.use(HEADROOM, err)
        # the stall and the refining loss only speak for saturation at the ceiling
        w.use(PLATEAU, at_best, gate=ceiling, gate_reason="only as far as the metric is at its ceiling")
        w.use(FROM_START, c.metric_gain)
        data = run.meta.get("data") or {}
        if isinstance(data.get("duplicates_val_in_train"), (int, float)) and ctx.n_val:
            w.use(LEAKED, data["duplicates_val_in_train"] / ctx.n_val)
        misconfigured = frozen_metric_config(run, monitor)
        if misconfigured:
            w.use(MISCONFIGURED, 1.0, shown=misconfigured)
        watched = watched_class_share(run, monitor)
        if watched is not None:
            w.use(MAJORITY, watched[1], shown=f"{watched[1]:.2f} (class {watched[0]})")
        w.use(STILL_RISING, rising)
        w.use(SHORT, c.n_epochs)
        if ctx.n_val and finite(err):
            from scipy import stats  # lazy: keeps `import gapdoctor` fast

            n = ctx.n_val
            low = stats.binomtest(int(round((1 - err) * n)), n).proportion_ci(method="wilson").low
            w.facts.update(n_errors=round(err * n), ci_low=low)
            w.use(LOW_BOUND, low, name=f"95% lower bound of best {monitor} (n={n})")
        else:
            # without the validation size the ceiling is read off the curve alone
            w.cap = 0.75
            w.facts["confidence_note"] = "the validation set size is unknown"
        w.use(REFINING, c.loss_drop_second_half, gate=ceiling,
              gate_reason="only as far as the metric is at its ceiling")
        w.use(NOT_REFINING, c.loss_drop_second_half)
        w.use(VAL_LOSS_UP, c.val_loss_rise)
        return w
