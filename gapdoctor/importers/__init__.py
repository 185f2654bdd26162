"""Readers that turn saved runs into a ``RunRecord``; ``load_run`` picks one by content.

Example:
    >>> run = load_run("gapdoctor-runs/run-1")   # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from gapdoctor.errors import RecordError
from gapdoctor.record import RunRecord, read_record
from gapdoctor.record.store import MANIFEST


def load_run(path: str | os.PathLike[str]) -> RunRecord:
    """Read a gapdoctor run directory (other formats: see the importers package).

    Raises:
        RecordError: naming the file and what was wrong with it.
    """
    path = Path(path)
    if not path.exists():
        raise RecordError(f"{path}: no such file or directory")
    if (path.is_dir() and (path / MANIFEST).exists()) or path.name == MANIFEST:
        return read_record(path)
    raise RecordError(f"{path}: not a format gapdoctor reads")
