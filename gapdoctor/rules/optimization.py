"""optimization: the optimiser, not the data — learning rate, oscillation, exploding or
vanishing gradients, dead units."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


class OptimizationRule(Rule):
    cause = "optimization"
    requires = ("curve:loss",)

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        c = ctx.curves
        lr = self._lr(run)
        w.facts.update(lr=lr, loss_up_fraction=c.loss_up_fraction, loss_spike=c.loss_spike,
                       loss_drop=c.loss_drop)
        if finite(c.loss_up_fraction) and c.n_epochs >= 5:
            # Full-batch-epoch losses of a sane run fall almost every epoch; rising on 30% is not.
            w.add("epochs on which the training loss rose", round(c.loss_up_fraction, 3),
                  "oscillation: rising on 1 epoch in 3 or more", 2.0 * ramp(c.loss_up_fraction, 0.1, 0.3))
        if finite(c.loss_spike):
            w.add("largest epoch-to-epoch training loss ratio", round(c.loss_spike, 3),
                  "a spike: > 1.5", 1.0 * ramp(c.loss_spike, 1.2, 2.0))
        if finite(c.loss_drop):
            w.add("training loss drop over the run", round(c.loss_drop, 4),
                  "the optimiser barely moves the loss: < 0.2", 2.5 * (1 - ramp(c.loss_drop, 0.1, 0.3)))
        if run.meta.get("summary", {}).get("nonfinite_loss") or (
                "loss" in run.curves and not np.isfinite(run.curves["loss"].astype(float)).all()):
            w.add("non-finite training loss", "yes", "diverged", 2.5)
        self._layers(w, run)
        self._learned_nothing(w, run, ctx)
        if ctx.nonfinite_inputs:
            # NaN/inf inputs produce non-finite weights and a stalled loss by themselves: the
            # optimiser's symptoms are then consequences, not the cause.
            w.add("NaN or inf in the inputs", "yes",
                  "against: the data, not the optimiser, explains these symptoms", -4.0)
            # explained away: below the pipeline finding whatever else was seen
            w.cap = 0.6
            w.facts["confidence_note"] = "NaN/inf inputs explain the optimiser's symptoms"
        if finite(lr):
            opt = str((run.meta.get("optimizer") or {}).get("class_name", "")).lower()
            high = 0.01 if opt in ("adam", "adamw", "rmsprop", "nadam", "adamax") else 0.3
            w.add("learning rate in effect (last epoch)", lr, f"high for {opt or 'this optimiser'}: > {high}",
                  0.8 * ramp(np.log10(lr / high), 0.0, 0.7))
        if finite(c.loss_drop) and c.loss_drop > 0.8 and finite(c.loss_up_fraction) and c.loss_up_fraction < 0.1:
            w.add("smooth, large training loss decrease", round(c.loss_drop, 3),
                  "against: the optimiser works (> 80% drop, rarely rising)", -1.5)
        return w

    @staticmethod
    def _learned_nothing(w: Weighing, run: RunRecord, ctx: Context) -> None:
        """Final training loss against the loss of predicting the class frequencies."""
        counts = label_counts(run, "train")
        c = ctx.curves
        if counts is None or counts.sum() == 0 or not finite(c.loss_last) or "crossentropy" not in str(
                (run.meta.get("loss") or {}).get("name", "")).lower():
            return
        p = counts[counts > 0] / counts.sum()
        entropy = float(-(p * np.log(p)).sum())
        if entropy <= 0:
            return
        ratio = c.loss_last / entropy
        w.facts["loss_vs_prior"] = ratio
        # At >= 90% of the label entropy the network predicts little beyond class frequencies.
        w.add("final training loss / loss of predicting class frequencies", round(ratio, 3),
              "the network learned next to nothing: > 0.9", 2.5 * ramp(ratio, 0.8, 0.95))

    @staticmethod
    def _lr(run: RunRecord) -> float:
        if run.has("curve:lr"):
            return float(run.curves["lr"].dropna().iloc[-1])
        for name in ("learning_rate", "lr"):
            if run.has(f"curve:{name}"):
                return float(run.curves[name].dropna().iloc[-1])
        value = ((run.meta.get("optimizer") or {}).get("config") or {}).get("learning_rate")
        return float(value) if isinstance(value, (int, float)) else float("nan")

    @staticmethod
    def _layers(w: Weighing, run: RunRecord) -> None:
        if not run.has("layers"):
            return
        t = run.layers
        ratio = t["update_ratio"].astype(float)
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        if len(ratio):
            med = float(ratio.median())
            w.facts["update_ratio"] = med
            # Per epoch, healthy updates move weights by ~1e-3..1e-1 of their norm.
            w.add("median per-epoch update ratio |dW|/|W|", round(med, 5),
                  "steps too large: > 0.3; frozen: < 1e-5",
                  1.5 * ramp(np.log10(med), np.log10(0.15), np.log10(0.6)) + 1.0 * (1 - ramp(np.log10(med), -6, -5)))
        grad = t.pivot_table(index="epoch", columns="layer", values="grad_norm", aggfunc="mean")
        g = grad.to_numpy(float)
        if g.size and np.isfinite(g).any():
            first, last = np.nanmedian(g[0]), np.nanmedian(g[-1])
            if finite(first) and first > 0 and finite(last):
                growth = last / first
                w.add("gradient norm growth (last epoch / first)", round(growth, 3),
                      "exploding: > 10", 1.5 * ramp(np.log10(max(growth, 1e-12)), 0.5, 1.5))
            if not np.isfinite(g).all():
                w.add("non-finite gradient norms", "yes", "exploding gradients", 2.0)
            last_epoch = g[-1][np.isfinite(g[-1])]
            if len(last_epoch) >= 2 and last_epoch.max() > 0:
                smallest = float(last_epoch.min() / last_epoch.max())
                # A layer whose gradient is a millionth of another's no longer learns.
                w.add("smallest / largest layer gradient norm (last epoch)", f"{smallest:.1e}",
                      "vanishing gradients: < 1e-5",
                      1.5 * ramp(-np.log10(max(smallest, 1e-30)), 4.0, 6.0))
        dead = t.groupby("layer")["dead_fraction"].mean().astype(float).dropna()
        if len(dead):
            worst = float(dead.max())
            w.facts.update(dead_fraction=worst, dead_layer=str(dead.idxmax()))
            # Over half the units of a layer never firing: capacity lost, usually after large steps.
            w.add(f"dead ReLU units in '{dead.idxmax()}' (mean over epochs)", round(worst, 3),
                  "> 0.5 of the layer never fires; all of it passes no signal",
                  2.0 * ramp(worst, 0.4, 0.8) + 1.5 * ramp(worst, 0.9, 0.99))
        if "nonfinite" in t and (t["nonfinite"].astype(float) > 0).any():
            w.facts["nonfinite_layers"] = ", ".join(sorted(t.loc[t["nonfinite"] > 0, "layer"].astype(str).unique()))
            w.add("layers whose weights or gradients became NaN/inf", w.facts["nonfinite_layers"],
                  "the run diverged", 2.5)
