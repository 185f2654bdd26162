"""The types a ``record.json`` must hold, checked on load: a hand-edited or damaged manifest
gives a :class:`RecordError` naming the field, never a crash later in the analysis.

The expected shape is declared once, as data (``MANIFEST_FIELDS``, ``META_FIELDS``,
``TABLE_COLUMNS``): a kind per field, ``?`` when null is allowed, a dict for a nested
object. Undeclared meta keys are allowed (records gain fields in minor versions).

Example:
    >>> check_manifest({"meta": {"notes": 1}}, Path("r/record.json"))
    Traceback (most recent call last):
    ...
    gapdoctor.errors.RecordError: r/record.json: meta.notes must be a list of strings or null; received 1 (int)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from gapdoctor.errors import RecordError
from gapdoctor.record.schema import TABLE_COLUMNS, TABLES


def _int(v: Any) -> bool:
    """A JSON integer that numpy and pandas can hold (int64)."""
    return isinstance(v, int) and not isinstance(v, bool) and -2**63 < v < 2**63


def _number(v: Any) -> bool:
    return _int(v) or isinstance(v, float)


# kind -> (test, what it means in a message)
KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (_int, "an integer (64-bit)"),
    "count": (lambda v: _int(v) and v >= 0, "an integer >= 0"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "number": (_number, "a number"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "list[str]": (lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
                  "a list of strings"),
    "mode": (lambda v: v in ("max", "min", "unknown"), "'max', 'min' or 'unknown'"),
    "scalar": (lambda v: v is None or isinstance(v, (str, int, float, bool)),
               "a string, a number or null"),
}

Spec = dict[str, Any]  # field -> kind (str, "?" suffix = nullable) or a nested Spec

META_FIELDS: Spec = {
    "source": "str?", "run_name": "str?", "task": "str?", "n_classes": "count?",
    "class_names": "list[str]?", "label_format": "str?", "output": "str?",
    "monitor": "str?", "monitor_mode": "mode?", "metrics": "list?",
    "epochs_planned": "count?", "epochs_completed": "count?", "completed": "bool?",
    "val_proba_best_epoch": "count?", "settings": "object?", "probe_seconds": "object?",
    "notes": "list[str]?", "versions": "object?", "fit": "object?", "first_epoch": "count?",
    "model": {"name": "str?", "n_params": "count?", "trainable_params": "count?",
              "output_activation": "str?", "layers": "list?"},
    "loss": {"name": "str?", "from_logits": "bool?", "config": "object?"},
    "optimizer": {"class_name": "str?", "config": "object?"},
    "gradient_batch": {"n": "count?", "split": "str?"},
    "followed_output": {"name": "str?", "key": "scalar", "position": "count?",
                        "n_outputs": "count?"},
    "data": {"n_train": "count?", "n_val": "count?", "n_train_probe": "count?",
             "n_val_used": "count?", "input_shape": "list?",
             "train_label_counts": "object?", "val_label_counts": "object?",
             "duplicates_val_in_train": "count?", "duplicate_label_conflicts": "count?",
             "duplicates_within_train": "count?", "duplicates_train_rows": "count?",
             "feature_summary": "object?", "feature_projection": "object?",
             "nonfinite_rows": "object?",
             "collapsed_rows": {split: {"count": "count?", "n": "count?", "width": "count?",
                                        "scope": "str?"} for split in ("train", "val")}},
    "batch_order": {"checked": "bool?", "reason": "str?", "n": "count?", "batch_size": "count?",
                    "shuffled_batch_size": "count?", "accuracy_stored": "number?",
                    "accuracy_shuffled": "number?", "effect": "number?", "low": "number?",
                    "high": "number?", "output_change": "number?", "repeat_change": "number?",
                    "mechanism": "str?", "outcome": "str?", "layers": "list[str]?",
                    "averaged": {"passes": "count?", "accuracy_single": "number?",
                                 "accuracy_averaged": "number?", "effect": "number?",
                                 "low": "number?", "high": "number?"}},
}

FAILURE_FIELDS: Spec = {"probe": "str", "epoch": "int?", "error": "str", "stage": "str?"}
STRING_COLUMNS = frozenset({"split", "class_name", "layer", "group"})


def _fail(where: Path, field: str, expected: str, value: Any) -> RecordError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return RecordError(f"{where}: {field} must be {expected}; received {shown} "
                       f"({type(value).__name__})")


def check_value(value: Any, kind: str | Spec, field: str, where: Path) -> None:
    """Raise RecordError when ``value`` is not of ``kind`` (see ``KINDS``)."""
    if isinstance(kind, dict):
        if value is None:
            return
        if not isinstance(value, dict):
            raise _fail(where, field, "an object", value)
        check_fields(value, kind, field, where)
        return
    nullable = kind.endswith("?")
    test, expected = KINDS[kind.rstrip("?")]
    if value is None and nullable:
        return
    if not test(value):
        raise _fail(where, field, expected + (" or null" if nullable else ""), value)


def check_fields(obj: dict[str, Any], spec: Spec, prefix: str, where: Path) -> None:
    """Check every declared field present in ``obj`` (undeclared fields pass)."""
    for name, kind in spec.items():
        if name in obj:
            check_value(obj[name], kind, f"{prefix}.{name}" if prefix else name, where)


def check_file_name(value: Any, field: str, run_dir: Path, where: Path) -> None:
    """An arrays file must be a plain file name inside the run folder."""
    if value is None:
        return
    if not isinstance(value, str) or not value:
        raise _fail(where, field, "a file name", value)
    plain = PurePosixPath(value).name == value and PureWindowsPath(value).name == value
    if not plain or value in (".", "..") or \
            not (run_dir / value).resolve().is_relative_to(run_dir.resolve()):
        raise RecordError(f"{where}: {field} must name a file inside the run folder "
                          f"{run_dir}; received {value!r}. Refusing to read it.")


def _check_column(table: str, column: str, values: list[Any], where: Path) -> None:
    field = f"tables.{table}.{column}"
    if column == "epoch":
        for row, value in enumerate(values):
            whole = _int(value) or (isinstance(value, float) and value.is_integer())
            if not (whole and 0 <= value < 2**53):
                raise _fail(where, f"{field} (row {row})", "an integer >= 0 in every row",
                            value)
        if table == "curves" and len(set(values)) != len(values):
            dup = next(v for i, v in enumerate(values) if v in values[:i])
            raise RecordError(f"{where}: {field} must hold each epoch once; epoch {dup} "
                              "appears more than once")
        return
    if column in STRING_COLUMNS:
        test, expected = (lambda v: v is None or isinstance(v, str)), "a string or null"
    elif column in TABLE_COLUMNS.get(table, ()) or table == "curves":
        test, expected = (lambda v: v is None or _number(v)), "a number or null"
    else:
        test, expected = KINDS["scalar"]
    for row, value in enumerate(values):
        if not test(value):
            raise _fail(where, f"{field} (row {row})", expected, value)


def check_table(name: str, payload: Any, where: Path) -> None:
    """``{columns: [unique names], data: [[one value per column], ...]}`` with typed cells."""
    if not isinstance(payload, dict) or not isinstance(payload.get("columns"), list) \
            or not isinstance(payload.get("data"), list):
        raise RecordError(f"{where}: table '{name}' is not {{columns: [...], data: [...]}}")
    columns, data = payload["columns"], payload["data"]
    check_value(columns, "list[str]", f"tables.{name}.columns", where)
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise RecordError(f"{where}: tables.{name}.columns names {dup} more than once")
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise _fail(where, f"tables.{name}.data[{i}]",
                        f"a list of {len(columns)} values (one per column)", row)
    if not data:
        return
    required = ("epoch",) if name == "curves" else TABLE_COLUMNS.get(name, ())
    missing = [c for c in required if c not in columns]
    if missing:
        raise RecordError(f"{where}: table '{name}' lacks the column(s) {missing}")
    for j, column in enumerate(columns):
        _check_column(name, column, [row[j] for row in data], where)


def check_manifest(manifest: dict[str, Any], where: Path) -> None:
    """Check the types of a parsed ``record.json`` (schema and version are checked by the
    reader); raise :class:`RecordError` naming the first wrong field."""
    meta = manifest.get("meta")
    check_value(meta, "object?", "meta", where)
    check_fields(meta or {}, META_FIELDS, "meta", where)
    tables = manifest.get("tables")
    check_value(tables, "object?", "tables", where)
    for name in TABLES:
        if name in (tables or {}):
            check_table(name, tables[name], where)
    failures = manifest.get("failures")
    if failures is not None:
        if not isinstance(failures, list):
            raise _fail(where, "failures", "a list of {probe, epoch, error} objects", failures)
        for i, entry in enumerate(failures):
            check_value(entry, "object", f"failures[{i}]", where)
            missing = [k for k in ("probe", "error") if k not in entry]
            if missing:
                raise RecordError(f"{where}: failures[{i}] lacks {missing}")
            check_fields(entry, FAILURE_FIELDS, f"failures[{i}]", where)
    for key in ("arrays_file", "static_arrays_file"):
        check_file_name(manifest.get(key), key, where.parent, where)
