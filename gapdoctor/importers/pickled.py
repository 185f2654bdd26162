"""Histories saved with pickle or numpy, read without running any code from the file.

``pickle.dump(history.history, f)`` and ``np.save("history.npy", history.history)`` are how
many notebooks keep a run. Unpickling can run arbitrary code, so this reader rebuilds only
plain data: dicts, lists, numbers, strings and numpy scalars and arrays. Anything else (a
pickled Keras ``History`` object, a model) is refused with one line saying what to save
instead. The plain data then goes through the History JSON reader.

Example:
    >>> import io, pickle
    >>> safe_loads(pickle.dumps({"loss": [1.0, 0.5]}), Path("h.pkl"))
    {'loss': [1.0, 0.5]}
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from gapdoctor.errors import RecordError
from gapdoctor.importers._common import read_bytes
from gapdoctor.importers.history_json import read_history_obj, read_keyed_runs
from gapdoctor.record import RunRecord

NPY_MAGIC = b"\x93NUMPY"
# the only callables a plain-data pickle needs: containers and numpy's own rebuilders
_ALLOWED = {("builtins", "dict"), ("builtins", "list"), ("builtins", "set"),
            ("builtins", "frozenset"), ("collections", "OrderedDict"), ("numpy", "dtype"),
            ("numpy", "ndarray"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct")}


def is_pickled(head: bytes) -> bool:
    """A pickle of protocol 2-5 or a ``.npy`` file, by its first bytes."""
    return head.startswith(NPY_MAGIC) or (len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5)


class _PlainUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, path: Path) -> None:
        super().__init__(io.BytesIO(data))
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise RecordError(f"{self.path}: a pickle of {module}.{name}; gapdoctor rebuilds plain "
                          "data only and never runs code from a file: save history.history "
                          "(a dict of lists), not the History object")


def safe_loads(data: bytes, path: Path) -> Any:
    """The plain data of a pickle, as Python numbers, strings, lists and dicts."""
    try:
        return _plain(_PlainUnpickler(data, path).load())
    except RecordError:
        raise
    except Exception as exc:  # truncated or corrupt pickles raise many kinds
        raise RecordError(f"{path}: unreadable pickle ({type(exc).__name__}: {exc})") from None


def _npy_payload(data: bytes, path: Path) -> Any:
    """The object a ``.npy`` file holds (a pickled object array, or a plain numeric one)."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)  # 2.0 and 3.0 share a layout
        shape, _, dtype = read_header(stream)
    except ValueError as exc:
        raise RecordError(f"{path}: not a valid .npy file ({exc})") from None
    if dtype.hasobject:
        return safe_loads(data[stream.tell():], path)
    stream.seek(0)
    array = np.lib.format.read_array(stream, allow_pickle=False)
    raise RecordError(f"{path}: a bare numeric array of shape {tuple(shape)} has no metric "
                      f"names; save the dict, np.save(path, history.history) "
                      f"(it holds {array.size} numbers)")


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.item() if obj.ndim == 0 else obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _document(path: Path) -> Any:
    data = read_bytes(path)
    return _npy_payload(data, path) if data.startswith(NPY_MAGIC) else safe_loads(data, path)


def read_pickled(path: Path, key: str | None = None) -> RunRecord:
    """One run of a pickled or ``np.save``-d History dict (``key`` picks one of several)."""
    return read_history_obj(path, _document(path), key)


def read_pickled_runs(path: Path) -> list[RunRecord]:
    """Every run such a file holds (several when keyed by name)."""
    obj = _document(path)
    return read_keyed_runs(path, obj) or [read_history_obj(path, obj)]
