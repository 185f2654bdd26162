"""Readers that turn saved runs into a ``RunRecord``; ``load_run`` picks one by content.

Formats: a gapdoctor run directory (or its ``record.json``, or the ``output_dir`` holding
run directories: the newest is read), a Keras History JSON (also pandas ``to_json`` and a
Hugging Face ``trainer_state.json``), a ``CSVLogger`` CSV and a ``TensorBoard`` log
directory (or one event file); JSON and CSV may be gzipped. None of them imports
TensorFlow or Keras.

Example:
    >>> run = load_run("gapdoctor-runs/run-1")   # doctest: +SKIP
    >>> run = load_run("history.json")           # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from pathlib import Path

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import GZIP_MAGIC, read_bytes, sniff_binary
from gapdoctor.importers.csv_logger import read_csv_fits, read_csv_logger
from gapdoctor.importers.history_json import parse_json, read_history_json, read_keyed_runs
from gapdoctor.importers.pickled import is_pickled, read_pickled, read_pickled_runs
from gapdoctor.record import RunRecord, read_record
from gapdoctor.record.schema import RUN_SCHEMA
from gapdoctor.record.store import MANIFEST

__all__ = ["detect_format", "load_run", "load_runs", "read_csv_fits", "read_csv_logger",
           "read_history_json", "read_tensorboard"]

_SNIFF = 8192
_FIT = re.compile(r"(?P<base>.+)#fit(?P<k>\d{1,6})")
_NESTED = re.compile(r'\s*\{\s*"(?:[^"\\]|\\.)*"\s*:\s*\{')
_KEY = re.compile(r"(?P<base>.+?\.(?:json|json\.gz|pkl|pickle|p|npy))#(?P<key>[^#]+)",
                  re.IGNORECASE)


def read_tensorboard(path: str | os.PathLike[str]) -> RunRecord:
    """Read a TensorBoard log dir; see :mod:`gapdoctor.importers.tensorboard`."""
    from gapdoctor.importers.tensorboard import read_tensorboard as _read

    return _read(path)


def _run_folders(path: Path) -> list[Path]:
    """Run directories (holding a ``record.json``) directly inside ``path``, oldest first."""
    try:
        found = [p for p in path.iterdir() if (p / MANIFEST).is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda p: ((p / MANIFEST).stat().st_mtime, p.name))


def _head(path: Path) -> bytes:
    """The first bytes of a file (of its content when gzipped)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head[:2] == GZIP_MAGIC:
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(_SNIFF)
        except (OSError, EOFError, zlib.error) as exc:
            raise RecordError(f"{path}: corrupt gzip file ({exc})") from None
    return head


def detect_format(path: str | os.PathLike[str]) -> str:
    """``'record'``, ``'runs'`` (a folder of run directories), ``'tensorboard'``, ``'json'``,
    ``'pickle'`` (a pickled or ``np.save``-d History dict) or ``'csv'``, judged by content.

    Raises:
        RecordError: the path is missing, an empty file, a binary file, or a directory
            with neither a ``record.json``, run directories nor event files.
    """
    path = Path(path)
    if not path.exists():
        raise RecordError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return "record"
        if _run_folders(path):
            return "runs"
        from gapdoctor.importers.tensorboard import event_files

        if event_files(path):
            return "tensorboard"
        raise RecordError(f"{path}: directory holds neither a gapdoctor record.json nor "
                          "TensorBoard event files (for a folder of runs, use gapdoctor batch)")
    if "tfevents" in path.name:
        return "tensorboard"
    if path.name == MANIFEST:
        return "record"
    head = _head(path)
    if not head.strip():
        raise RecordError(f"{path}: empty file")
    if is_pickled(head):
        return "pickle"
    sniff_binary(path, head)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "json"
    try:  # a JSON scalar (null, 1, "x", true) is no CSV either
        json.loads(head)
        return "json"
    except (ValueError, RecursionError):
        return "csv"


def _newest_run(path: Path) -> RunRecord:
    """The newest run directory of an ``output_dir``, with a note when there are others."""
    runs = _run_folders(path)
    run = read_record(runs[-1])
    if len(runs) > 1:
        notes = run.meta.get("notes")
        run.meta["notes"] = [f"{path.name} holds {len(runs)} runs; analysed the newest, "
                             f"{runs[-1].name} (pass a run folder to pick another, or use "
                             "gapdoctor batch for all)",
                             *(notes if isinstance(notes, list) else [])]
    return run


def _text(path: Path) -> str:
    data = read_bytes(path)
    sniff_binary(path, data[:_SNIFF])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text (undecodable byte at offset "
                          f"{exc.start})") from None


def _read_json(path: Path, text: str) -> RunRecord:
    if f'"{RUN_SCHEMA}"' in text[:_SNIFF] or '"gapdoctor.diagnosis' in text[:_SNIFF]:
        obj = parse_json(path, text)
        schema = obj.get("schema") if isinstance(obj, dict) else None
        if schema == RUN_SCHEMA:
            return read_record(path)
        if isinstance(schema, str) and schema.startswith("gapdoctor.diagnosis"):
            raise RecordError(f"{path}: a gapdoctor diagnosis, not a run; pass the run "
                              "directory or the training log")
    return read_history_json(path, text)


def load_run(path: str | os.PathLike[str]) -> RunRecord:
    """Read any saved run gapdoctor knows, detecting the format by content.

    Args:
        path: a run directory or ``record.json`` (or the ``output_dir`` holding run
            directories: the newest is read, with a note), a History ``.json``, a
            CSVLogger CSV (``FILE#fit2`` picks one fit of a file appended by several;
            ``FILE.json#name`` one run of a JSON file holding several keyed by name), a
            TensorBoard log directory or event file; JSON and CSV may be gzipped.

    Raises:
        RecordError: one line naming the file and what was wrong with it.
    """
    path = Path(path)
    keyed = _KEY.fullmatch(str(path))
    if keyed and not path.exists() and Path(keyed["base"]).is_file():
        base = Path(keyed["base"])
        if detect_format(base) == "pickle":
            return read_pickled(base, key=keyed["key"])
        return read_history_json(base, _text(base), key=keyed["key"])
    fit = _FIT.fullmatch(str(path))
    if fit and not path.exists() and Path(fit["base"]).is_file():
        base = Path(fit["base"])
        if detect_format(base) != "csv":
            raise RecordError(f"{path}: #fit<k> selects a fit of a CSV log; {base.name} is not one")
        return read_csv_logger(base, _text(base), fit=int(fit["k"]))
    kind = detect_format(path)
    if kind == "record":
        return read_record(path)
    if kind == "runs":
        return _newest_run(path)
    if kind == "tensorboard":
        return read_tensorboard(path)
    if kind == "pickle":
        return read_pickled(path)
    text = _text(path)
    if kind == "json":
        return _read_json(path, text)
    return read_csv_logger(path, text)


def load_runs(path: str | os.PathLike[str], fits: bool = True) -> list[RunRecord]:
    """Every run a path holds: each fit of a CSV log appended by several fits (named
    ``<stem>#fit<k>``; with ``fits=False`` the CSV is read as ``load_run`` reads it), each
    run of a JSON or pickle file holding several keyed by name (named ``<stem>#<key>``),
    otherwise ``[load_run(path)]``.

    Raises:
        RecordError: as :func:`load_run`.
    """
    path = Path(path)
    if path.is_file() and not _FIT.fullmatch(str(path)):
        kind = detect_format(path)
        if kind == "csv" and fits:
            return read_csv_fits(path, _text(path))
        if kind == "pickle":
            return read_pickled_runs(path)
        if kind == "json":
            text = _text(path)
            # only an object whose first value is an object can hold runs keyed by name
            runs = read_keyed_runs(path, parse_json(path, text)) if _NESTED.match(
                text[:_SNIFF]) else None
            if runs is not None:
                return runs
            return [_read_json(path, text)]
    return [load_run(path)]
