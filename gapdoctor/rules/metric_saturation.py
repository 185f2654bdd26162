"""metric_saturation: the validation metric is at its ceiling while the loss keeps refining."""

from __future__ import annotations

from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, RuleSkipped, Weighing, finite, ramp

_BOUNDED = ("acc", "auc", "f1", "precision", "recall", "iou")


class MetricSaturationRule(Rule):
    cause = "metric_saturation"
    requires = ("val_curves",)

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        c, monitor = ctx.curves, ctx.monitor
        if not monitor or c.mode != "max" or not any(k in monitor.lower() for k in _BOUNDED):
            raise RuleSkipped(f"the monitored metric {monitor!r} has no known ceiling")
        w = Weighing(prior=-2.0)
        err = 1 - c.best_value
        w.facts.update(monitor=monitor, best_value=c.best_value, best_epoch=c.best_epoch,
                       loss_drop_second_half=c.loss_drop_second_half, errors_left=err)
        # Within 1% of a perfect score little is left to gain; 3% still leaves real headroom.
        w.add(f"best {monitor} distance to 1.0", round(err, 4), "at the ceiling: < 0.01",
              4.0 * (1 - ramp(err, 0.005, 0.03)))
        if ctx.n_val and finite(err):
            from scipy import stats  # lazy: keeps `import gapdoctor` fast

            n = ctx.n_val
            low = stats.binomtest(int(round((1 - err) * n)), n).proportion_ci(method="wilson").low
            w.facts.update(n_errors=round(err * n), ci_low=low)
            # The ceiling is only established when the interval's lower end is near it too.
            w.add(f"95% lower bound of best {monitor} (n={n})", round(low, 4),
                  "against: too few samples to know the metric is at its ceiling (< 0.95)",
                  -3.0 * ramp(1 - low, 0.04, 0.1))
        if finite(c.loss_drop_second_half):
            w.add("training loss drop in the second half", round(c.loss_drop_second_half, 4),
                  "the loss keeps refining confidence: > 0.3", 1.0 * ramp(c.loss_drop_second_half, 0.1, 0.4))
        if err > 0.05:
            w.add(f"{monitor} headroom", round(err, 4), "against: far from the ceiling (> 0.05)", -3.0)
        return w
