"""The shapes ``pandas.DataFrame(history.history).to_json(orient=...)`` writes.

``columns`` (pandas' default) is ``{"loss": {"0": v, ...}}``; ``index`` is
``{"0": {"loss": v, ...}}``; ``records`` is ``[{"loss": v, ...}, ...]``; ``split`` is
``{"columns": [...], "index": [...], "data": [[...]]}``; ``table`` is
``{"schema": {"fields": [...], "primaryKey": [...]}, "data": [{...}]}``. ``values`` has no
column names and is refused. ``records`` with ``lines=True`` (JSON Lines, one object per
epoch) reaches here as a list of objects (``history_json.parse_json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gapdoctor.errors import RecordError

_SPLIT_KEYS = frozenset({"columns", "index", "data", "name"})


def _int_key(key: str) -> bool:
    return key.isascii() and key.strip().lstrip("-").isdigit() and len(key) < 12


def _rows_to_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = list(dict.fromkeys(str(k) for row in rows for k in row))
    return {k: [row.get(k) for row in rows] for k in keys}


def _split(path: Path, obj: dict[str, Any]) -> tuple[dict[str, list[Any]], Any]:
    columns, data = [str(c) for c in obj["columns"]], obj["data"]
    if not all(isinstance(row, list) and len(row) == len(columns) for row in data):
        raise RecordError(f"{path}: pandas orient='split' JSON whose 'data' rows are not "
                          f"lists of {len(columns)} values (one per column)")
    if len(set(columns)) != len(columns):
        raise RecordError(f"{path}: pandas orient='split' JSON repeats a column name")
    table = {c: [row[i] for row in data] for i, c in enumerate(columns)}
    return table, obj.get("index")


def _table(path: Path, obj: dict[str, Any]) -> tuple[dict[str, list[Any]], Any]:
    rows = obj["data"]
    if not all(isinstance(row, dict) for row in rows):
        raise RecordError(f"{path}: pandas orient='table' JSON whose 'data' is not a list "
                          "of per-epoch objects")
    table = _rows_to_columns(rows)
    keys = obj["schema"].get("primaryKey")
    index = None
    if isinstance(keys, list) and len(keys) == 1 and isinstance(keys[0], str) \
            and keys[0] in table:
        index = table.pop(keys[0])
    return table, index


def pandas_columns(path: Path, obj: Any) -> tuple[dict[str, Any], Any, str] | None:
    """``(columns, index or None, orient)`` for a pandas ``to_json`` document, else None.

    ``columns`` maps a name to its per-epoch values (a list, or for orient ``columns`` the
    ``{"0": v}`` object the caller reads).

    Raises:
        RecordError: orient ``values`` (no column names), or a malformed split/table.
    """
    if isinstance(obj, list):
        if obj and all(isinstance(row, dict) for row in obj):
            return _rows_to_columns(obj), None, "records"
        if obj and all(isinstance(row, list) for row in obj):
            raise RecordError(f"{path}: a JSON list of lists (pandas orient='values'?) has "
                              "no metric names; save with orient='columns' or 'records'")
        return None
    if not isinstance(obj, dict) or not obj:
        return None
    keys = set(obj)
    if {"columns", "data"} <= keys <= _SPLIT_KEYS and isinstance(obj["columns"], list) \
            and isinstance(obj["data"], list):
        return (*_split(path, obj), "split")
    if {"schema", "data"} <= keys and isinstance(obj["schema"], dict) \
            and isinstance(obj["schema"].get("fields"), list) and isinstance(obj["data"], list):
        return (*_table(path, obj), "table")
    if all(_int_key(str(k)) for k in keys) and all(isinstance(v, dict) for v in obj.values()):
        order = sorted(obj, key=lambda k: int(str(k)))
        return _rows_to_columns([obj[k] for k in order]), [int(str(k)) for k in order], "index"
    return None
