"""The layout of a CSV log: separator, title lines above the header, rows, and the fits.

``CSVLogger(append=True)`` appends each new fit to the same file without a new header, so
the epoch count restarts at 0 where a fit begins; a file concatenated from several logs
repeats its header line. Either way the rows are split into fits, because rows of
different fits spliced together make curves that no training produced.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import show
from gapdoctor.importers._numbers import parse_number_text

NOT_A_LOG = ("not a training log (expected a Keras History JSON, a CSVLogger CSV, a "
             "TensorBoard log or a gapdoctor run)")
_SEPARATORS = (",", ";", "\t", "|")  # CSVLogger(separator=...) takes any
_MAX_TITLE_LINES = 5
# a header field: a short name, not a sentence (prose has many words per comma)
_FIELD = re.compile(r"[^\W\d][\w.\-/@:\[\]()% ]{0,79}")
_METRIC_WORDS = re.compile(r"loss|acc|epoch|metric|auc|mse|mae|f1|precision|recall", re.I)


@dataclass
class Layout:
    """What ``read_layout`` found: the header, data rows and the notes about them."""

    header: list[str]
    rows: list[list[str]]
    fit_starts: list[int] = field(default_factory=lambda: [0])  # rows where a header repeats
    notes: list[str] = field(default_factory=list)


def _separator(lines: list[str]) -> str:
    best, best_score = ",", 0
    for sep in _SEPARATORS:
        counts = [line.count(sep) for line in lines]
        mode = max(set(counts), key=counts.count)
        score = mode * counts.count(mode)
        if mode and score > best_score:
            best, best_score = sep, score
    return best


def _header_index(rows: list[list[str]]) -> int:
    """Index of the header among the first rows: the first whose width the data share."""
    widths = [len(r) for r in rows[1:21]]
    if not widths:
        return 0
    mode = max(set(widths), key=widths.count)
    for i, row in enumerate(rows[:_MAX_TITLE_LINES + 1]):
        if len(row) == mode:
            return i
    return 0


def _looks_like_header(fields: list[str]) -> bool:
    named = [f.strip() for f in fields if f.strip()]
    return bool(named) and all(_FIELD.fullmatch(f) and len(f.split()) <= 4 for f in named)


def read_layout(path: Path, text: str) -> Layout:
    """Split ``text`` into header and rows.

    Raises:
        RecordError: not a CSV log at all, a header without rows, or ragged rows.
    """
    lines = [line for line in text.splitlines() if line.strip()][:20]
    sep = _separator(lines)
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep)
                if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise RecordError(f"{path}: malformed CSV ({exc})") from None
    if not rows:
        raise RecordError(f"{path}: {NOT_A_LOG}; it holds only separators and blank lines")
    start = _header_index(rows)
    header = [c.strip() for c in rows[start]]
    if not _looks_like_header(header):
        if all(parse_number_text(c) is not None for c in header if c):
            raise RecordError(f"{path}: CSV without a header line (expected column names "
                              "such as epoch,loss,val_loss first)")
        raise RecordError(f"{path}: {NOT_A_LOG}; it begins {show(lines[0] if lines else '')}")
    layout = Layout(header=header, rows=[])
    if start:
        titles = "; ".join(show(sep.join(r)) for r in rows[:start])
        layout.notes.append(f"skipped {start} line(s) above the CSV header: {titles}")
    for line, row in enumerate(rows[start + 1:], start=start + 2):
        cells = [c.strip() for c in row]
        if cells == header:
            layout.fit_starts.append(len(layout.rows))
            continue
        if len(cells) != len(header):
            raise RecordError(f"{path}: malformed CSV (row {line} has {len(cells)} fields, "
                              f"the header {len(header)})")
        layout.rows.append(cells)
    if not layout.rows:
        if len(header) >= 2 or _METRIC_WORDS.search(header[0]):
            raise RecordError(f"{path}: CSV has a header but no rows (no epoch finished?)")
        raise RecordError(f"{path}: {NOT_A_LOG}; it is one line of text")
    return layout


def split_fits(epochs: list[float], starts: list[int]) -> list[tuple[int, int, bool]]:
    """Fits as ``(first_row, end_row, resumed)`` from the epoch column.

    A fit starts where a header repeats or the epoch number falls back to the file's first
    epoch or below. A fall to a later epoch k is a fit resumed from a checkpoint
    (``initial_epoch=k``): it continues the fit before it (``resumed`` is True), whose rows
    for epochs below k stay while the later ones are replaced.
    """
    bounds = set(starts)
    first = epochs[0] if epochs else 0
    resumed: set[int] = set()
    for i in range(1, len(epochs)):
        if epochs[i] <= epochs[i - 1] and i not in bounds:
            bounds.add(i)
            if epochs[i] > first:
                resumed.add(i)
    edges = sorted(bounds | {0}) + [len(epochs)]
    fits: list[tuple[int, int, bool]] = []
    for a, b in zip(edges, edges[1:], strict=False):
        if a == b:
            continue
        if a in resumed and fits:
            fits[-1] = (fits[-1][0], b, True)
        else:
            fits.append((a, b, False))
    return fits
