"""A ``keras.callbacks.CSVLogger`` file (or a CSV shaped like one) -> ``RunRecord``.

CSVLogger writes one row per epoch: ``epoch`` then the sorted ``logs`` keys. Skipped
validations (``validation_freq > 1``) are written as ``NA``; non-scalar logs (e.g.
``F1Score(average=None)``) as quoted numpy arrays such as ``"[0.1 0.2]"``, which become one
column per element (``f1_score_0``, ...) or are dropped with a note when they cannot be.

Real files also carry a title line above the header, capitalised or PyTorch-style names
(``Epoch``, ``Val_Loss``, ``train_acc``: renamed to Keras's), numbers written as
``tensor(0.27)``, and several fits appended to one file (``append=True``): the file is split
into its fits and ``read_csv_logger`` returns the last, ``read_csv_fits`` every one.

Example:
    >>> run = read_csv_logger("training.log")     # doctest: +SKIP
    >>> run.meta["source"]                        # doctest: +SKIP
    'csv_logger'
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import (
    expand_arrays,
    finish_record,
    parse_array_cell,
    read_text,
    run_stem,
    show,
)
from gapdoctor.importers._numbers import is_finite_int, numeric_series
from gapdoctor.importers.csv_layout import NOT_A_LOG, read_layout, split_fits
from gapdoctor.importers.names import INDEX_KEYS, STEP_KEYS, keras_names
from gapdoctor.record.schema import RunRecord

SOURCE = "csv_logger"
_NA = frozenset({"NA", "N/A", "nan", "NaN", "NAN", "-nan", "null", "None", ""})
_ABSENT = frozenset({"NA", "N/A", "null", "None", ""})  # no value, unlike a computed NaN


def _column(name: str, cells: list[str], notes: list[str], wrapped: list[str]
            ) -> dict[str, list[float]]:
    """One numeric column, several for array cells, none (with a note) for text."""
    if cells and all(c.strip() in _ABSENT for c in cells):
        # CSVLogger writes NA for a key a fit never logged (val_* without validation data)
        notes.append(f"column {show(name)} holds no value in any row (NA); left out")
        return {}
    series = pd.Series([None if c in _NA else c for c in cells], dtype=object)
    numeric, used_forms = numeric_series(series)
    bad = series.notna() & numeric.isna()
    if not bad.any():
        if used_forms:
            wrapped.append(str(series[series.notna()].iloc[0]))
        return {name: numeric.tolist()}
    arrays = [None if v is None else parse_array_cell(str(v)) for v in series]
    if all(a is not None or v is None for a, v in zip(arrays, series, strict=True)):
        return expand_arrays(name, arrays, notes) or {}
    notes.append(f"column {show(name)} holds text such as {show(series[bad].iloc[0], 30)}; "
                 "dropped")
    return {}


def _table(path: Path, text: str | None) -> tuple[pd.DataFrame, list[float] | None,
                                                   list[int], list[str]]:
    """All rows as numeric columns, the epoch of each row (None without an epoch column),
    the rows where a header repeats, and the notes."""
    layout = read_layout(path, read_text(path, text))
    notes = layout.notes
    names = keras_names(layout.header, notes)
    columns: dict[str, list[float]] = {}
    epochs: list[float] | None = None
    wrapped: list[str] = []
    for i, name in enumerate(names):
        cells = [row[i] for row in layout.rows]
        if not name or name.startswith("Unnamed:"):
            continue
        if name in columns or (name in INDEX_KEYS and epochs is not None):
            notes.append(f"column {show(name)} appears twice; kept the first")
        elif name in INDEX_KEYS:
            epochs = numeric_series(pd.Series([c or None for c in cells], dtype=object))[0] \
                .tolist()
            if not all(is_finite_int(e) for e in epochs):
                raise RecordError(f"{path}: the {show(layout.header[i])} column holds values "
                                  "that are not epoch numbers (whole numbers from 0)")
        elif name in STEP_KEYS:
            notes.append(f"column {show(name)} ignored: the record counts epochs")
        else:
            columns.update(_column(name, cells, notes, wrapped))
    if wrapped:
        notes.append(f"numbers written as text such as {show(wrapped[0], 30)} read as numbers")
    if not columns:
        raise RecordError(f"{path}: {NOT_A_LOG}: no numeric columns (header: "
                          f"{show(', '.join(layout.header), 80)})")
    return pd.DataFrame(columns), epochs, layout.fit_starts, notes


def _fit_records(path: Path, text: str | None) -> list[tuple[pd.DataFrame, list[str]]]:
    """The curves and notes of each fit the file holds, in file order."""
    table, epochs, starts, notes = _table(path, text)
    if epochs is None:
        notes.append("no 'epoch' column: rows taken as epochs 0, 1, ...")
        fits = [(a, b, False) for a, b in zip(starts, starts[1:] + [len(table)], strict=True)
                if a < b]
    else:
        fits = split_fits(epochs, starts)
    out = []
    for a, b, resumed in fits:
        curves = table.iloc[a:b].copy()
        fit_notes = list(notes)
        curves.index = pd.Index([int(e) for e in epochs[a:b]] if epochs is not None
                                else range(b - a), name="epoch")
        if resumed:
            fit_notes.append("the epoch count steps back inside this fit (a fit resumed "
                             "with initial_epoch?): kept the latest row of each epoch")
            curves = curves[~curves.index.duplicated(keep="last")]
        out.append((curves.sort_index(), fit_notes))
    return out


def _fits_note(path: Path, k: int, n: int, curves: pd.DataFrame) -> str:
    where = f"epochs {curves.index.min()}-{curves.index.max()}" if len(curves) else "no rows"
    return (f"{path.name} holds {n} fits (the epoch count restarts: CSVLogger(append=True) "
            f"over several fits?); this is fit {k} of {n} ({where})")


def read_csv_fits(path: str | os.PathLike[str], text: str | None = None) -> list[RunRecord]:
    """Every fit of a CSV log as its own ``RunRecord``, named ``<stem>#fit<k>`` when the
    file holds several.

    Raises:
        RecordError: empty or malformed CSV, not a log, no numeric column, bad epochs.
    """
    path = Path(path)
    fits = _fit_records(path, text)
    stem = run_stem(path)
    if len(fits) == 1:
        return [finish_record(path, fits[0][0], SOURCE, stem, fits[0][1])]
    return [finish_record(path, curves, SOURCE, f"{stem}#fit{k}",
                          [_fits_note(path, k, len(fits), curves), *notes])
            for k, (curves, notes) in enumerate(fits, start=1)]


def read_csv_logger(path: str | os.PathLike[str], text: str | None = None,
                    fit: int | None = None) -> RunRecord:
    """Read a CSVLogger CSV into a ``RunRecord`` (``source='csv_logger'``).

    Args:
        path: the CSV file (``.csv``, ``.log``, ``.csv.gz``).
        text: its text, when already read.
        fit: which fit (1-based) of a file appended by several fits. Defaults to the last.

    Raises:
        RecordError: empty or malformed CSV, not a log, no numeric column, bad epochs, or
            no such fit.
    """
    path = Path(path)
    fits = _fit_records(path, text)
    n = len(fits)
    k = n if fit is None else fit
    if not 1 <= k <= n:
        raise RecordError(f"{path}: has {n} fit(s); fit{k} does not exist")
    curves, notes = fits[k - 1]
    if n > 1:
        notes = [_fits_note(path, k, n, curves) + ("; analysed the last (gapdoctor batch "
                 f"analyses each, or pass {path.name}#fit1 ...)" if fit is None else ""),
                 *notes]
    return finish_record(path, curves, SOURCE, run_stem(path), notes)
