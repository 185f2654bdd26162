"""label_noise: wrong training labels; the model lowers its loss by memorising them."""

from __future__ import annotations

from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


class LabelNoiseRule(Rule):
    cause = "label_noise"
    requires_any = ("margins", "val_curves")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-2.5)
        m, f = ctx.margins, ctx.features
        if m is None:
            w.cap, w.variant = 0.75, "curves"  # curves alone cannot name the samples
            w.facts["confidence_note"] = "no per-sample margins were recorded"
        else:
            w.facts.update(noise_rate=m.flagged_fraction, n_probe=m.n,
                           n_flagged=int(m.flagged.sum()), suspects=m.suspects,
                           suspect_indices=", ".join(str(s["index"]) for s in m.suspects[:10]))
            w.note("training samples with negative area under the margin", round(m.flagged_fraction, 4),
                   "the estimated noise rate")
            # Hard samples fail on validation as often as they are flagged in training; an
            # excess of 3 points is beyond sampling noise of a 512-sample probe (+-2 points).
            excess = ctx.noise_excess
            if finite(excess):
                w.add("flagged training share minus validation error rate", round(excess, 4),
                      "training labels disagree more than validation ones: strong from 0.12",
                      4.0 * ramp(excess, 0.03, 0.12))
            else:
                w.add("training samples with negative area under the margin", round(m.flagged_fraction, 4),
                      "strong from 0.2 (validation error unknown)", 3.0 * ramp(m.flagged_fraction, 0.1, 0.2))
            if finite(m.flagged_learned_late) and m.flagged_fraction > 0.05:
                w.add("flagged samples fitted only late in training", round(m.flagged_learned_late, 4),
                      "memorised after the rest: > 0.3", 0.6 * ramp(m.flagged_learned_late, 0.2, 0.5))
            self._against_concentration(w, m, ctx)
        # Noisy labels keep training accuracy (scored on given labels) below clean validation;
        # dropout or augmentation alone rarely cost more than a few points.
        lag, how = ctx.train_val_lag
        if finite(lag):
            noise = ctx.lag_noise if finite(ctx.lag_noise) else 0.02
            # 2 standard errors: a lead the sizes of the two samples cannot explain
            w.add(f"validation accuracy ahead of training ({how})", round(lag, 4),
                  f"the model keeps disagreeing with part of the training labels: > {2 * noise:.3f} (2 s.e.)",
                  (3.0 if m is None or how.startswith("eval") else 1.5) * ramp(lag / noise, 2.0, 4.0))
        if f is not None and finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
            lead = f.ref_val_accuracy - f.ref_cv_accuracy
            w.add("reference model: validation accuracy minus training CV accuracy", round(lead, 4),
                  "a simple model agrees less with training labels than with validation ones: > 0.05",
                  2.0 * ramp(lead, 0.02, 0.1))
        self._against_chance(w, ctx)
        return w

    def _against_concentration(self, w: Weighing, m, ctx: Context) -> None:
        classes = ctx.classes
        if m.flagged_fraction < 0.05 or classes is None or not classes.lagging:
            return
        overlap = len(set(m.top_flagged_classes) & set(classes.lagging)) / max(1, len(classes.lagging))
        if m.flagged_class_concentration > 0.6 and overlap >= 0.5:
            w.add("flagged samples concentrated in the classes that lag on validation",
                  round(m.flagged_class_concentration, 3),
                  "against: a slice the model cannot learn, not scattered wrong labels",
                  -2.5 * ramp(m.flagged_class_concentration, 0.5, 0.8))

    def _against_chance(self, w: Weighing, ctx: Context) -> None:
        m, n = ctx.margins, ctx.n_classes
        if m is not None and n >= 2:
            chance_noise = 1 - 1 / n
            w.add("estimated noise rate relative to shuffled labels", round(m.flagged_fraction / chance_noise, 3),
                  "against: near 1 means labels are not noisy but out of line with inputs",
                  -5.0 * ramp(m.flagged_fraction / chance_noise, 0.7, 0.9))
        val_acc = ctx.val_accuracy_series()
        if len(val_acc) and finite(ctx.chance):
            above = (float(val_acc.max()) - ctx.chance) / max(1e-6, 1 - ctx.chance)
            w.add("best validation accuracy above chance (share of the possible)", round(above, 4),
                  "against: validation at chance points to a pipeline bug or a shift",
                  -3.0 * (1 - ramp(above, 0.15, 0.35)))
