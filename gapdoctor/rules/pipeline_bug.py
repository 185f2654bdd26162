"""pipeline_bug: the code is wrong — misaligned labels, split-specific preprocessing,
leakage, train/eval-mode discrepancies, non-finite values, a loss/activation mismatch."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.context import Context
from gapdoctor.analysis.features import (
    AFFINE_SIZE,
    AUC_DIFFERENT,
    AUC_SAME,
    AUC_VANISHED,
    FeatureFacts,
)
from gapdoctor.analysis.label_agreement import inputs_alike
from gapdoctor.analysis.renaming import RENAMED_FACT, RENAMED_RANGE, renaming_trust
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Tags, Weighing, finite, ramp
from gapdoctor.rules.evidence import Ramp
from gapdoctor.rules.pipeline_inference import (  # noqa: F401  (declared here too: one rule, one page)
    BATCH_ORDER,
    EVAL_MODE,
    INFERENCE_GAP,
    MIN_EFFECT,
    RANDOM_INFERENCE,
    weigh_batch_order,
    weigh_eval_mode,
)
from gapdoctor.rules.pipeline_inputs import (  # noqa: F401  (declared here too: one rule, one page)
    COLLAPSED,
    INTEGRITY,
    weigh_collapsed,
    weigh_far_values,
    weigh_integrity,
    weigh_new_fill,
)

E = "pipeline_bug."
NONFINITE = Ramp(E + "nonfinite", "rows with NaN or inf inputs", 1, 1, 7.0,
                 "one bad row poisons every weight it reaches; nothing else needs to be wrong")
VAL_AT_CHANCE = Ramp(E + "val_at_chance", "validation above chance (best accuracy or ROC AUC, the further), while training fits (share of the possible)",
                     0.25, 0.1, 3.5, "validation within 10% of the way from chance to perfect while training fits")
NO_SIGNAL = Ramp(E + "no_signal", "ROC AUC of reference models (linear and nearest-neighbour, CV, training labels) and of the network (validation), the largest",
                 0.6, 0.55, 3.5, "neither ranks better than chance: the training labels do not line up with the inputs")
REF_ONLY_TRAIN = Ramp(E + "ref_only_train", "reference model: validation accuracy as a share of its training CV accuracy (above chance)",
                      0.5, 0.2, 3.5, "inputs look alike, yet a simple model that predicts training labels "
                      "well fails on validation labels: they do not line up with their inputs")
REF_RANK_ONLY_TRAIN = Ramp(E + "ref_rank_only_train", "reference model: validation ROC AUC above 0.5 as a share of its training CV ROC AUC above 0.5",
                           0.5, 0.2, 3.5, "inputs look alike, yet a simple model that ranks training labels "
                           "fails to rank validation labels: they do not line up with their inputs (read where "
                           "accuracy cannot leave the majority rate: weak or imbalanced signal)")
ROW_OFFSET = Ramp(E + "row_offset", "predictions agree with a neighbouring row's label more than with "
                  "their own, from some row on (McNemar z)", 5.0, 10.0, 6.0,
                  "a model at chance reaches z 3.5 at most over every start row and shift; "
                  "from 10 the labels were shifted against their inputs")
AFFINE = Ramp(E + "affine", "domain AUC raw, when it vanishes after standardising each split", AUC_SAME, AUC_DIFFERENT, 4.0,
              "a per-feature scale/offset applied to one split only")
INPUTS_DIFFER = Ramp(E + "inputs_differ", "domain classifier AUC (train vs validation inputs), where no "
                     "per-split transform explains it", AUC_SAME, AUC_DIFFERENT, 1.0,
                     "a step of the validation input path (decode, cast, byte order, encoding, "
                     "filter) leaves inputs a classifier tells apart, as a shift does: on our blind "
                     "sets 26 of 60 shift verdicts were such bugs. A quarter of the shift's weight "
                     "keeps the bug in view without outranking a shift on this alone")
REGAINED = Ramp(E + "regained", "reference accuracy regained by standardising each split", 0.05, 0.2, 1.5,
                "undoing the scale/offset restores validation")
REORDERED = Ramp(E + "reordered", "cost of pairing validation columns with their own training columns, "
                 "best pairing / own pairing, over the same for two halves of training", 0.7, 0.4, 4.5,
                 "validation columns match other training columns far better than their own: "
                 "the columns were reordered between splits (1: no better than two halves of training; "
                 "the lowest development run without reordering: 0.76)")
REORDER_REGAINED = Ramp(E + "reorder_regained", "reference accuracy regained by putting validation columns "
                        "in the order that matches training", 0.05, 0.2, 3.0,
                        "the practitioner's check: the same model scores better once the columns are put back")
LEAKAGE = Ramp(E + "leakage", "validation samples also in training (exact duplicates), share beyond the "
               "rate at which training rows repeat each other", 0.02, 0.1, 5.0,
               "counted, not inferred: 10% of validation in training beyond the data's own repeats is "
               "a split bug; discrete features repeat whole rows without any leak")
LOGITS = Ramp(E + "logits", "output activation vs the loss's from_logits", 1, 1, 3.5,
              "the loss is computed on the wrong quantity")


RENAMED = Ramp(E + "renamed", RENAMED_FACT, *RENAMED_RANGE, 2.0,
               "a model that recognises every validation class under another name read validation "
               "labels encoded in another class order (a refitted encoder, ids off by one), when the "
               "inputs are alike; as strong as a misaligned reference model")


class PipelineBugRule(Rule):
    cause = "pipeline_bug"
    requires_any = ("curves", "x_val", "meta:loss")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        tags = Tags()
        self._nonfinite(w, ctx, tags)  # first: it explains everything downstream of it
        self._misaligned(w, ctx, tags)
        self._renamed(w, ctx, tags)
        affine = self._preprocessing(w, ctx, tags)
        self._inputs_differ(w, ctx, tags, affine)
        self._reordered(w, ctx, tags)
        self._leakage(w, run, ctx, tags)
        weigh_collapsed(w, ctx, tags)
        weigh_integrity(w, ctx, tags)
        weigh_far_values(w, ctx, tags)
        weigh_new_fill(w, ctx, tags)
        weigh_eval_mode(w, run, ctx, tags)
        weigh_batch_order(w, run, tags)
        self._logits(w, run, tags)
        if len(tags) > 1 and "inputs_differ" in tags:
            tags.remove("inputs_differ")  # a specific check's story and fix say more
        w.facts["fix_tags"] = list(tags)
        # non-finite inputs poison everything downstream; a renaming says why labels look misaligned
        w.variant = tags.leading(first=("nonfinite", "renamed"))
        return w

    def _misaligned(self, w: Weighing, ctx: Context, tags: Tags) -> None:
        f, val_acc = ctx.features, ctx.val_accuracy_series()
        if not len(val_acc) or not finite(ctx.chance):
            return
        span = max(1e-6, 1 - ctx.chance)
        val_above = ctx.val_above_chance
        w.facts.update(val_accuracy_best=float(val_acc.max()), chance=ctx.chance)
        fits = ctx.fits_training
        differ = ramp(f.domain_auc, AUC_SAME, AUC_DIFFERENT) if f is not None else 0.0
        # not damped when the inputs differ too: among runs whose inputs differ and whose
        # training fits, validation sat at chance in 18 of 42 pipeline bugs and 2 of 65
        # shifts of the corpus and fresh2-fresh15 (docs/measurements.md)
        if fits and w.use(VAL_AT_CHANCE, val_above,
                          shown=f"{val_above:.2f} (best accuracy {float(val_acc.max()):.3f}, chance "
                                f"{ctx.chance:.3f}; ROC AUC {ctx.val_auc:.3f})"):
            # alike inputs: the labels left their inputs; differing ones: the path erased
            # what the inputs say (a decode, a stride, a channel mix, a dropped field); the
            # story's domain_auc is the fact _affine / _inputs_differ set for any finite AUC
            tags.add(w, "erased" if differ >= 0.5 else "misaligned")
        found = ctx.row_offset
        if found is not None and w.use(
                ROW_OFFSET, found.z,
                shown=f"{found.z:.1f}: from validation row {found.start} on, predictions match the "
                      f"label of row i{found.shift:+d} {found.neighbour:.0%} of the time and their "
                      f"own {found.own:.0%} ({found.rows} rows)"):
            tags.add(w, "misaligned")
            w.facts.update(offset_shift=found.shift, offset_start=found.start)
        net_auc = ctx.val_auc
        if f is not None and finite(f.ref_cv_auc) and finite(net_auc):
            # ROC AUC (0.5 = no signal, whatever the imbalance or threshold). Neither a simple
            # model (cross-validated on training data) nor the network (on validation) ranks
            # better than chance: the inputs say nothing about the training labels.
            if w.use(NO_SIGNAL, max(f.ref_cv_auc, net_auc), shown=f"{f.ref_cv_auc:.3f} and {net_auc:.3f}"):
                tags.add(w, "misaligned")
        if f is not None and finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
            ref_span = (f.ref_cv_accuracy - ctx.chance) / span
            ref_val = (f.ref_val_accuracy - ctx.chance) / span
            w.facts.update(ref_cv=f.ref_cv_accuracy, ref_val=f.ref_val_accuracy)
            if ref_span > 0.3:
                w.use(REF_ONLY_TRAIN, ref_val / ref_span, gate=1 - differ,
                      shown=f.reference_read(f"{f.ref_cv_accuracy:.3f} vs {f.ref_val_accuracy:.3f}"),
                      gate_reason="only when the inputs look alike")
            else:
                self._reference_ranking(w, f, differ)

    @staticmethod
    def _renamed(w: Weighing, ctx: Context, tags: Tags) -> None:
        """Validation predictions that are a renaming of the validation labels."""
        r = ctx.renaming
        if r is None:
            return
        trust, why = renaming_trust(r)
        alike = inputs_alike(ctx.features) if ctx.features is not None else 1.0
        gate = trust * alike
        if alike < 1:
            why += f"; inputs alike {alike:.0%} (a shift can move whole classes too)"
        names = ctx.classes.names if ctx.classes is not None else {}
        if w.use(RENAMED, r.gain, gate=gate, gate_reason=why,
                 shown=f"{r.gain:.3f} ({r.accuracy:.3f} as labelled, {r.renamed:.3f} with "
                       f"{r.described(names)})") * gate > 0:
            tags.add(w, "renamed")
            w.facts.update(renamed_classes=r.described(names), renamed_accuracy=r.renamed,
                           renamed_raw=r.accuracy)

    @staticmethod
    def _reference_ranking(w: Weighing, f: FeatureFacts, differ: float) -> None:
        """The reference model's ranking where its accuracy barely leaves chance: a drop of
        the validation AUC below the training CV AUC beyond noise (2 to 4 standard errors of
        the difference, Hanley-McNeil) that leaves little of the ranking."""
        if not (finite(f.ref_cv_auc) and finite(f.ref_val_auc) and finite(f.ref_auc_se)) \
                or f.ref_auc_se <= 0 or f.ref_cv_auc <= 0.5:
            return
        z = (f.ref_cv_auc - f.ref_val_auc) / f.ref_auc_se
        share = (f.ref_val_auc - 0.5) / (f.ref_cv_auc - 0.5)
        # Which split is wrong: misaligned validation labels cannot be learned from the
        # validation inputs either (a model fitted on validation folds ranks at chance);
        # validation labels that it learns as well as the training ones are right, and the
        # training labels disagree with them (label noise, not a pipeline bug). Right labels
        # give a ratio near 1, within about 0.2 from the two AUCs' noise at a few hundred rows.
        own = (f.rev_cv_auc - 0.5) / (f.ref_cv_auc - 0.5) if finite(f.rev_cv_auc) else 0.0
        w.use(REF_RANK_ONLY_TRAIN, share, gate=(1 - differ) * ramp(z, 2.0, 4.0) * (1 - ramp(own, 0.5, 0.8)),
              shown=f.reference_read(f"{f.ref_cv_auc:.3f} vs {f.ref_val_auc:.3f} ({z:.1f} s.e.; "
                                     f"validation labels learned from their own inputs: {f.rev_cv_auc:.3f})"),
              gate_reason="only when the inputs look alike, the drop is beyond noise (full at 4 s.e.) and "
                          "the validation labels do not follow their own inputs (their own ranking under "
                          "0.5-0.8 of the training one)")

    def _preprocessing(self, w: Weighing, ctx: Context, tags: Tags) -> float:
        """Count a per-split scale/offset; returns how far it explains the difference (0-1)."""
        f = ctx.features
        if f is None or not finite(f.domain_auc) or not finite(f.domain_auc_standardized):
            return 0.0
        size = (f.scale_change if finite(f.scale_change) else 0) + (f.offset_change if finite(f.offset_change) else 0)
        w.facts.update(domain_auc=f.domain_auc, domain_auc_std=f.domain_auc_standardized,
                       scale_change=float(np.exp(f.scale_change)) if finite(f.scale_change) else None)
        # Raw splits separable, but not after standardising each on its own, and by a large
        # per-feature factor or offset (>= 1 standard deviation): a transform, not new data.
        gate = (1 - ramp(f.domain_auc_standardized, AUC_VANISHED, AUC_SAME)) * ramp(size, AFFINE_SIZE[0], AFFINE_SIZE[1])
        why = (f"standardised AUC {f.domain_auc_standardized:.2f} (full below {AUC_VANISHED}), "
               f"scale+offset change {size:.2f} s.d. (full from {AFFINE_SIZE[1]})")
        if w.use(AFFINE, f.domain_auc, gate=gate, gate_reason=why,
                 shown=f"{f.domain_auc:.3f} vs {f.domain_auc_standardized:.3f}") * gate > 0:
            tags.add(w, "preprocessing")
            w.use(REGAINED, f.ref_val_accuracy_realigned - f.ref_val_accuracy)
        return gate

    @staticmethod
    def _inputs_differ(w: Weighing, ctx: Context, tags: Tags, explained: float) -> None:
        """Inputs a classifier tells apart, counted as far as a per-split transform does not
        already count them (one difference, read once)."""
        f = ctx.features
        if f is None or not finite(f.domain_auc):
            return
        w.facts.setdefault("domain_auc", f.domain_auc)
        if w.use(INPUTS_DIFFER, f.domain_auc, gate=1 - explained,
                 gate_reason=f"a per-split scale/offset explains {explained:.0%} of it") * (1 - explained) > 0:
            tags.add(w, "inputs_differ")

    def _reordered(self, w: Weighing, ctx: Context, tags: Tags) -> None:
        found = ctx.column_reorder
        if found is None or found[1] < 2:
            return
        ratio, moved = found.ratio, found.moved
        seen = w.use(REORDERED, ratio, shown=f"{ratio:.2f} ({moved} columns would move)")
        if w.use(REORDER_REGAINED, found.regained, shown=f"{found.regained:+.2f}",
                 gate=found.trust, gate_reason=found.trust_reason) or seen:
            tags.add(w, "reordered")
            w.facts["columns_moved"] = moved

    def _leakage(self, w: Weighing, run: RunRecord, ctx: Context, tags: Tags) -> None:
        leak = ctx.leak
        if not finite(leak.share):
            return
        w.facts.update(duplicate_share=leak.counted, natural_duplicate_share=leak.natural)
        shown = f"{leak.share:.1%}" + (f"; training rows repeat each other at {leak.natural:.1%}"
                                       if finite(leak.natural) else "") + f", among {leak.basis}"
        if w.use(LEAKAGE, leak.excess, shown=shown):
            tags.add(w, "leakage")

    def _nonfinite(self, w: Weighing, ctx: Context, tags: Tags) -> None:
        bad = ctx.nonfinite_inputs
        if not bad:
            return
        where = "; ".join(f"{split}: {v['count']} rows ({v['scope']})" for split, v in bad.items())
        rows = next((v["rows"] for v in bad.values() if v.get("rows")), [])
        w.facts.update(nonfinite_where=where, nonfinite_rows=", ".join(map(str, rows[:10])) or "n/a")
        w.use(NONFINITE, 1.0, shown=where)
        tags.add(w, "nonfinite")

    def _logits(self, w: Weighing, run: RunRecord, tags: Tags) -> None:
        loss, model = run.meta.get("loss") or {}, run.meta.get("model") or {}
        act, from_logits = model.get("output_activation"), loss.get("from_logits")
        if act in ("softmax", "sigmoid") and from_logits is True:
            w.use(LOGITS, 1.0, shown=f"{act} + from_logits=True: a second softmax/sigmoid shrinks gradients")
            tags.add(w, "logits")
        elif act == "linear" and from_logits is False and "crossentropy" in str(loss.get("name", "")).lower():
            w.use(LOGITS, 1.0, shown="linear + from_logits=False: raw scores read as probabilities")
            tags.add(w, "logits")
