"""overfitting: the model memorises the training set while validation stops improving."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


class OverfittingRule(Rule):
    cause = "overfitting"
    requires = ("curve:loss", "val_curves")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        c = ctx.curves
        w = Weighing(prior=-3.0)
        w.facts.update(gap=c.gap, val_loss_rise=c.val_loss_rise, best_epoch=c.best_epoch,
                       epochs_past_best=c.epochs_past_best, monitor=c.monitor,
                       best_value=c.best_value, train_metric_last=c.train_metric_last,
                       val_loss_min_epoch=c.val_loss_min_epoch, n_epochs=c.n_epochs)
        # A gap of 3 points is what a well-regularised model shows; 15 points is memorisation.
        if finite(c.gap):
            w.add("train-minus-validation gap (last 3 epochs)", round(c.gap, 4),
                  "strong from 0.15, none below 0.03", 2.5 * ramp(c.gap, 0.03, 0.15))
        # Validation loss 10-40% above its minimum: past the turning point, not noise.
        if finite(c.val_loss_rise):
            w.add("validation loss above its minimum", round(c.val_loss_rise, 4),
                  "relative rise; strong from 0.4", 1.5 * ramp(c.val_loss_rise, 0.1, 0.4))
        if finite(c.loss_last) and c.loss_last > 0 and finite(c.val_loss_last):
            ratio = c.val_loss_last / c.loss_last
            w.facts["loss_ratio"] = ratio
            # Healthy runs end with validation loss 1-2x the training loss; 30x is memorisation.
            w.add("validation loss / training loss (last epochs)", round(ratio, 2),
                  "strong from 30, none below 3", 1.5 * ramp(np.log10(max(ratio, 1e-9)), np.log10(3), np.log10(30)))
        if finite(c.loss_drop_after_val_best) and finite(c.val_loss_rise) and c.val_loss_rise > 0.05:
            w.add("training loss drop after the best validation loss", round(c.loss_drop_after_val_best, 4),
                  "training keeps improving after validation stopped: > 0.5",
                  0.8 * ramp(c.loss_drop_after_val_best, 0.3, 0.7))
        if finite(c.train_metric_last) and c.mode == "max" and c.train_metric_last <= 1.0:
            w.add("training metric (last 3 epochs)", round(c.train_metric_last, 4),
                  "near-perfect fit of the training set: >= 0.98",
                  0.7 * ramp(c.train_metric_last, 0.95, 0.99) if finite(c.gap) and c.gap > 0.03 else 0)
        if c.n_epochs >= 6 and c.best_epoch is not None and finite(c.gap) and c.gap > 0.03:
            frac = c.epochs_past_best / c.n_epochs
            w.add("share of epochs after the best validation epoch", round(frac, 3),
                  "validation stopped improving early: > 0.3", 0.6 * ramp(frac, 0.2, 0.5))
        data = run.meta.get("data") or {}
        n_params = (run.meta.get("model") or {}).get("n_params")
        if n_params and data.get("n_train"):
            ratio = n_params / max(1, data["n_train"])
            w.facts["params_per_sample"] = ratio
            w.add("parameters per training sample", round(ratio, 1),
                  "capacity far beyond the data: > 50", 1.5 * ramp(ratio, 20, 100))
        self._against(w, ctx)
        return w

    def _against(self, w: Weighing, ctx: Context) -> None:
        f, c = ctx.features, ctx.curves
        if finite(ctx.noise_excess):
            w.add("flagged training share minus validation error rate", round(ctx.noise_excess, 4),
                  "against: wrong training labels explain the gap better (> 0.08)",
                  -3.0 * ramp(ctx.noise_excess, 0.04, 0.12))
        lag, how = ctx.train_val_lag
        if finite(lag) and lag > 0.03:
            w.add(f"validation accuracy ahead of training ({how})", round(lag, 4),
                  "against: a memorising model is ahead on training, not behind", -2.0 * ramp(lag, 0.03, 0.08))
        if f is not None and finite(f.domain_auc):
            w.add("domain classifier AUC (train vs validation inputs)", round(f.domain_auc, 3),
                  "against: the splits differ when > 0.7", -2.5 * ramp(f.domain_auc, 0.65, 0.8))
        if f is not None and finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
            drop = f.ref_cv_accuracy - f.ref_val_accuracy
            w.add("reference model: training CV accuracy minus validation accuracy", round(drop, 4),
                  "against: a simple model fitted on training data also drops on validation when > 0.1",
                  -2.0 * ramp(drop, 0.06, 0.2))
        interval = ctx.val_interval
        if interval is not None and finite(c.gap) and c.gap > 0 and c.mode == "max":
            half = (interval[3] - interval[2]) / 2
            # a gap inside the validation metric's own 95% interval is not established
            w.add("train-validation gap / half-width of the validation 95% interval",
                  round(c.gap / max(half, 1e-6), 2), f"against: below 2.5 (n_val={interval[0]})",
                  -2.0 * (1 - ramp(c.gap / max(half, 1e-6), 1.0, 2.5)))
        k = ctx.classes
        if k is not None and k.lagging and finite(k.lagging_gap_share):
            share = len(k.lagging) / max(1, len(k.recall))
            # Memorisation spreads over classes; a gap that sits in a few classes is a slice.
            w.add("share of the train-validation gap in the lagging classes", round(k.lagging_gap_share, 3),
                  f"against: {len(k.lagging)} of {len(k.recall)} classes hold most of the gap",
                  -3.0 * ramp(k.lagging_gap_share - share, 0.2, 0.45))
        val_acc = ctx.val_accuracy_series()
        if len(val_acc) and finite(ctx.chance):
            best = float(val_acc.max())
            span = max(1e-6, 1 - ctx.chance)
            w.add("best validation accuracy above chance", round(best - ctx.chance, 4),
                  "against: a model that never beats chance on validation is not overfitting",
                  -3.0 * (1 - ramp((best - ctx.chance) / span, 0.1, 0.3)))
        if finite(c.loss_drop) and c.loss_drop < 0.3:
            w.add("training loss drop over the run", round(c.loss_drop, 4),
                  "against: the model barely fits the training set (< 0.3)", -2.0)
