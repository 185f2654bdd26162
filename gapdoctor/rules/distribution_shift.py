"""distribution_shift: validation data come from a different distribution than training."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.classes import label_counts
from gapdoctor.analysis.context import Context
from gapdoctor.analysis.features import AFFINE_SIZE, AUC_DIFFERENT, AUC_SAME, AUC_VANISHED
from gapdoctor.analysis.integrity import (
    FAR_FACT,
    FAR_RANGE,
    HARD_FACT,
    INTEGRITY_FACT,
    INTEGRITY_RANGE,
)
from gapdoctor.analysis.tokens import NEW_FILL_FACT, NEW_FILL_RANGE
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp
from gapdoctor.rules.evidence import Ramp

E = "distribution_shift."
DOMAIN = Ramp(E + "domain", "domain classifier AUC (train vs validation inputs)", AUC_SAME, AUC_DIFFERENT, 4.0,
              "0.5 means one distribution; a classifier that tells the splits apart sees a shift")
REPR_DOMAIN = Ramp(E + "repr_domain", "splits told apart by their nearest neighbours in the model's "
                   "representation (ROC AUC)", AUC_DIFFERENT, 0.95, 3.0,
                   "the model itself places validation inputs apart from training ones (a stretched signal, "
                   "a zoomed image) where a classifier on raw inputs may not; below the input classifier's "
                   "weight because a model separates the rows it fitted a little (about 0.65 at most on "
                   "alike inputs in the fresh sets)")
SAME = Ramp(E + "same", "domain classifier AUC (inputs indistinguishable)", AUC_SAME, 0.5, -1.5,
            "inputs a classifier cannot tell apart")
KS = Ramp(E + "ks", "features whose distribution differs (KS, FDR 5%)", 0.1, 0.5, 1.0,
          "share of features that moved")
REF_DROP = Ramp(E + "ref_drop", "reference model: training CV accuracy minus validation accuracy", 0.05, 0.15, 1.5,
                "the gap exists for any model fitted on training data")
LABEL_TVD = Ramp(E + "label_tvd", "label distribution distance (total variation)", 0.05, 0.2, 1.5,
                 "0.1 of probability mass moved between classes is beyond sampling noise for >= 200 samples")
AFFINE = Ramp(E + "affine", "domain AUC after standardising each split on its own", AUC_SAME, AUC_VANISHED, -3.0,
              "a difference that vanishes under a per-feature scale/offset is preprocessing, not new data")
REORDERED = Ramp(E + "reordered", "cost of pairing validation columns with their own training columns, "
                 "best pairing / own pairing, over the same for two halves of training", 0.7, 0.4, -3.0,
                 "columns reordered between splits are a pipeline bug, not new data (1: no better "
                 "than two halves of training; the lowest development run without reordering: 0.76)")
REORDER_REGAINED = Ramp(E + "reorder_regained", "reference accuracy regained by putting validation columns "
                        "in the order that matches training", 0.05, 0.2, -2.0,
                        "new data does not get better by moving its columns: a reordering does")
COLLAPSED = Ramp(E + "collapsed", "validation rows whose inputs take at most two distinct values, share "
                 "beyond the training share", 0.02, 0.1, -3.0,
                 "erased rows (a failed decode, a cast) tell the splits apart without any new data: "
                 "a broken step, not a shift")
INTEGRITY = Ramp(E + "integrity", INTEGRITY_FACT, *INTEGRITY_RANGE, -1.5,
                 "a parse, cast, byte order or unit on the validation path breaks columns; a changed "
                 "world moves their values (a coarse instrument or a dead sensor can break them too: "
                 "less than erased rows count)")
HARD_BREAK = Ramp(E + "hard_break", HARD_FACT, 0, 1, -2.0,
                  "a changed world moves values, it does not pin a varying field to one value or "
                  "carry it past twice its training range: a parse, unit or origin on the "
                  "validation path does")
FAR_VALUES = Ramp(E + "far_values", FAR_FACT, *FAR_RANGE, -2.0,
                  "a changed world lifts some input values past twice training's range, not a fifth "
                  "of them: a byte order, a decode or a scale on the validation path does")
NEW_FILL = Ramp(E + "new_fill", NEW_FILL_FACT, *NEW_FILL_RANGE, -1.0,
                "new data changes which tokens a sequence holds, not the id it is padded with; "
                "half the bug's weight: texts much shorter than training's, which is never "
                "padded, fill with an id its sequences hardly end in")
NO_SIGNAL_LEFT = Ramp(E + "no_signal_left", "validation above chance (best accuracy or ROC AUC, the further), "
                      "while training fits (share of the possible)", 0.25, 0.1, -3.0,
                      "a changed world blurs the link between inputs and labels but seldom erases it: "
                      "where inputs differed and training fitted, validation sat within 20% of chance "
                      "in 2 of 65 shifts and 18 of 42 pipeline bugs of the benchmark sets (a likelihood ratio near 14)")
REGAINED = Ramp(E + "regained", "reference accuracy regained by standardising each split", 0.1, 0.3, -2.0,
                "undoing a per-split scale restores validation: a preprocessing mismatch")


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
            w.use(DOMAIN, f.domain_auc, shown=f.domain_read(f"{f.domain_auc:.3f}"))
            w.use(SAME, f.domain_auc)
            self._representation_apart(w, ctx, f.domain_auc)
            w.use(KS, f.shifted_fraction)
            if finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
                drop = f.ref_cv_accuracy - f.ref_val_accuracy
                w.use(REF_DROP, drop, shown=f.reference_read(f"{drop:.3f}"))
            self._against_affine(w, f)
            excess, trust, why = ctx.collapsed_excess
            if finite(excess):
                w.use(COLLAPSED, excess, gate=trust, gate_reason=why)
            if ctx.integrity is not None:
                w.use(INTEGRITY, ctx.integrity.share, shown=ctx.integrity.describe())
                if ctx.integrity.n_hard:
                    w.use(HARD_BREAK, ctx.integrity.n_hard, shown=ctx.integrity.describe())
            if ctx.new_fill is not None:
                w.use(NEW_FILL, ctx.new_fill, shown=f"{ctx.new_fill:.1%} of validation sequences")
            if ctx.far_values is not None:
                w.use(FAR_VALUES, ctx.far_values, shown=f"{ctx.far_values:.1%} of validation input values")
            self._off_support(w, ctx)
            if ctx.fits_training and w.use(NO_SIGNAL_LEFT, ctx.val_above_chance,
                                            shown=f"{ctx.val_above_chance:.2f}"):
                w.facts["signal_left"] = ctx.val_above_chance
            found = ctx.column_reorder
            if found is not None and found.moved >= 2:
                w.use(REORDERED, found.ratio, shown=f"{found.ratio:.2f} ({found.moved} columns would move)")
                w.use(REORDER_REGAINED, found.regained, shown=f"{found.regained:+.2f}",
                      gate=found.trust, gate_reason=found.trust_reason)
        w.use(LABEL_TVD, tvd)
        return w

    @staticmethod
    def _off_support(w: Weighing, ctx: Context) -> None:
        """Which validation rows differ: shown, not weighed (the domain classifier already
        counts the difference); named so the user can look at them."""
        found = ctx.off_support
        if found is None:
            return
        w.note(f"validation rows with no training row near them (none among their {found.k} "
               "nearest neighbours, or twice as far as training rows lie from each other)",
               found.n_off, found.described())
        # a few rows beyond chance is no finding to act on: name rows only past 3x chance
        if found.n_off >= max(3.0, 3 * found.expected):
            w.facts.update(off_support=found.described(), off_support_count=found.n_off,
                           off_support_share=found.share, off_support_rows=found.rows)

    @staticmethod
    def _representation_apart(w: Weighing, ctx: Context, input_auc: float) -> None:
        """The model's own representation tells the splits apart, counted as far as the
        classifier on raw inputs does not already (one shift, not two)."""
        fact = ctx.split_neighbours
        if fact is None or not finite(fact.domain_auc):
            return
        unseen = 1 - ramp(input_auc, AUC_SAME, AUC_DIFFERENT) if finite(input_auc) else 1.0
        w.use(REPR_DOMAIN, fact.domain_auc, gate=unseen,
              gate_reason=f"input domain classifier AUC {input_auc:.2f} (none from {AUC_DIFFERENT})")

    @staticmethod
    def _against_affine(w: Weighing, f) -> None:
        if not finite(f.domain_auc) or f.domain_auc < AUC_SAME:
            return
        size = (f.scale_change if finite(f.scale_change) else 0) + (f.offset_change if finite(f.offset_change) else 0)
        big = ramp(size, AFFINE_SIZE[0], AFFINE_SIZE[1])
        w.use(AFFINE, f.domain_auc_standardized, gate=big,
              gate_reason=f"per-feature scale+offset change {size:.2f} (full from {AFFINE_SIZE[1]} s.d.)")
        if finite(f.domain_auc_standardized):
            # only when standardising also makes the splits indistinguishable: shrinking added
            # noise by a per-split scale regains accuracy too
            vanished = 1 - ramp(f.domain_auc_standardized, AUC_VANISHED, AUC_SAME)
            w.use(REGAINED, f.ref_val_accuracy_realigned - f.ref_val_accuracy, gate=vanished,
                  gate_reason=f"standardised domain AUC {f.domain_auc_standardized:.2f} (full below {AUC_VANISHED})")
