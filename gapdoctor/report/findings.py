"""One section per reported finding, the brief list of the others, and the appendix."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, KeepTogether

from gapdoctor.diagnosis import Finding
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
    return theme.table(rows, [5.6 * cm, 3.2 * cm, 5.4 * cm, 2.2 * cm])


def finding_section(page: Page, finding: Finding, number: str) -> list[Any]:
    """Title and score, summary, evidence table, fixes with code, how to confirm."""
    theme = page.theme
    title = finding.title or theme.label(finding.cause)
    head = [theme.para(f"{number} {esc(title)} <font size=9>(score {finding.score:.2f})"
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
    elif not d.reported:
        out.append(theme.para(theme.section("findings").get(
            "none", "No cause reached the reporting threshold."), "body"))
    for k, finding in enumerate(d.reported, start=1):
        out += finding_section(page, finding, f"5.{k}")
    rest = [f for f in d.findings if not f.reported]
    if rest:
        out.append(CondPageBreak(4 * cm))
        out.append(theme.para("Also checked, below the threshold", "h2"))
        rows = [["cause", "score", "what we saw"]]
        rows += [[f.title or theme.label(f.cause), f"{f.score:.2f}", f.summary] for f in rest]
        out.append(theme.table(rows, [4.2 * cm, 1.4 * cm, 10.8 * cm]))
    return out


def _meta_rows(page: Page) -> list[list[str]]:
    meta, run = page.run.meta, page.run
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    optimizer = meta.get("optimizer") if isinstance(meta.get("optimizer"), dict) else {}
    loss = meta.get("loss") if isinstance(meta.get("loss"), dict) else {}
    config = optimizer.get("config") if isinstance(optimizer.get("config"), dict) else {}
    rows = [["run name", run.name], ["source", meta.get("source")],
            ["record path", str(run.path) if run.path else None],
            ["record format", f"{meta.get('schema', '?')} {meta.get('version', '?')}"],
            ["task", meta.get("task")], ["classes", meta.get("n_classes")],
            ["monitored metric", page.monitor],
            ["epochs", f"{run.n_epochs} recorded"
             + (f" of {meta['epochs_planned']} planned" if meta.get("epochs_planned") else "")
             + ("" if meta.get("completed", True) else " (training did not finish)")],
            ["class names", run.class_names or None],
            ["model", model.get("name")], ["parameters", model.get("n_params")],
            ["trainable parameters", model.get("trainable_params")],
            ["output activation", model.get("output_activation")],
            ["loss", loss.get("name")], ["from logits", loss.get("from_logits")],
            ["optimizer", optimizer.get("class_name")],
            ["learning rate (config)", config.get("learning_rate")],
            ["metrics", ", ".join(str(m.get("name", m)) if isinstance(m, dict) else str(m)
                                  for m in meta.get("metrics") or []) or None]]
    for key, value in page.data_meta().items():
        if key not in ("feature_summary", "train_label_counts", "val_label_counts",
                       "feature_names"):
            rows.append([f"data: {key}", value])
    versions = meta.get("versions") if isinstance(meta.get("versions"), dict) else {}
    rows += [[f"version: {k}", v] for k, v in versions.items()]
    return [[k, fmt(v)] for k, v in rows if v not in (None, "", [], {})]


def appendix(page: Page) -> list[Any]:
    """Run metadata, skipped rules and why, rule errors, probe failures."""
    d, run, theme = page.diagnosis, page.run, page.theme
    out = page.h1("appendix", "Appendix: run details")
    out.append(theme.table([["field", "value"]] + _meta_rows(page), [5 * cm, 11.4 * cm]))
    out.append(theme.para("Rules skipped", "h2"))
    if d.skipped:
        rows = [["cause", "why it was skipped"]]
        rows += [[theme.label(s.get("cause", "?")), s.get("reason", "")] for s in d.skipped]
        out.append(theme.table(rows, [4.2 * cm, 12.2 * cm]))
    else:
        out.append(theme.para("None: every rule had the data it needed.", "body"))
    if d.errors:
        out.append(theme.para("Rule errors", "h2"))
        rows = [["cause", "error"]] + [[e.get("cause", "?"), e.get("error", "")]
                                       for e in d.errors]
        out.append(theme.table(rows, [4.2 * cm, 12.2 * cm]))
    out.append(theme.para("Probe failures", "h2"))
    if run.failures:
        limit = theme.limit("failures", 25)
        rows = [["probe", "epoch", "error"]] + [[str(f.get("probe", "?")), fmt(f.get("epoch")),
                                                 str(f.get("error", ""))]
                                                for f in run.failures[:limit]]
        out.append(theme.table(rows, [3.6 * cm, 1.6 * cm, 11.2 * cm]))
        if len(run.failures) > limit:
            out.append(theme.para(f"... and {len(run.failures) - limit} more.", "muted"))
    else:
        out.append(theme.para("None recorded.", "body"))
    return out
