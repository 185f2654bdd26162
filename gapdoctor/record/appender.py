"""Per-epoch writes of a growing record, costing O(new rows) instead of O(all rows).

The callback's tables only ever gain rows, so :class:`RecordAppender` keeps the JSON text of
every row it already wrote and serialises only the new ones. The files it writes are exactly
the format of :func:`~gapdoctor.record.store.save_record` (fast mode: plain ``.npz``, compact
JSON, atomic rename, no fsync) and are read by :func:`~gapdoctor.record.store.read_record`.

Example:
    >>> writer = RecordAppender("runs/r1")                                  # doctest: +SKIP
    >>> writer.write({"run_name": "r1"}, {"curves": (["epoch", "loss"],
    ...              [{"epoch": 0, "loss": 1.0}])}, {}, [], seq=1)         # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from gapdoctor.jsonsafe import json_safe
from gapdoctor.record.atomic import atomic_write
from gapdoctor.record.schema import RUN_SCHEMA, RUN_SCHEMA_VERSION, TABLES
from gapdoctor.record.store import (
    MANIFEST,
    STATIC_ARRAY_KEYS,
    STATIC_ARRAYS,
    _plain,
    write_manifest,
)

Rows = tuple[list[str], list[dict[str, Any]]]


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return json_safe(value)


class RecordAppender:
    """Writes ``run_dir``'s record from append-only table rows (see the module docstring)."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self._rows: dict[str, tuple[tuple[str, ...], list[str]]] = {}
        self._static_signature: dict[str, Any] | None = None

    def _table(self, name: str, columns: list[str], rows: list[dict[str, Any]]) -> str:
        if not rows:
            return '{"columns":[],"data":[]}'
        key = tuple(columns)
        cached_columns, texts = self._rows.get(name, (key, []))
        if cached_columns != key:
            texts = []
        for row in rows[len(texts):]:
            texts.append(json.dumps([_value(row.get(c)) for c in columns], allow_nan=False))
        self._rows[name] = (key, texts)
        return '{"columns":' + json.dumps(list(columns)) + ',"data":[' + ",".join(texts) + "]}"

    def write(self, meta: dict[str, Any], tables: dict[str, Rows], arrays: dict[str, Any],
              failures: list[dict[str, Any]], seq: int) -> Path:
        """Write the manifest and ``arrays-<seq>.npz``; returns the manifest path.

        ``tables`` maps a table name to ``(columns, rows)`` where each row is a dict; the rows
        of a table must only grow between calls (a change of columns rewrites that table).
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        arrays_name = f"arrays-{int(seq):06d}.npz"
        static = {k: np.asarray(v) for k, v in arrays.items() if v is not None and k in STATIC_ARRAY_KEYS}
        payload = {k: np.asarray(v) for k, v in arrays.items() if v is not None and k not in static}
        signature = {k: (v.shape, v.dtype.str) for k, v in static.items()}
        if static and signature != self._static_signature:
            # written before the manifest that names it; rewritten only if the set changes
            atomic_write(self.run_dir / STATIC_ARRAYS, lambda h: np.savez(h, **static),
                         durable=False)
            self._static_signature = signature
        atomic_write(self.run_dir / arrays_name, lambda h: np.savez(h, **payload),
                     durable=False)
        table_text = ",".join(
            json.dumps(name) + ":" + self._table(name, *tables.get(name, ([], []))) for name in TABLES)
        meta = _plain({k: v for k, v in meta.items() if k not in ("schema", "version")})
        text = ('{"schema":' + json.dumps(RUN_SCHEMA) + ',"version":'
                + json.dumps(RUN_SCHEMA_VERSION) + ',"meta":' + json.dumps(meta, allow_nan=False)
                + ',"tables":{' + table_text + '},"failures":'
                + json.dumps(_plain(failures), allow_nan=False)
                + ',"arrays_file":' + json.dumps(arrays_name)
                + (',"static_arrays_file":' + json.dumps(STATIC_ARRAYS) if static else "") + "}")
        write_manifest(self.run_dir, arrays_name, text, durable=False)
        for stale in self.run_dir.glob("arrays-*.npz"):
            if stale.name != arrays_name:
                stale.unlink(missing_ok=True)
        return self.run_dir / MANIFEST
