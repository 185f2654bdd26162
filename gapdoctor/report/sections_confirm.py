"""The "What we tested" section: each confirmation experiment, its measured effect with
its interval, its outcome, and the control-vs-treated curves of the retrainings."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import cm

from gapdoctor.report.canvas import new_figure, styled, to_image
from gapdoctor.report.context import Page
from gapdoctor.report.styles import Theme

OUTCOME_WORDS = {"confirmed": "confirmed", "refuted": "refuted", "inconclusive": "inconclusive",
                 "failed": "failed", "skipped": "not run"}


def _interval(c: dict[str, Any]) -> str:
    iv, effect = c.get("interval"), c.get("effect")
    if effect is None:
        return "–"
    scale = 100.0 if c.get("metric") in ("accuracy", "macro-F1", "balanced accuracy",
                                         "accuracy gap") else 1.0
    unit = " pts" if scale == 100 else ""
    text = f"{effect * scale:+.1f}{unit}" if scale == 100 else f"{effect:+.3g}"
    if iv:
        text += f" [{iv[0] * scale:+.1f}, {iv[1] * scale:+.1f}]" if scale == 100 else \
            f" [{iv[0]:+.3g}, {iv[1]:+.3g}]"
    return text


@styled
def curves_figure(tested: list[dict[str, Any]], theme: Theme) -> Any:
    """Control vs treated validation loss, one panel per retraining experiment."""
    n = len(tested)
    fig = new_figure(theme, 5.0)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, c in zip(axes, tested, strict=True):
        curves = c["curves"]
        ax.plot(range(1, len(curves["control"]) + 1), curves["control"], label="control",
                color="#888888")
        ax.plot(range(1, len(curves["treated"]) + 1), curves["treated"], label="treated",
                color="#1f77b4")
        ax.set_title(f"{c['cause']}: {OUTCOME_WORDS.get(c['outcome'], c['outcome'])}",
                     fontsize=8)
        ax.set_xlabel("epoch")
        ax.set_ylabel(curves.get("metric", ["loss"])[0].replace("_", " ") +
                      " (half of validation)", fontsize=7)
        ax.legend(fontsize=7)
    return to_image(fig, theme)


def tested(page: Page) -> list[Any]:
    """What the experiments measured; empty when none ran."""
    confirmations = getattr(page.diagnosis, "confirmations", None) or []
    if not confirmations:
        return []
    theme = page.theme
    out = [theme.para("What we tested", "h1"),
           theme.para("Each leading cause was put to an experiment against a control retrained "
                      "the same way with the same seeds. An effect counts as confirmed when its "
                      "whole 95 % interval lies above zero and it is large enough to matter; as "
                      "refuted when even the interval's upper end is too small. Outcomes moved "
                      "the scores in the findings below.", "muted")]
    scope = (getattr(page.diagnosis, "summary", None) or {}).get("confirmation_scope")
    if scope:
        out.append(theme.para(scope, "muted"))
    rows = [["cause", "experiment", "before → after", "effect [95 % interval]", "outcome"]]
    for c in confirmations:
        before, after = c.get("before"), c.get("after")
        moved = (f"{before:.3f} → {after:.3f}" if before is not None and after is not None
                 else "–")
        rows.append([theme.label(c["cause"]), c["experiment"].replace("_", " "), moved,
                     _interval(c), OUTCOME_WORDS.get(c["outcome"], c["outcome"])])
    out.append(theme.table(rows, widths=[3.4 * cm, 4.2 * cm, 3.0 * cm, 4.2 * cm, 2.4 * cm]))
    for c in confirmations:
        if c.get("text"):
            out.append(theme.para(f"{theme.label(c['cause'])}: {c['text']}", "body"))
    with_curves = [c for c in confirmations if c.get("curves", {}).get("control")]
    if with_curves:
        out.append(curves_figure(with_curves[:3], theme))
    return out
