"""The batch overview PDF: runs ranked by their strongest finding, curves side by side.

Example:
    >>> from gapdoctor.report import write_overview             # doctest: +SKIP
    >>> write_overview(pd.read_csv("out/summary.csv"), runs, "out/overview.pdf")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, PageBreak, Spacer

from gapdoctor.diagnosis import CAUSES, REPORT_THRESHOLD, score_text
from gapdoctor.record.schema import RunRecord
from gapdoctor.report import figures
from gapdoctor.report.pdf import _build, document
from gapdoctor.report.styles import Theme, esc, fmt


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def rank(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with ``top_score``/``top_cause`` added, best-explained runs first, errors last."""
    table = summary.copy().reset_index(drop=True)
    score_cols = [f"score_{c}" for c in CAUSES if f"score_{c}" in table]
    scores = table[score_cols].apply(pd.to_numeric, errors="coerce") if score_cols else None
    table["top_score"] = scores.max(axis=1) if scores is not None else np.nan
    table["top_cause"] = (scores.fillna(-1).idxmax(axis=1).str[len("score_"):]
                          if scores is not None and len(table) else "")
    errored = table.get("error", pd.Series("", index=table.index)).map(_text).str.len() > 0
    table["_errored"] = errored
    return table.sort_values(["_errored", "top_score"], ascending=[True, False],
                             na_position="last", kind="stable")


def _inputs(paths: pd.Series) -> dict[Any, str]:
    """Each row's input path below the common folder of all inputs (the full path if none)."""
    full = {key: os.path.abspath(p) for key, p in paths.items() if p}
    try:
        root = os.path.commonpath(list(full.values())) if len(full) > 1 else ""
    except ValueError:  # paths on different drives
        root = ""
    root = os.path.dirname(root) if root in full.values() else root
    return {key: os.path.relpath(p, root) if root else paths[key] for key, p in full.items()}


def _record(runs: dict[str, RunRecord], row: pd.Series) -> RunRecord | None:
    path = _text(row.get("path"))
    for key in (path, _text(row.get("run_name")), Path(path).name, Path(path).stem):
        if key and key in runs:
            return runs[key]
    return None


def _panel(row: pd.Series, run: RunRecord, theme: Theme) -> dict[str, Any] | None:
    curves = run.curves.apply(pd.to_numeric, errors="coerce") if not run.curves.empty else None
    if curves is None:
        return None
    monitor = _text(row.get("monitor")) or run.monitor or ""
    monitor = monitor if monitor in curves else run.monitor or ""
    series = []
    for column in (monitor, monitor[4:] if monitor.startswith("val_") else ""):
        if column and column in curves:
            values = curves[column].replace([np.inf, -np.inf], np.nan).dropna()
            if not values.empty:
                series.append((("val " if column == monitor else "train ") + column.replace(
                    "val_", ""), values))
    if not series:
        return None
    best = row.get("best_epoch")
    verdict = _text(row.get("verdict")) or "unknown"
    score = row.get("top_score")
    subtitle = theme.label(verdict) + (f" ({score_text(score)})" if isinstance(score, float)
                                       and math.isfinite(score) else "")
    return {"title": _text(row.get("run_name")) or run.name, "subtitle": subtitle,
            "series": series,
            "best": int(best) if isinstance(best, (int, float)) and math.isfinite(best) else None}


def write_overview(summary: pd.DataFrame, runs: dict[str, RunRecord],
                   path: str | os.PathLike[str]) -> Path:
    """Write the batch overview PDF and return its path.

    Args:
        summary: the batch table (``path, run_name, source, verdict, score_<cause>...,
            monitor, best_value, best_epoch, epochs, error, pdf``); missing columns are
            tolerated.
        runs: the loaded records, keyed by ``path`` or ``run_name`` of their summary row.
        path: where to write the PDF; parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    theme = Theme()
    table = rank(summary) if len(summary) else summary.assign(top_score=[], _errored=[])
    n = len(table)
    n_err = int(table["_errored"].sum()) if n else 0
    story: list[Any] = [theme.para(f"gapdoctor batch overview: {n} run{'s' if n != 1 else ''}",
                                   "title")]
    verdicts = Counter(_text(v) or "unknown" for v in table.get("verdict", pd.Series(dtype=str))
                       [~table["_errored"]]) if n else Counter()
    parts = [f"{esc(theme.label(v))}: {c}" for v, c in verdicts.most_common()]
    story.append(theme.para(
        (f"Verdicts: {', '.join(parts)}. " if parts else "")
        + (f"{n_err} run(s) could not be analysed (see the error column). " if n_err else "")
        + "Runs are ranked by the score of their strongest finding; a score at or above "
        f"{REPORT_THRESHOLD:.2f} is reported.", "body", markup=True))
    limit = theme.limit("overview_table_rows", 300)
    rows = [["#", "run", "input", "report", "verdict", "top score", "monitor", "best",
             "best epoch", "epochs", "error"]]
    inputs = _inputs(table.get("path", pd.Series("", index=table.index)).map(_text))
    for i, (key, row) in enumerate(table.head(limit).iterrows(), start=1):
        verdict = _text(row.get("verdict"))
        rows.append([str(i), _text(row.get("run_name")) or Path(_text(row.get("path"))).name,
                     inputs.get(key, ""), Path(_text(row.get("pdf"))).name,
                     theme.label(verdict) if verdict else "", fmt(row.get("top_score"), 2),
                     _text(row.get("monitor")), fmt(row.get("best_value")),
                     fmt(row.get("best_epoch")), fmt(row.get("epochs")),
                     _text(row.get("error"))[:300]])
    if n:
        story.append(theme.table(rows, [0.9 * cm, 3.4 * cm, 4.0 * cm, 3.4 * cm, 2.8 * cm,
                                        1.4 * cm, 2.6 * cm, 1.4 * cm, 1.4 * cm, 1.4 * cm,
                                        3.6 * cm]))
    else:
        story.append(theme.para("The summary holds no runs.", "body"))
    if n > limit:
        story.append(theme.para(f"... and {n - limit} more runs in summary.csv.", "muted"))
    score_cols = [c for c in CAUSES if f"score_{c}" in table]
    shown = table[~table["_errored"]].head(theme.limit("overview_runs", 36)) if n else table
    if score_cols and len(shown):
        matrix = shown[[f"score_{c}" for c in score_cols]].apply(
            pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        names = [_text(r.get("run_name")) or Path(_text(r.get("path"))).name
                 for _, r in shown.iterrows()]
        image = figures.score_matrix(names, [theme.label(c) for c in score_cols], matrix,
                                     REPORT_THRESHOLD, theme)
        story += [CondPageBreak(image.drawHeight + 2 * cm), theme.para("Scores per cause", "h1"),
                  image]
    panels = [p for _, row in shown.iterrows()
              if (run := _record(runs, row)) is not None and (p := _panel(row, run, theme))]
    per_page = 4 * theme.limit("overview_cols", 4)
    images = [figures.small_multiples(panels[start:start + per_page], theme,
                                      theme.limit("overview_cols", 4))
              for start in range(0, len(panels), per_page)]
    story += [CondPageBreak((images[0].drawHeight if images else 0) + 2.5 * cm),
              theme.para("Validation curves", "h1")]
    if panels:
        story.append(theme.para("Solid: the monitored validation metric; dashed: its training "
                                "counterpart; dotted line: the best validation epoch.", "muted"))
        for k, image in enumerate(images):
            story += [PageBreak()] if k else []
            story.append(image)
    else:
        story.append(theme.para("No run record with validation curves was given.", "body"))
    hidden = int((~table["_errored"]).sum()) - len(shown) if n else 0
    if hidden > 0:
        story += [Spacer(1, 4), theme.para(f"{hidden} further runs are not drawn; see the "
                                           "table above and summary.csv.", "muted")]
    doc = document(path, theme, "gapdoctor batch overview", f"gapdoctor batch overview · {n} "
                   "runs", wide=bool(theme.cfg.get("page", {}).get("overview_landscape", True)))
    _build(doc, story)
    return path
