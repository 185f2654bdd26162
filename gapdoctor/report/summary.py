"""Page 1 of the run report: verdict, ranked causes, fixes to try first, how sure we are."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.shapes import Drawing, Line, Rect
from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import ListFlowable, ListItem, Spacer

from gapdoctor.analysis.gap import gap_sentence
from gapdoctor.diagnosis import Finding, Fix, score_text
from gapdoctor.report import figures
from gapdoctor.report.context import Page
from gapdoctor.report.styles import IfFits, esc, fmt


def first_fixes(findings: list[Finding], count: int = 3) -> list[tuple[Finding, Fix]]:
    """Fixes to try first: round-robin over the reported findings, highest score first."""
    out: list[tuple[Finding, Fix]] = []
    depth = max((len(f.fixes) for f in findings), default=0)
    for level in range(depth):
        for finding in findings:
            if level < len(finding.fixes) and len(out) < count:
                out.append((finding, finding.fixes[level]))
    return out


def _certainty(page: Page) -> list[str]:
    """Escaped sentences on how much evidence the diagnosis could use."""
    run, d, theme = page.run, page.diagnosis, page.theme
    source = str(run.meta.get("source") or d.source or "unknown")
    described = theme.cfg.get("source", {}).get(source, source)
    notes = [f"The evidence came from {esc(described)}."]
    if d.skipped:
        names = ", ".join(esc(theme.label(s.get("cause", "unknown"))) for s in d.skipped)
        notes.append(f"{len(d.skipped)} of {len(d.skipped) + len(d.findings) + len(d.errors)} "
                     f"causes could not be checked for lack of data: {names} "
                     "(reasons in the appendix).")
    if d.errors:
        notes.append(f"{len(d.errors)} rule(s) failed with an error and were left out: "
                     + ", ".join(esc(theme.label(e.get("cause", "unknown"))) for e in d.errors) + ".")
    if run.failures:
        probes = sorted({str(f.get("probe", "unknown")) for f in run.failures})
        notes.append(f"{len(run.failures)} probe measurement(s) could not be recorded "
                     f"({esc(', '.join(probes))}).")
    if run.n_epochs < 5:
        notes.append(f"Only {run.n_epochs} epoch(s) were recorded; trends over so few points "
                     "are weak evidence.")
    call = d.close_call
    if call:
        first, second = (d.finding(c) for c in call["causes"])
        notes.append(f"The top two causes score within 0.1 of each other "
                     f"({fmt(first.score, 2)} vs {fmt(second.score, 2)}); treat them as joint "
                     f"suspects. To tell them apart: {esc(call['tell_apart'])}")
    if d.status != "ok" and d.status_reason:
        notes.append(f"Status {esc(d.status.replace('_', ' '))}: {esc(d.status_reason)}.")
    for note in run.meta.get("notes") or []:
        notes.append(esc(note))
    if len(notes) == 1 and not d.skipped:
        notes.append("Every cause could be checked against the record.")
    return notes


def bullets(page: Page, items: list[Any], numbered: bool = False) -> ListFlowable:
    """A bulleted or numbered list; str items are trusted markup (escape data first)."""
    theme = page.theme
    flow = [ListItem(i if not isinstance(i, str) else theme.para(i, "body", markup=True),
                     leftIndent=14) for i in items]
    kw = {"bulletType": "1", "bulletFormat": "%s."} if numbered else {"bulletType": "bullet",
                                                                       "start": "\u2022"}
    return ListFlowable(flow, bulletFontName=theme.font, bulletFontSize=8.5, leftIndent=14,
                        **kw)


def _bar(page: Page, score: float | None, reported: bool, width: float = 6.5 * cm) -> Drawing:
    """One score as a horizontal bar with the reporting threshold as a dashed line."""
    theme, threshold = page.theme, page.diagnosis.threshold
    figs = theme.cfg.get("figures", {})
    drawing = Drawing(width, 9)
    drawing.add(Rect(0, 1.5, width, 6, fillColor=theme.color("table_stripe"), strokeColor=None))
    if score is not None:
        fill = figs.get("bar_reported", "#d95f02") if reported else figs.get("bar", "#9db4d3")
        drawing.add(Rect(0, 1.5, max(0.5, score * width), 6, strokeColor=None,
                         fillColor=colors.HexColor(fill)))
    drawing.add(Line(threshold * width, 0, threshold * width, 9, strokeWidth=0.9,
                     strokeDashArray=[2, 1.5],
                     strokeColor=colors.HexColor(figs.get("threshold", "#b3261e"))))
    return drawing


def ranking(page: Page) -> Any:
    """Every cause that ran, ranked, with its score as a bar; causes not checked last."""
    d, theme = page.diagnosis, page.theme
    rows: list[list[Any]] = [["#", "cause", "score", f"score from 0 to 1; dashed line: "
                              f"reporting threshold {d.threshold:.2f}", "status"]]
    for k, f in enumerate(d.findings, start=1):
        status = "reported" if f.score >= d.threshold else "below threshold"
        rows.append([str(k), f.title or theme.label(f.cause), score_text(f.score),
                     _bar(page, f.score, f.score >= d.threshold), status])
    for s in d.skipped:
        rows.append(["", theme.label(s.get("cause", "unknown")), "n/a", _bar(page, None, False),
                     "not checked"])
    for e in d.errors:
        rows.append(["", theme.label(e.get("cause", "unknown")), "n/a", _bar(page, None, False),
                     "rule failed"])
    return theme.table(rows, [0.7 * cm, 4.6 * cm, 1.3 * cm, 6.9 * cm, 2.6 * cm],
                       extra=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")])


def summary(page: Page) -> list[Any]:
    """Page 1: verdict, ranked causes, three fixes, how sure we are."""
    run, d, theme = page.run, page.diagnosis, page.theme
    out: list[Any] = [theme.para("Why is the validation metric stuck?", "title")]
    source = run.meta.get("source") or d.source or "unknown"
    out.append(theme.para(f"Run <b>{esc(run.name)}</b> · source: {esc(source)} · {run.n_epochs} "
                          f"epochs recorded · monitored metric: {esc(page.monitor or 'none')}",
                          "muted", markup=True))
    top = d.findings[0] if d.findings else None
    if d.verdict != "healthy" and top is not None:
        text = (f"<b>Most likely cause: {esc(top.title or theme.label(top.cause))}</b> "
                f"(score {score_text(top.score)}). {esc(top.summary)}")
        out.append(theme.para(text, "verdict", markup=True))
    elif top is not None and d.unexplained_gap is not None:
        gap = d.unexplained_gap
        lead = " and ".join(f"{esc(theme.label(c))} ({score_text(v)})" for c, v in gap["candidates"])
        out.append(theme.para(f"<b>No cause reached the reporting threshold ({d.threshold:.2f}), "
                              f"but the run is not healthy:</b> {esc(gap_sentence(gap))}. No "
                              f"single cause explains the gap with confidence; the likeliest are "
                              f"{lead}. To tell them apart: {esc(gap['tell_apart'])}",
                              "verdict", markup=True))
    elif top is not None:
        out.append(theme.para(f"<b>No cause reached the reporting threshold "
                              f"({d.threshold:.2f}).</b> The strongest signal was "
                              f"{esc(top.title or theme.label(top.cause))} at {score_text(top.score)}; "
                              "on this evidence the run looks healthy.", "healthy", markup=True))
    else:
        out.append(theme.para("<b>No diagnosis: none of the causes could be checked on this "
                              "record.</b> See below for what was missing.", "healthy",
                              markup=True))
    out += [Spacer(1, 4), theme.para(page.headline(), "body", markup=True)]
    out.append(theme.para("How the causes rank", "h2"))
    if d.findings or d.skipped or d.errors:
        out.append(ranking(page))
    if not d.findings:
        out.append(theme.para("No rule could run on this record, so no cause was scored.",
                              "body"))
    out.append(theme.para("What to try first", "h2"))
    fixes = first_fixes(d.in_focus)
    if fixes and not d.reported:  # the leading causes of a gap no cause explains
        out.append(theme.para("First run the check above that tells the leading causes "
                              "apart; then, for the one it points at:", "body"))
    if fixes:
        items = [f"<b>{esc(fix.title)}</b> ({esc(theme.label(f.cause))}). {esc(fix.why)}"
                 for f, fix in fixes]  # the cause in brackets also ends the title
        out.append(bullets(page, items, numbered=True))
        out.append(theme.para("The Keras code for each fix is in the Findings section.",
                              "muted"))
    elif d.findings:
        out.append(theme.para("Nothing reached the threshold, so there is nothing urgent to "
                              "change. Keep an eye on the highest-scoring cause if the gap "
                              "grows in later runs.", "body"))
    else:
        out.append(theme.para("Nothing can be recommended without evidence. Training with the "
                              "gapdoctor callback records per-class, per-sample and per-layer "
                              "measurements, which lets every cause be checked.", "body"))
    out.append(theme.para("How sure we are", "h2"))
    out.append(bullets(page, _certainty(page)))
    figure = (page.drawn.get(GLANCE) or [None])[0] or glance(page)
    if figure is not None:
        out.append(IfFits([theme.para("At a glance", "h2"), figure]))
    return out


GLANCE = "glance"  # the key of the glance figure in ``Page.drawn``


def glance(page: Page) -> Any:
    """The page-1 figure of the monitored curves (None without curves); it needs only the
    record and the best epoch, so it can be drawn while the diagnosis runs."""
    if page.curves.empty or not figures.metric_pairs(page.curves):
        return None
    return figures.glance_figure(page.curves, page.best[0], page.monitor, page.theme)
