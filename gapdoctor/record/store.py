"""The run record on disk: a JSON manifest beside a compressed ``.npz`` of arrays.

Layout of a run directory::

    record.json            schema, version, meta, tables, failures, name of the arrays file
    arrays-000012.npz      every array of ``RunRecord.arrays`` (loaded with allow_pickle=False)

Writes are crash-safe: the arrays go to a new file first, then the manifest that names them
replaces the old one by an atomic rename, then the stale arrays file is removed. A process
killed at any instant leaves a manifest that names an arrays file which exists; a write that
fails (a full disk) leaves the previous manifest and its arrays as they were.

Reading checks the manifest's types (:mod:`gapdoctor.record.validate`) before using it.
"""

from __future__ import annotations

import json
import os
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gapdoctor.errors import RecordError
from gapdoctor.jsonsafe import json_safe
from gapdoctor.record.atomic import atomic_write
from gapdoctor.record.schema import RUN_SCHEMA, RUN_SCHEMA_VERSION, TABLES, RunRecord
from gapdoctor.record.validate import STRING_COLUMNS, check_manifest, check_table

MANIFEST = "record.json"
STATIC_ARRAYS = "static-arrays.npz"
# Arrays fixed once training starts: the per-epoch writer stores them once, not every epoch.
STATIC_ARRAY_KEYS = frozenset({"x_train", "x_val", "y_val_features", "probe_index",
                               "probe_labels", "val_index", "val_labels"})


def _column_values(column: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values (NaN/inf -> None), vectorised for numbers."""
    values = column.to_numpy()
    if values.dtype.kind == "f":
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return out.tolist()
    if values.dtype.kind in "iub":
        return values.tolist()
    return json_safe(values.tolist())


def _plain(value: Any) -> Any:
    """``value`` itself when it already is strict JSON (checked by the C encoder, fast), else
    its :func:`json_safe` copy."""
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return json_safe(value)


def _table_to_json(table: pd.DataFrame) -> dict[str, Any]:
    if table is None or table.empty:
        return {"columns": [], "data": []}
    frame = table.reset_index() if table.index.name else table
    columns = [_column_values(frame[c]) for c in frame.columns]
    return {"columns": [str(c) for c in frame.columns],
            "data": [list(row) for row in zip(*columns, strict=True)]}


def _table_from_json(name: str, payload: Any, where: Path) -> pd.DataFrame:
    check_table(name, payload, where)
    frame = pd.DataFrame(payload["data"], columns=payload["columns"])
    for col in frame.columns:  # the checks allow text only in text and undocumented columns
        if col not in STRING_COLUMNS and not frame[col].map(lambda v: isinstance(v, str)).any():
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    if name == "curves" and "epoch" in frame.columns:
        frame["epoch"] = frame["epoch"].astype(int)
        frame = frame.set_index("epoch")
    return frame


def write_manifest(run_dir: Path, arrays_name: str, text: str, durable: bool) -> None:
    """Replace the manifest; if that fails, remove the arrays file just written for it (no
    manifest names it) unless an older manifest may name the same file."""
    arrays = run_dir / arrays_name
    try:
        atomic_write(run_dir / MANIFEST, lambda h: h.write(text.encode("utf-8")),
                     durable=durable)
    except BaseException:
        try:
            named = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8")).get(
                "arrays_file")
        except (OSError, ValueError, AttributeError):
            named = None
        if named != arrays_name:
            arrays.unlink(missing_ok=True)
        raise


def save_record(record: RunRecord, run_dir: str | os.PathLike[str], seq: int = 0,
                fast: bool = False) -> Path:
    """Write ``record`` into ``run_dir`` crash-safely and return the manifest path.

    ``seq`` numbers the arrays file (the callback passes the epoch) so that the new arrays
    never overwrite the ones the current manifest names.

    ``fast=True`` is the callback's per-epoch mode: a plain (uncompressed) ``.npz``, compact
    JSON and no ``fsync``. It is still atomic (write to a temporary file, then rename), so a
    killed process (SIGKILL, out-of-memory killer) leaves a complete record: written pages
    belong to the OS, not the process. Only an OS crash or power loss could lose the latest
    epochs. The default mode compresses, indents the manifest and fsyncs both files; the
    callback uses it for the final write. Both modes are read the same way.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    arrays_name = f"arrays-{int(seq):06d}.npz"
    arrays = {k: np.asarray(v) for k, v in record.arrays.items() if v is not None}
    savez = np.savez if fast else np.savez_compressed
    atomic_write(run_dir / arrays_name, lambda h: savez(h, **arrays), durable=not fast)
    curves = record.curves.copy()
    curves.index.name = "epoch"
    manifest = {
        "schema": RUN_SCHEMA,
        "version": RUN_SCHEMA_VERSION,
        "meta": _plain({k: v for k, v in record.meta.items() if k not in ("schema", "version")}),
        "tables": {name: _table_to_json(curves if name == "curves" else getattr(record, name))
                   for name in TABLES},
        "failures": _plain(record.failures),
        "arrays_file": arrays_name,
    }
    text = json.dumps(manifest, allow_nan=False, indent=None if fast else 1)
    write_manifest(run_dir, arrays_name, text, durable=not fast)
    for stale in [*run_dir.glob("arrays-*.npz"), run_dir / STATIC_ARRAYS]:
        if stale.name != arrays_name:
            stale.unlink(missing_ok=True)
    return run_dir / MANIFEST


def read_record(path: str | os.PathLike[str]) -> RunRecord:
    """Read a run directory (or its ``record.json``) written by :func:`save_record`.

    A record being written while it is read (a live run, or its final write) can replace
    its manifest and remove the arrays file the old one named between the two reads; the
    manifest is then read again, so a reader always gets one complete version.

    Raises:
        RecordError: the manifest is missing, malformed, of another schema or of a newer
            major version, or its arrays file is unreadable.
    """
    path = Path(path)
    manifest_path = path / MANIFEST if path.is_dir() else path
    deadline, missing = time.monotonic() + _READ_SECONDS, None
    while True:
        try:
            return _read_once(manifest_path)
        except _ArraysGone as exc:
            # a writer removes an arrays file only after its manifest names a newer one, so
            # the same file missing twice is a broken record, not a race (an _ArraysGone is
            # a RecordError to the caller)
            if exc.missing == missing or time.monotonic() > deadline:
                raise
            missing = exc.missing  # a writer replaced the manifest meanwhile: read the new one


# however fast a writer replaces the manifest, a reader that keeps losing the race for this
# long gives up (a callback rewrites once per epoch, a test loop every few milliseconds)
_READ_SECONDS = 10.0


class _ArraysGone(RecordError):
    """The arrays file named by the manifest just read is missing."""

    def __init__(self, missing: Path) -> None:
        super().__init__(f"{missing}: arrays file named by the manifest is missing")
        self.missing = missing


def _read_once(manifest_path: Path) -> RunRecord:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{manifest_path}: no run record here (record.json missing)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{manifest_path}: not valid JSON ({exc})") from None
    except (OSError, RecursionError, ValueError) as exc:  # a folder, no permission, too deep
        raise RecordError(f"{manifest_path}: cannot read the record ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != RUN_SCHEMA:
        raise RecordError(f"{manifest_path}: not a gapdoctor run record "
                          f"(schema={manifest.get('schema') if isinstance(manifest, dict) else None!r})")
    version = str(manifest.get("version", ""))
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        raise RecordError(f"{manifest_path}: unreadable version {version!r}") from None
    ours_major, ours_minor = (int(p) for p in RUN_SCHEMA_VERSION.split("."))
    if major != ours_major:
        raise RecordError(f"{manifest_path}: record version {version} is not readable by this "
                          f"gapdoctor (reads {ours_major}.x); upgrade gapdoctor")
    known = {"schema", "version", "meta", "tables", "failures", "arrays_file", "static_arrays_file"}
    unknown = sorted(set(manifest) - known)
    if unknown and minor > ours_minor:
        warnings.warn(f"{manifest_path}: record version {version} is newer than {RUN_SCHEMA_VERSION}; "
                      f"ignoring unknown fields {unknown}", stacklevel=2)
    check_manifest(manifest, manifest_path)
    meta = manifest.get("meta") or {}
    tables = manifest.get("tables") or {}
    record = RunRecord(meta={"schema": RUN_SCHEMA, "version": version, **meta},
                       failures=list(manifest.get("failures") or []),
                       path=manifest_path.parent)
    for name in TABLES:
        if name in tables:
            setattr(record, name, _table_from_json(name, tables[name], manifest_path))
    # 1.1: arrays that never change after train begin may sit in a file of their own
    for key in ("static_arrays_file", "arrays_file"):
        if manifest.get(key):
            record.arrays.update(_load_arrays(manifest_path.parent / str(manifest[key])))
    return record


def _load_arrays(arrays_path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise _ArraysGone(arrays_path) from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise RecordError(f"{arrays_path}: unreadable arrays file ({exc})") from None
