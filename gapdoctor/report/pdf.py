"""Assemble the run report: sections in order, page furniture, bookmarks, one PDF file.

A section that fails on an unexpected record is replaced by one sentence naming the error
(and a ``RuntimeWarning``), so a report is always written; set the environment variable
``GAPDOCTOR_STRICT_REPORT=1`` to raise instead (the tests do).

Example:
    >>> from gapdoctor.report import write_report           # doctest: +SKIP
    >>> write_report(run, diagnosis, "report.pdf")           # doctest: +SKIP
    PosixPath('report.pdf')
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Image, PageBreak, Paragraph, SimpleDocTemplate

from gapdoctor.diagnosis import Diagnosis
from gapdoctor.record.schema import RunRecord
from gapdoctor.report import (
    findings,
    sections,
    sections_confirm,
    sections_data,
    sections_dynamics,
    summary,
)
from gapdoctor.report.context import Page
from gapdoctor.report.styles import Theme


class _Doc(SimpleDocTemplate):
    """A document that turns every section heading into a PDF bookmark."""

    def afterFlowable(self, flowable: Any) -> None:  # noqa: N802 - reportlab's hook name
        if isinstance(flowable, Paragraph) and flowable.style.name in ("h1", "title"):
            key = f"s{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.getPlainText()[:80], key, level=0)


def page_size(theme: Theme, wide: bool = False) -> tuple[float, float]:
    size = letter if str(theme.cfg.get("page", {}).get("size", "A4")).lower() == "letter" else A4
    return landscape(size) if wide else size


def document(path: Path, theme: Theme, title: str, footer: str, wide: bool = False) -> _Doc:
    """A document template with the report's margins, metadata and page footer."""
    margin = float(theme.cfg.get("page", {}).get("margin_mm", 16)) * mm
    doc = _Doc(str(path), pagesize=page_size(theme, wide), leftMargin=margin,
               rightMargin=margin, topMargin=margin, bottomMargin=margin + 4 * mm,
               title=title, author="gapdoctor", creator="gapdoctor",
               subject="train/validation gap diagnosis")

    def furniture(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        canvas.setFont(theme.font, 7)
        canvas.setFillColor(theme.color("muted"))
        width, _ = doc_.pagesize
        canvas.drawString(margin, margin - 2 * mm, footer[:110])
        canvas.drawRightString(width - margin, margin - 2 * mm, f"page {doc_.page}")
        canvas.restoreState()

    doc.furniture = furniture  # type: ignore[attr-defined]
    return doc


def guarded(theme: Theme, name: str, build: Callable[[], list[Any]]) -> list[Any]:
    """Run a section builder; if it fails, a sentence replaces the section, not the report."""
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - one broken section must not lose the report
        if os.environ.get("GAPDOCTOR_STRICT_REPORT"):
            raise
        warnings.warn(f"gapdoctor report: section '{name}' failed: "
                      f"{traceback.format_exc(limit=3)}", RuntimeWarning, stacklevel=2)
        return [theme.para(f"The {name} section could not be drawn from this record "
                           f"({type(exc).__name__}: {exc}).", "muted")]


def _figure_height(flow: list[Any]) -> float:
    """Height of the figure that follows a section's heading and intro, looking inside
    KeepTogether groups (0 when the section does not open with a figure)."""
    for f in flow[:3]:
        if isinstance(f, Image):
            return f.drawHeight
        if isinstance(getattr(f, "_content", None), list):
            inner = _figure_height(f._content)
            if inner:
                return inner
    return 0.0


_PARTS: list[tuple[str, Callable[[Page], list[Any]]]] = [
    ("curves", sections.curves), ("per-class", sections.per_class),
    ("inside-the-model", sections_data.model), ("data", sections_data.data),
    ("labels", sections_dynamics.labels_section),
    ("tested", sections_confirm.tested),
    ("findings", findings.findings), ("appendix", findings.appendix)]
# sections drawn from the record alone, so they can be drawn while the diagnosis runs
RECORD_ONLY = ("curves", "per-class", "inside-the-model")


_BEST = "best epoch"  # the best epoch a prebuilt set was drawn for
_FIGURES = {summary.GLANCE: summary.glance, sections_data.DATA_FIGURE: sections_data.data_figure}


def prebuild_sections(run: RunRecord) -> dict[str, list[Any]]:
    """Draw what does not depend on the findings (for ``write_report``): the record-only
    sections and the page-1 glance figure, for the best epoch of the run summary that
    ``diagnose`` computes (the same function, so ``write_report`` draws nothing twice)."""
    from gapdoctor.analysis.context import Context

    page = Page(run=run, diagnosis=Diagnosis(summary=Context(run).run_summary()))
    built = {name: guarded(page.theme, name, lambda build=build: build(page))
             for name, build in _PARTS if name in RECORD_ONLY}
    for key, draw in _FIGURES.items():  # figures of the sections that need the findings
        try:
            built[key] = [draw(page)]
        except Exception:  # noqa: BLE001 - drawn again (and reported) with its section
            built[key] = []
    built[_BEST] = [page.best]
    return built


def write_report(run: RunRecord, diagnosis: Diagnosis, path: str | os.PathLike[str],
                 prebuilt: dict[str, list[Any]] | None = None) -> Path:
    """Write the PDF report of one run and return its path.

    Args:
        run: the run record (any importer's; missing tables render as a short note).
        diagnosis: what ``gapdoctor.diagnose(run)`` returned.
        path: where to write the PDF; parent folders are created.
        prebuilt: sections already drawn by ``prebuild_sections(run)``. Defaults to None.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = Page(run=run, diagnosis=diagnosis)
    theme = page.theme
    prebuilt = dict(prebuilt or {})
    if prebuilt.pop(_BEST, None) != [page.best]:  # drawn for another best epoch: redraw
        prebuilt = {}
    page.drawn = {key: prebuilt.pop(key, []) for key in _FIGURES}
    story = guarded(theme, "summary", lambda: summary.summary(page))
    for i, (name, build) in enumerate(_PARTS):
        flow = prebuilt.get(name) or guarded(theme, name, lambda build=build: build(page))
        figure = _figure_height(flow)
        if i == 0:
            story.append(PageBreak())
        elif figure:  # a new page unless the heading, intro and first figure fit together
            story.append(CondPageBreak(figure + 25 * mm))
        else:
            story.append(CondPageBreak(45 * mm))
        story += flow
    doc = document(path, theme, f"gapdoctor report: {run.name}",
                   f"gapdoctor report · {run.name} · verdict: "
                   + (diagnosis.verdict if diagnosis.findings else "not diagnosed"))
    _build(doc, story)
    return path


def _build(doc: _Doc, story: list[Any]) -> None:
    furniture = doc.furniture  # type: ignore[attr-defined]
    with binary_streams():
        doc.build(story, onFirstPage=furniture, onLaterPages=furniture)


@contextmanager
def binary_streams() -> Iterator[None]:
    """Write the PDF's streams in binary, not ASCII85 (reportlab encodes that in pure
    Python: a tenth of a report's time, and 15 % of its size)."""
    from reportlab import rl_config

    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before
