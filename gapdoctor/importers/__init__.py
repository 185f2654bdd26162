"""Readers that turn saved runs into a ``RunRecord``; ``load_run`` picks one by content.

Formats: a gapdoctor run directory (or its ``record.json``), a Keras History JSON, a
``CSVLogger`` CSV and a ``TensorBoard`` log directory (or one event file). None of them
imports TensorFlow or Keras.

Example:
    >>> run = load_run("gapdoctor-runs/run-1")   # doctest: +SKIP
    >>> run = load_run("history.json")           # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import sniff_binary
from gapdoctor.importers.csv_logger import read_csv_logger
from gapdoctor.importers.history_json import read_history_json
from gapdoctor.record import RunRecord, read_record
from gapdoctor.record.schema import RUN_SCHEMA
from gapdoctor.record.store import MANIFEST

__all__ = ["detect_format", "load_run", "read_csv_logger", "read_history_json",
           "read_tensorboard"]

_SNIFF = 8192


def read_tensorboard(path: str | os.PathLike[str]) -> RunRecord:
    """Read a TensorBoard log dir; see :mod:`gapdoctor.importers.tensorboard`."""
    from gapdoctor.importers.tensorboard import read_tensorboard as _read

    return _read(path)


def detect_format(path: str | os.PathLike[str]) -> str:
    """``'record'``, ``'tensorboard'``, ``'json'`` or ``'csv'``, judged by content.

    Raises:
        RecordError: the path is missing, an empty file, a binary file, or a directory
            with neither a ``record.json`` nor event files.
    """
    path = Path(path)
    if not path.exists():
        raise RecordError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return "record"
        from gapdoctor.importers.tensorboard import event_files

        if event_files(path):
            return "tensorboard"
        raise RecordError(f"{path}: directory holds neither a gapdoctor record.json nor "
                          "TensorBoard event files (for a folder of runs, use gapdoctor batch)")
    if "tfevents" in path.name:
        return "tensorboard"
    if path.name == MANIFEST:
        return "record"
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not head.strip():
        raise RecordError(f"{path}: empty file")
    sniff_binary(path, head)
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if first in (b"{", b"[") else "csv"


def load_run(path: str | os.PathLike[str]) -> RunRecord:
    """Read any saved run gapdoctor knows, detecting the format by content.

    Args:
        path: a run directory or ``record.json``, a History ``.json``, a CSVLogger CSV,
            a TensorBoard log directory or event file.

    Raises:
        RecordError: one line naming the file and what was wrong with it.
    """
    path = Path(path)
    kind = detect_format(path)
    if kind == "record":
        return read_record(path)
    if kind == "tensorboard":
        return read_tensorboard(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text (undecodable byte at offset "
                          f"{exc.start})") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if kind == "json":
        if f'"{RUN_SCHEMA}"' in text[:_SNIFF] or '"gapdoctor.diagnosis' in text[:_SNIFF]:
            try:
                schema = json.loads(text).get("schema")
            except (json.JSONDecodeError, AttributeError):
                schema = None
            if schema == RUN_SCHEMA:
                return read_record(path)
            if isinstance(schema, str) and schema.startswith("gapdoctor.diagnosis"):
                raise RecordError(f"{path}: a gapdoctor diagnosis, not a run; pass the run "
                                  "directory or the training log")
        return read_history_json(path, text)
    return read_csv_logger(path, text)
