"""A ``keras.callbacks.CSVLogger`` file -> ``RunRecord``.

CSVLogger writes one row per epoch: ``epoch`` then the sorted ``logs`` keys. Skipped
validations (``validation_freq > 1``) are written as ``NA``; non-scalar logs (e.g.
``F1Score(average=None)``) as quoted numpy arrays such as ``"[0.1 0.2]"``, which become one
column per element (``f1_score_0``, ...) or are dropped with a note when they cannot be.

Example:
    >>> run = read_csv_logger("training.log")     # doctest: +SKIP
    >>> run.meta["source"]                        # doctest: +SKIP
    'csv_logger'
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import (
    expand_arrays,
    finish_record,
    parse_array_cell,
    read_text,
)
from gapdoctor.record.schema import RunRecord

SOURCE = "csv_logger"
_NA = ["NA", "N/A", "nan", "NaN", "NAN", "-nan", "null", "None", ""]


def _separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _read_frame(path: Path, text: str) -> pd.DataFrame:
    sep = _separator(text.lstrip().splitlines()[0])
    rows = csv.reader(io.StringIO(text.lstrip()), delimiter=sep)
    width = len(next(rows))
    for line, row in enumerate(rows, start=2):
        if row and len(row) != width:
            raise RecordError(f"{path}: malformed CSV (row {line} has {len(row)} fields, "
                              f"the header {width})")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, na_values=_NA,
                            keep_default_na=False, skipinitialspace=True, index_col=False,
                            quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError:
        raise RecordError(f"{path}: empty file") from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise RecordError(f"{path}: malformed CSV ({first})") from None
    if frame.empty:
        raise RecordError(f"{path}: CSV has a header but no rows (no epoch finished?)")
    return frame


def _column(name: str, series: pd.Series, notes: list[str]) -> dict[str, list[float]]:
    """One numeric column, several for array cells, none (with a note) for text."""
    numeric = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & numeric.isna()
    if not bad.any():
        return {name: numeric.astype(float).tolist()}
    cells = [None if pd.isna(v) else parse_array_cell(str(v)) for v in series]
    if all(c is not None or pd.isna(v) for c, v in zip(cells, series, strict=True)):
        return expand_arrays(name, cells, notes) or {}
    example = str(series[bad].iloc[0])[:30]
    notes.append(f"column '{name}' holds text such as {example!r}; dropped")
    return {}


def read_csv_logger(path: str | os.PathLike[str], text: str | None = None) -> RunRecord:
    """Read a CSVLogger CSV into a ``RunRecord`` (``source='csv_logger'``).

    Raises:
        RecordError: empty or malformed CSV, no numeric column, a bad ``epoch`` column.
    """
    path = Path(path)
    text = read_text(path, text)
    frame = _read_frame(path, text)
    frame.columns = [str(c).strip() for c in frame.columns]
    notes: list[str] = []
    if "epoch" in frame.columns:
        epochs = pd.to_numeric(frame.pop("epoch"), errors="coerce")
        if epochs.isna().any() or (epochs % 1 != 0).any() or (epochs < 0).any():
            raise RecordError(f"{path}: the 'epoch' column holds values that are not "
                              "epoch numbers (non-negative integers)")
        index = epochs.astype(int)
    else:
        notes.append("no 'epoch' column: rows taken as epochs 0, 1, ...")
        index = pd.Series(range(len(frame)))
    columns: dict[str, list[float]] = {}
    for name in frame.columns:
        if name.startswith("Unnamed:"):
            continue
        columns.update(_column(name, frame[name], notes))
    if not columns:
        raise RecordError(f"{path}: no numeric columns (header: {', '.join(frame.columns)[:80]})")
    curves = pd.DataFrame(columns, index=pd.Index(index.to_numpy(), name="epoch"))
    if curves.index.duplicated().any():
        notes.append("some epochs appear more than once (CSVLogger(append=True) over "
                     "several fits?): kept the last row of each")
        curves = curves[~curves.index.duplicated(keep="last")]
    curves = curves.sort_index()
    return finish_record(path, curves, SOURCE, path.stem, notes)
