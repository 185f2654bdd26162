"""Report section: suspected wrong labels over the whole training set, with its data map.

Drawn from :func:`gapdoctor.analysis.label_dynamics.dynamics_of`, the same facts the
diagnosis and ``suspects.csv`` use (computed once per record), so the three agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Spacer

from gapdoctor.analysis.label_dynamics import DynamicsFacts, dynamics_of
from gapdoctor.report import canvas
from gapdoctor.report.context import Page
from gapdoctor.report.styles import Theme, esc, fmt

MAX_POINTS = 6000  # points drawn in the data map (a fixed random subset beyond)


@canvas.styled
def data_map_figure(d: DynamicsFacts, theme: Theme) -> Any:
    """Confidence against variability per sample (Swayamdipta et al., 2020), and the AUM of
    flagged vs other samples."""
    fig = canvas.new_figure(theme, 6.8)
    left, right = fig.subplots(1, 2, width_ratios=[1.25, 1])
    rows = np.arange(d.n)
    if d.n > MAX_POINTS:
        rows = np.sort(np.random.default_rng(0).choice(d.n, MAX_POINTS, replace=False))
    groups = (("other samples", ~d.flagged & ~d.hard, "#9db4d3", 4),
              ("hard (neighbours agree, model does not)", d.hard, "#e6a23c", 6),
              ("flagged: likely wrong label", d.flagged, "#b3261e", 6))
    for name, mask, color, size in groups:
        shown = rows[mask[rows]]
        left.scatter(d.variability[shown], d.confidence[shown], s=size, c=color, alpha=0.6,
                     linewidths=0, label=f"{name} ({int(mask.sum())})")
    left.set_xlabel("variability (std of p(given label) over epochs)")
    left.set_ylabel("confidence (mean p(given label))")
    left.set_ylim(-0.02, 1.02)
    left.set_title("data map of every training sample")
    left.legend(loc="lower right", markerscale=2, framealpha=0.85)
    finite = np.isfinite(d.aum)
    bins = np.linspace(np.percentile(d.aum[finite], 1), np.percentile(d.aum[finite], 99), 40) \
        if finite.sum() > 1 else 20
    right.hist(d.aum[finite & ~d.flagged], bins=bins, color="#9db4d3", label="not flagged")
    right.hist(d.aum[finite & d.flagged], bins=bins, color="#b3261e", alpha=0.75,
               label="flagged")
    right.axvline(0, color="#444444", linewidth=0.8)
    right.set_xlabel("area under the margin (logits)")
    right.set_ylabel("samples")
    right.set_title("AUM, flagged vs not")
    right.legend(loc="upper left")
    return canvas.to_image(fig, theme)


def labels_section(page: Page) -> list[Any]:
    """Every training sample's dynamics: the data map, the count and the top suspects."""
    d = dynamics_of(page.run)
    if d is None:
        return []
    theme = page.theme
    out = page.h1("labels", "Suspected wrong labels, whole training set")
    epochs = ", ".join(str(e) for e in d.epochs) or "n/a"
    out.append(theme.para(
        f"Every one of the {d.n} training samples was scored from eval-mode passes at epochs "
        f"{epochs}. A sample is flagged when the {d.k} nearest training samples in the "
        f"{d.representation} (itself left out) out-vote its label; it is ranked by that vote "
        "and by its area under the margin.", "muted"))
    out.append(KeepTogether([data_map_figure(d, theme)]))
    out.append(Spacer(1, 4))
    text = (f"<b>{d.n_flagged}</b> of {d.n} training samples ({d.noise_rate:.1%}) are flagged "
            "as likely wrong labels: all of them are in <b>suspects.csv</b>, ranked. "
            f"{int(d.hard.sum())} more are hard samples (their neighbours agree with their "
            "label, the model does not) and are not counted as noise.")
    if d.unlearned_classes:
        names = ", ".join(esc(page.class_name(c)) for c in d.unlearned_classes)
        text += (f" More than half of class(es) {names} disagree with their neighbours: a "
                 "class the model cannot learn, not counted as noise.")
    pairs = d.top_pairs(3)
    if pairs:
        text += " Commonest flips (given \u2192 likely): " + "; ".join(
            f"{esc(page.class_name(g))} \u2192 {esc(page.class_name(k))} ({c})"
            for g, k, c in pairs) + "."
    out.append(theme.para(text, "body", markup=True))
    table = d.suspects().head(page.theme.limit("suspects", 10) + 5)
    if len(table):
        rows = [["rank", "index", "given", "likely", "predicted", "suspicion", "AUM",
                 "confidence"]]
        for r in table.to_dict("records"):
            rows.append([str(r["rank"]), str(r["index"]), page.class_name(r["given_label"]),
                         page.class_name(r["likely_label"]),
                         page.class_name(r["predicted_label"]), fmt(r["suspicion"], 2),
                         fmt(r["aum"], 2), fmt(r["confidence"], 2)])
        out.append(theme.para(f"The {len(table)} most suspicious of {d.n_flagged}", "h2"))
        out.append(theme.table(rows, [1.2 * cm, 1.8 * cm, 2.2 * cm, 2.2 * cm, 2.2 * cm,
                                      1.9 * cm, 1.8 * cm, 2 * cm]))
    return out
