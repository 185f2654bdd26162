"""metric_mismatch: the loss improves what the monitored metric does not reward."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.context import Context
from gapdoctor.analysis.curves import flat_stretch, series
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


def _frozen_metric_config(run: RunRecord, monitor: str) -> str | None:
    """A metric configuration that cannot move, e.g. F1Score(threshold=None) on one output."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    outputs = run.meta.get("n_outputs") or ((run.meta.get("model") or {}).get("n_outputs"))
    single = outputs == 1 or run.meta.get("task") == "binary"
    for metric in run.meta.get("metrics") or []:
        if not isinstance(metric, dict) or metric.get("name") != name:
            continue
        config = metric.get("config") or {}
        cls = str(metric.get("class_name", ""))
        if "threshold" in config and config.get("threshold") is None and single and "F" in cls:
            return f"{cls}(threshold=None) on a single output marks every sample positive"
        if cls == "Accuracy":
            return "keras.metrics.Accuracy compares values exactly, not the arg-max class"
    return None


class MetricMismatchRule(Rule):
    cause = "metric_mismatch"
    requires = ("curve:val_loss",)

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        c, monitor = ctx.curves, ctx.monitor
        w.facts.update(monitor=monitor)
        if not monitor or monitor == "val_loss":
            w.add("monitored metric", monitor or "none", "only the loss is logged: nothing to mismatch", -2.0)
            return w
        vloss, metric = series(run.curves, "val_loss"), series(run.curves, monitor)
        vloss_gain = 1 - float(vloss.min()) / float(vloss.iloc[0]) if len(vloss) and vloss.iloc[0] > 0 else np.nan
        w.facts.update(val_loss_gain=vloss_gain, metric_gain=c.metric_gain, metric_first=c.first_value,
                       metric_best=c.best_value)
        stretch = flat_stretch(metric, vloss)
        if stretch is not None and stretch.length >= 3:
            share = stretch.length / len(metric)
            # a metric stuck far below its ceiling, not a converged one (for bounded metrics)
            headroom = 1 - stretch.level if c.mode == "max" and stretch.level <= 1 else 1.0
            w.facts.update(stretch_epochs=stretch.length, stretch_start=stretch.start,
                           stretch_gain=stretch.loss_gain, stretch_level=stretch.level)
            w.add("longest stretch with the metric flat (within 0.02) while validation loss improves",
                  f"{stretch.length} of {len(metric)} epochs, loss -{stretch.loss_gain:.0%}, metric {stretch.level:.3f}",
                  "a quarter of the run or more, loss down >= 20%, metric far from its ceiling",
                  3.0 * ramp(share, 0.25, 0.5) * ramp(stretch.loss_gain, 0.1, 0.3) * ramp(headroom, 0.15, 0.3))
        if len(metric) >= 3 and float(metric.max() - metric.min()) < 1e-6:
            w.add("monitored metric range over the run", 0.0, "a metric that never changes", 2.0)
        frozen = _frozen_metric_config(run, monitor)
        if frozen:
            w.variant = "frozen"
            w.facts["frozen_reason"] = frozen
            w.add("metric configuration", frozen, "a configuration that cannot reward learning", 2.5)
        own = ctx.val_accuracy_series()
        if len(own) >= 3 and finite(c.metric_gain) and "acc" not in monitor:
            own_gain = float(own.max() - own.iloc[0])
            w.add("arg-max validation accuracy gain (measured by gapdoctor)", round(own_gain, 4),
                  "the model improves on a standard metric while the monitored one does not",
                  1.5 * ramp(own_gain - abs(c.metric_gain), 0.05, 0.2))
        classes = ctx.classes
        if classes is not None and finite(classes.f1_best_threshold):
            w.variant = w.variant if frozen else "threshold"
            gain = classes.f1_best_threshold - classes.f1_at_half
            w.facts.update(f1_at_half=classes.f1_at_half, f1_best=classes.f1_best_threshold,
                           best_threshold=classes.best_threshold, positive_share=classes.positive_share)
            w.add("F1 at the best threshold minus F1 at 0.5 (last epoch)", round(gain, 4),
                  "a tuned threshold recovers what 0.5 misses: > 0.1", 2.5 * ramp(gain, 0.05, 0.2))
            if finite(classes.positive_share):
                w.add("share of positives in validation", round(classes.positive_share, 4),
                      "imbalance makes 0.5 a poor threshold: < 0.2", 0.5 * (1 - ramp(classes.positive_share, 0.1, 0.3)))
        ece = self._ece(run)
        if finite(ece):
            w.add("expected calibration error (validation, last epoch)", round(ece, 4),
                  "probabilities far from frequencies: > 0.1", 0.5 * ramp(ece, 0.05, 0.15))
        return w

    @staticmethod
    def _ece(run: RunRecord) -> float:
        if not run.has("split_metrics"):
            return float("nan")
        val = run.split_metrics[run.split_metrics["split"] == "val"]
        return float(val["ece"].dropna().iloc[-1]) if "ece" in val and val["ece"].notna().any() else float("nan")
