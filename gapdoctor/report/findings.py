"""One section per reported finding, the brief list of the others, and the appendix."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, KeepTogether

from gapdoctor.diagnosis import Finding, score_text
from gapdoctor.report.context import Page
from gapdoctor.report.styles import esc, fmt
from gapdoctor.report.summary import bullets


def _evidence(page: Page, finding: Finding) -> Any:
    """Measured value vs comparison, each row marked supports / against / context."""
    theme = page.theme
    rows: list[list[Any]] = [["measurement", "measured", "compared with", "reads as"]]
    for e in finding.evidence:
        verdict = "context" if e.weight == 0 else "supports" if e.supports else "against"
        color = theme.cfg.get("colors", {}).get("neutral" if verdict == "context" else verdict,
                                                "#222222")
        mark = theme.para(f'<font color="{esc(color)}"><b>{verdict}</b></font>', "cell",
                          markup=True)
        rows.append([str(e.name), fmt(e.value), str(e.comparison), mark])
    return theme.table(rows, [5.4 * cm, 3.0 * cm, 7.0 * cm, 2.4 * cm])


def finding_section(page: Page, finding: Finding, number: str,
                    lead: list[Any] | None = None) -> list[Any]:
    """Title and score, summary, evidence table, fixes with code, how to confirm.

    ``lead`` (the section heading, for the first finding) stays on the page of its title.
    """
    theme = page.theme
    title = finding.title or theme.label(finding.cause)
    head = [*(lead or []),
            theme.para(f"{number} {esc(title)} <font size=9>(score {score_text(finding.score)})"
                       "</font>", "h2", markup=True),
            theme.para(finding.summary or "No summary was given.", "body")]
    out: list[Any] = [CondPageBreak(6 * cm), KeepTogether(head)]
    if finding.evidence:
        out.append(theme.para("Evidence", "h2"))
        out.append(_evidence(page, finding))
    else:
        out.append(theme.para("The rule recorded no individual measurements.", "muted"))
    if finding.fixes:
        out.append(theme.para("What to try", "h2"))
        for k, fix in enumerate(finding.fixes, start=1):
            title = fix.title.strip()
            stop = "" if not title or title[-1] in ".!?:" else "."
            block = [theme.para(f"<b>{k}. {esc(title)}{stop}</b> {esc(fix.why)}", "body",
                                markup=True)]
            if fix.code.strip():
                block.append(theme.code(fix.code))
            out.append(KeepTogether(block))
    if finding.confirm:
        out.append(theme.para("What would confirm or rule it out", "h2"))
        out.append(bullets(page, [esc(c) for c in finding.confirm]))
    return out


def findings(page: Page) -> list[Any]:
    """Section 5: every reported finding in full, then the rest in one table."""
    d, theme = page.diagnosis, page.theme
    out = page.h1("findings", "Findings")
    if not d.findings:
        out.append(theme.para("No cause could be scored on this record; the appendix lists "
                              "what each rule was missing.", "body"))
    shown = d.in_focus
    if d.findings and not d.reported:
        out.append(theme.para(theme.section("findings").get(
            "none_but_gap" if shown else "none", "No cause reached the reporting threshold."),
            "body"))
    for k, finding in enumerate(shown, start=1):
        if k == 1:  # the heading and intro go with the first finding's title
            out = finding_section(page, finding, "5.1", lead=out)
        else:
            out += finding_section(page, finding, f"5.{k}")
    rest = [f for f in d.findings if f not in shown]
    if rest:
        out.append(CondPageBreak(4 * cm))
        out.append(theme.para("Also checked, below the threshold", "h2"))
        rows = [["cause", "score", "what we saw"]]
        rows += [[f.title or theme.label(f.cause), score_text(f.score), f.summary] for f in rest]
        out.append(theme.table(rows, [4.2 * cm, 1.4 * cm, 12.2 * cm]))
    return out


# shown elsewhere (label counts and sizes in section 4) or too long for a table cell
_HIDDEN_DATA = ("feature_summary", "train_label_counts", "val_label_counts", "feature_names",
                "n_train", "n_val", "n_train_probe", "n_val_used", "input_shape",
                "duplicates_val_in_train", "duplicate_label_conflicts", "duplicates_scope")


def _data_value(key: str, value: Any) -> Any:
    """A data-meta value in a few words (``nonfinite_rows`` and ``collapsed_rows`` as counts
    of rows read: "train 0 of 1257, val 3 of 360").

    Example:
        >>> _data_value("collapsed_rows", {"train": {"count": 0, "n": 1257, "width": 64}})
        'train 0 of 1257'
    """
    if key in ("nonfinite_rows", "collapsed_rows") and isinstance(value, dict):
        parts = []
        for split, v in value.items():
            if isinstance(v, dict) and v.get("count") is not None:
                of = f" of {fmt(v['n'])}" if v.get("n") is not None else ""
                parts.append(f"{split} {fmt(v['count'])}{of}")
        return ", ".join(parts) or None
    return value


def _meta_rows(page: Page) -> list[list[str]]:
    meta, run = page.run.meta, page.run
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    optimizer = meta.get("optimizer") if isinstance(meta.get("optimizer"), dict) else {}
    loss = meta.get("loss") if isinstance(meta.get("loss"), dict) else {}
    config = optimizer.get("config") if isinstance(optimizer.get("config"), dict) else {}
    fmt_name = " ".join(str(meta.get(k) or "") for k in ("schema", "version")).strip()
    rows = [["record format", fmt_name or None],
            ["task", meta.get("task")], ["classes", meta.get("n_classes")],
            ["label format", meta.get("label_format")],
            ["epochs", f"{run.n_epochs} recorded"
             + (f" of {meta['epochs_planned']} planned" if meta.get("epochs_planned") else "")
             + ("" if meta.get("completed", True) else " (training did not finish)")],
            ["class names", run.class_names or None],
            ["model", model.get("name")], ["parameters", model.get("n_params")],
            ["trainable parameters", model.get("trainable_params")],
            ["output activation", model.get("output_activation")],
            ["loss", loss.get("name")], ["from logits", loss.get("from_logits")],
            ["optimiser", optimizer.get("class_name")],
            ["learning rate (config)", config.get("learning_rate")],
            ["metrics", ", ".join(str(m.get("name", m)) if isinstance(m, dict) else str(m)
                                  for m in meta.get("metrics") or []) or None]]
    for key, value in page.data_meta().items():
        if key not in _HIDDEN_DATA:
            rows.append([key.replace("_", " "), _data_value(key, value)])
    versions = meta.get("versions") if isinstance(meta.get("versions"), dict) else {}
    if versions:
        rows.append(["versions", " · ".join(f"{k} {v}" for k, v in versions.items() if v)])
    if run.path:
        rows.append(["record path", str(run.path)])
    return [[k, fmt(v)] for k, v in rows if v not in (None, "", [], {})]


def appendix(page: Page) -> list[Any]:
    """Run metadata (two pairs per row), skipped rules and why, rule errors, probe failures."""
    d, run, theme = page.diagnosis, page.run, page.theme
    out = page.h1("appendix", "Appendix: run details")
    pairs = _meta_rows(page)
    long = [p for p in pairs if len(p[1]) > 34]  # long values get a full-width row
    short = [p for p in pairs if len(p[1]) <= 34]
    rows = [short[i] + (short[i + 1] if i + 1 < len(short) else ["", ""])
            for i in range(0, len(short), 2)]
    grid = theme.table(rows, [3.4 * cm, 5.5 * cm, 3.4 * cm, 5.5 * cm], header=False)
    out.append(grid)
    if long:
        out.append(theme.table(long, [3.4 * cm, 14.4 * cm], header=False))
    if d.skipped:
        out.append(theme.para("Rules skipped", "h2"))
        rows = [["cause", "why it was skipped"]]
        rows += [[theme.label(s.get("cause", "unknown")), s.get("reason", "")]
                 for s in d.skipped]
        out.append(theme.table(rows, [4.2 * cm, 13.6 * cm]))
    if d.errors:
        out.append(theme.para("Rule errors", "h2"))
        rows = [["cause", "error"]] + [[theme.label(e.get("cause", "unknown")),
                                        e.get("error", "")] for e in d.errors]
        out.append(theme.table(rows, [4.2 * cm, 13.6 * cm]))
    if run.failures:
        out.append(theme.para("Probe failures", "h2"))
        limit = theme.limit("failures", 25)
        rows = [["probe", "epoch", "error"]] + [[str(f.get("probe", "unknown")),
                                                 fmt(f.get("epoch")), str(f.get("error", ""))]
                                                for f in run.failures[:limit]]
        out.append(theme.table(rows, [3.6 * cm, 1.6 * cm, 12.6 * cm]))
        if len(run.failures) > limit:
            out.append(theme.para(f"... and {len(run.failures) - limit} more.", "muted"))
    quiet = [text for text, empty in (("every rule had the data it needed", not d.skipped),
                                      ("no probe failed", not run.failures)) if empty]
    if quiet:
        out.append(theme.para("Also: " + " and ".join(quiet) + ".", "muted"))
    return out
