"""distribution_shift: validation data come from a different distribution than training."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


def label_shift(run: RunRecord) -> float:
    """Total variation distance between train and validation label distributions (NaN if unknown)."""
    tr, va = label_counts(run, "train"), label_counts(run, "val")
    if tr is None or va is None or tr.sum() == 0 or va.sum() == 0:
        return float("nan")
    n = max(len(tr), len(va))
    tr, va = np.pad(tr, (0, n - len(tr))), np.pad(va, (0, n - len(va)))
    p, q = tr / tr.sum(), va / va.sum()
    return float(0.5 * np.abs(p - q).sum())


class DistributionShiftRule(Rule):
    cause = "distribution_shift"
    requires_any = ("x_val", "meta:data")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-2.5)
        f = ctx.features
        tvd = label_shift(run)
        w.facts["label_tvd"] = tvd
        if f is None:
            w.cap = 0.7
            w.facts["confidence_note"] = "no input samples were recorded; only labels compared"
        else:
            w.facts.update(domain_auc=f.domain_auc, shifted_fraction=f.shifted_fraction,
                           ref_cv=f.ref_cv_accuracy, ref_val=f.ref_val_accuracy)
            # Two samples of one distribution give AUC 0.5 +- 0.03 at these sizes.
            w.add("domain classifier AUC (train vs validation inputs)", round(f.domain_auc, 3),
                  "0.5 = same distribution; strong from 0.8", 4.0 * ramp(f.domain_auc, 0.6, 0.8))
            w.add("features whose distribution differs (KS, FDR 5%)", round(f.shifted_fraction, 3),
                  "share of features; strong from 0.5", 1.0 * ramp(f.shifted_fraction, 0.1, 0.5))
            if finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
                drop = f.ref_cv_accuracy - f.ref_val_accuracy
                w.add("reference model: training CV accuracy minus validation accuracy", round(drop, 4),
                      "the gap exists for any model fitted on training data: > 0.1",
                      1.5 * ramp(drop, 0.05, 0.15))
            if finite(f.domain_auc) and f.domain_auc < 0.6:
                w.add("inputs indistinguishable", round(f.domain_auc, 3), "against: AUC < 0.6", -1.5)
            self._against_affine(w, f)
        if finite(tvd):
            # 0.1 of probability mass moved between classes is beyond sampling noise for >= 200 samples.
            w.add("label distribution distance (total variation)", round(tvd, 4),
                  "train vs validation label mix; from 0.1", 1.5 * ramp(tvd, 0.05, 0.2))
        return w

    def _against_affine(self, w: Weighing, f) -> None:
        if not finite(f.domain_auc) or f.domain_auc < 0.7:
            return
        recovered = f.ref_val_accuracy_realigned - f.ref_val_accuracy
        if finite(f.domain_auc_standardized):
            w.add("domain AUC after standardising each split on its own", round(f.domain_auc_standardized, 3),
                  "against: the difference vanishes under a per-feature affine map (< 0.6)",
                  -3.0 * (1 - ramp(f.domain_auc_standardized, 0.55, 0.7)) * ramp(f.scale_change + f.offset_change, 0.5, 1.5))
        if finite(recovered) and finite(f.domain_auc_standardized):
            # only when standardising also makes the splits indistinguishable: shrinking added
            # noise by a per-split scale regains accuracy too
            w.add("reference accuracy regained by standardising each split", round(recovered, 4),
                  "against: a preprocessing mismatch, not new data (> 0.2)",
                  -2.0 * ramp(recovered, 0.1, 0.3) * (1 - ramp(f.domain_auc_standardized, 0.55, 0.7)))
