"""pipeline_bug: the code is wrong — misaligned labels, split-specific preprocessing,
leakage, train/eval-mode discrepancies, non-finite values, a loss/activation mismatch."""

from __future__ import annotations

import numpy as np

from gapdoctor.analysis.context import Context
from gapdoctor.record.schema import RunRecord
from gapdoctor.rules.base import Rule, Weighing, finite, ramp


class PipelineBugRule(Rule):
    cause = "pipeline_bug"
    requires_any = ("curves", "x_val", "meta:loss")

    def weigh(self, run: RunRecord, ctx: Context) -> Weighing:
        w = Weighing(prior=-3.0)
        tags: list[str] = []
        self._nonfinite(w, ctx, tags)  # first: it explains everything downstream of it
        self._misaligned(w, ctx, tags)
        self._preprocessing(w, ctx, tags)
        self._leakage(w, run, ctx, tags)
        self._eval_mode(w, run, ctx, tags)
        self._logits(w, run, tags)
        w.facts["fix_tags"] = tags
        w.variant = tags[0] if tags else "default"
        return w

    def _misaligned(self, w: Weighing, ctx: Context, tags: list[str]) -> None:
        c, f, val_acc = ctx.curves, ctx.features, ctx.val_accuracy_series()
        if not len(val_acc) or not finite(ctx.chance):
            return
        span = max(1e-6, 1 - ctx.chance)
        val_above = (float(val_acc.max()) - ctx.chance) / span
        w.facts.update(val_accuracy_best=float(val_acc.max()), chance=ctx.chance)
        # "fits" means accuracy well above chance on training samples, not only a falling
        # loss: on imbalanced data the loss also falls when the model learns the base rate
        train_acc = ctx.train_accuracy_series()
        train_above = ((float(train_acc.iloc[-3:].mean()) - ctx.chance) / span) if len(train_acc) else float("nan")
        fits = finite(c.loss_drop) and c.loss_drop > 0.5 and finite(train_above) and train_above > 0.5
        inputs_same = f is None or not finite(f.domain_auc) or f.domain_auc < 0.65
        # Validation within 15% of the way from chance to perfect while training fits.
        at_chance = 1 - ramp(val_above, 0.1, 0.25)
        if at_chance > 0 and fits:
            w.add("best validation accuracy (chance level in brackets)",
                  f"{float(val_acc.max()):.3f} ({ctx.chance:.3f})",
                  "training fits (accuracy well above chance) but validation stays at chance",
                  (3.5 if inputs_same else 1.5) * at_chance)
            tags.append("misaligned")
        net_auc = ctx.val_auc
        if f is not None and finite(f.ref_cv_auc) and finite(net_auc):
            # ROC AUC (0.5 = no signal, whatever the imbalance or threshold). Neither a simple
            # model (cross-validated on training data) nor the network (on validation) ranks
            # better than chance: the inputs say nothing about the training labels.
            nothing = (1 - ramp(f.ref_cv_auc, 0.55, 0.6)) * (1 - ramp(net_auc, 0.55, 0.6))
            if nothing > 0:
                w.add("ROC AUC of a reference model (CV, training labels) and of the network (validation)",
                      f"{f.ref_cv_auc:.3f} and {net_auc:.3f}",
                      "with validation also at chance: training labels do not line up with inputs",
                      3.5 * nothing)
                tags.append("misaligned")
        if f is not None and finite(f.ref_cv_accuracy) and finite(f.ref_val_accuracy):
            ref_span = (f.ref_cv_accuracy - ctx.chance) / span
            ref_val = (f.ref_val_accuracy - ctx.chance) / span
            w.facts.update(ref_cv=f.ref_cv_accuracy, ref_val=f.ref_val_accuracy)
            if ref_span > 0.3 and inputs_same:
                w.add("reference model: training CV accuracy vs validation accuracy",
                      f"{f.ref_cv_accuracy:.3f} vs {f.ref_val_accuracy:.3f}",
                      "inputs look alike but labels only line up in training",
                      2.5 * (1 - ramp(ref_val / ref_span, 0.2, 0.5)))

    def _preprocessing(self, w: Weighing, ctx: Context, tags: list[str]) -> None:
        f = ctx.features
        if f is None or not finite(f.domain_auc) or not finite(f.domain_auc_standardized):
            return
        size = (f.scale_change if finite(f.scale_change) else 0) + (f.offset_change if finite(f.offset_change) else 0)
        w.facts.update(domain_auc=f.domain_auc, domain_auc_std=f.domain_auc_standardized,
                       scale_change=float(np.exp(f.scale_change)) if finite(f.scale_change) else None)
        # Raw splits separable, but not after standardising each on its own, and by a large
        # per-feature factor or offset (>= 1 standard deviation): a transform, not new data.
        affine = ramp(f.domain_auc, 0.75, 0.9) * (1 - ramp(f.domain_auc_standardized, 0.6, 0.75)) * ramp(size, 0.7, 1.5)
        if affine > 0:
            w.add("domain AUC raw vs after standardising each split",
                  f"{f.domain_auc:.3f} vs {f.domain_auc_standardized:.3f}",
                  "a per-feature scale/offset applied to one split only", 4.0 * affine)
            tags.append("preprocessing")
        recovered = f.ref_val_accuracy_realigned - f.ref_val_accuracy
        if finite(recovered) and affine > 0:
            w.add("reference accuracy regained by standardising each split", round(recovered, 4),
                  "undoing the scale/offset restores validation: > 0.15", 1.5 * ramp(recovered, 0.05, 0.2))

    def _leakage(self, w: Weighing, run: RunRecord, ctx: Context, tags: list[str]) -> None:
        data = run.meta.get("data") or {}
        dup, n_val = data.get("duplicates_val_in_train"), ctx.n_val
        if isinstance(dup, (int, float)) and n_val:
            share = dup / n_val
            w.facts["duplicate_share"] = share
            # Natural datasets can repeat a handful of samples; 5% of validation is a split bug.
            w.add("validation samples also in training (exact duplicates)", f"{int(dup)} ({share:.1%})",
                  "train/validation leakage: > 5%", 3.5 * ramp(share, 0.02, 0.1))
            if share > 0.02:
                tags.append("leakage")

    def _eval_mode(self, w: Weighing, run: RunRecord, ctx: Context, tags: list[str]) -> None:
        if not run.has("split_metrics") or not run.has("curve:loss"):
            return
        probe = run.split_metrics[run.split_metrics["split"] == "train"].set_index("epoch")["loss"]
        logged = run.curves["loss"].astype(float)
        joint = np.array([(logged.get(e, np.nan), probe.get(e, np.nan)) for e in probe.index[-3:]], float)
        if not len(joint) or not np.isfinite(joint).all() or joint[:, 0].mean() <= 0:
            return
        ratio = float(joint[:, 1].mean() / joint[:, 0].mean())
        w.facts["eval_train_loss_ratio"] = ratio
        # Eval-mode loss on training samples 3x the training-mode loss: BatchNorm statistics
        # or a layer that behaves differently at inference (dropout lowers eval loss instead).
        w.add("eval-mode loss on training samples / logged training loss", round(ratio, 3),
              "train/eval-mode discrepancy: > 3", 3.0 * ramp(ratio, 2.0, 4.0))
        if ratio > 2.0:
            tags.append("eval_mode")

    def _nonfinite(self, w: Weighing, ctx: Context, tags: list[str]) -> None:
        bad = ctx.nonfinite_inputs
        if not bad:
            return
        where = "; ".join(f"{split}: {v['count']} rows ({v['scope']})" for split, v in bad.items())
        rows = next((v["rows"] for v in bad.values() if v.get("rows")), [])
        w.facts.update(nonfinite_where=where, nonfinite_rows=", ".join(map(str, rows[:10])) or "n/a")
        # One NaN row poisons every weight it reaches; nothing else needs to be wrong. Weighted
        # to lead any consequence (non-finite weights, a flat loss) the optimisation rule sees.
        w.add("rows with NaN or inf inputs", where, "any: one bad row poisons the weights", 7.0)
        tags.append("nonfinite")

    def _logits(self, w: Weighing, run: RunRecord, tags: list[str]) -> None:
        loss, model = run.meta.get("loss") or {}, run.meta.get("model") or {}
        act, from_logits = model.get("output_activation"), loss.get("from_logits")
        if act in ("softmax", "sigmoid") and from_logits is True:
            w.add("output activation vs loss", f"{act} + from_logits=True",
                  "the loss applies a second softmax/sigmoid: gradients shrink", 3.5)
            tags.append("logits")
        elif act == "linear" and from_logits is False and "crossentropy" in str(loss.get("name", "")).lower():
            w.add("output activation vs loss", "linear + from_logits=False",
                  "the loss treats raw scores as probabilities", 3.5)
            tags.append("logits")
