"""small_validation_set: the validation metric is too noisy to show progress."""

from __future__ import annotations

from gapdoctor.analysis.accuracy import estimate_n_from_steps
from gapdoctor.analysis.context import Context
from gapdoctor.analysis.curves import series
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite
from gapdoctor.rules.evidence import Ramp

E = "small_validation_set."
HALF_WIDTH = Ramp(E + "half_width", "95% interval half-width of validation accuracy", 0.05, 0.10, 3.5,
                  "+-10 points is 60 samples at 80% accuracy, the top of the 10-60 a small set means; "
                  "+-5 points, four times as many samples, resolves the changes people act on")
JITTER = Ramp(E + "jitter", "epoch-to-epoch jitter of the monitored metric / interval half-width", 0.3, 0.8, 0.8,
              "changes within the interval are noise")
GAP_INSIDE = Ramp(E + "gap_inside", "train-minus-validation gap / interval half-width", 2.5, 1.0, 0.7,
                  "a gap inside the interval is not established")
FEW_PER_CLASS = Ramp(E + "few_per_class", "classes with fewer than 5 validation samples", 0, 2, 0.8,
                     "per-class metrics unusable")
RESOLUTION = Ramp(E + "resolution", "accuracy points one validation sample moves (100 / n)", 0.42, 1.67, 2.5,
                   "a small set holds 10-60 samples, 1.7 points a sample and more: a few samples' luck "
                   "outweighs an epoch's progress even where the interval narrows at the ceiling; at "
                   "240 samples one is under half a point")
LARGE = Ramp(E + "large", "validation samples", 1000, 1000, -3.0,
             "a thousand samples bound the interval by +-3 points; more is never the problem")


class SmallValidationSetRule(Rule):
    cause = "small_validation_set"
    requires = ("val_curves",)

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-2.5)
        c, monitor = ctx.curves, ctx.monitor
        n = ctx.n_val
        acc = ctx.val_accuracy_series()
        if n is None and len(acc):
            n = estimate_n_from_steps(acc.to_numpy())
            if n is not None:
                w.note("validation size inferred from the steps of the accuracy curve", n,
                       "every value is a multiple of 1/n")
        if n is None:
            w.cap = 0.6
            w.facts["confidence_note"] = "the validation set size is unknown"
            return w
        interval = ctx.val_interval
        if interval is None and not len(acc):
            # no accuracy recorded (a regression, say): a proportion's interval does not
            # apply, and the monitored value is no accuracy to put one around
            w.cap = 0.6
            w.facts["confidence_note"] = "no accuracy is recorded, so its interval is unknown"
            w.facts["n_val"] = n
            w.use(LARGE, n)
            return w
        if interval is None or interval[0] != n:
            from scipy import stats  # lazy: keeps `import gapdoctor` fast

            p = min(max(c.best_value if finite(c.best_value) else 0.5, 0.0), 1.0)
            ci = stats.binomtest(int(round(p * n)), n).proportion_ci(method="wilson")
            interval = (n, p, float(ci.low), float(ci.high))
        _, p, low, high = interval
        half = max((high - low) / 2, 1e-6)
        w.facts.update(n_val=n, ci_low=low, ci_high=high, ci_half=half, accuracy=p)
        w.use(HALF_WIDTH, half, name=f"95% interval half-width of validation accuracy (Wilson, n={n})")
        if finite(c.metric_jitter) and c.metric_jitter > 0:
            w.use(JITTER, c.metric_jitter / half)
        if finite(c.gap) and c.gap > 0:
            w.use(GAP_INSIDE, c.gap / half)
        k = ctx.classes
        if k is not None and len(k.support):
            w.use(FEW_PER_CLASS, int((k.support < 5).sum()))
        if ctx.n_val is not None:  # an n read off the curve's steps is the smallest that fits
            w.use(RESOLUTION, 100.0 / n)
        w.use(LARGE, n)
        if monitor:
            w.facts["monitor_values"] = len(series(run.curves, monitor))
        return w
