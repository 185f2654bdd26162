"""gapdoctor: why is my validation metric stuck while my training loss keeps falling?

``import gapdoctor`` never imports TensorFlow or Keras, and imports nothing heavy at all:
every public name (``GapDoctor``, ``diagnose``, ``load_run``, ...) is resolved on first
use, so ``import gapdoctor`` costs milliseconds and each tool pays only for what it uses.

Example:
    >>> from gapdoctor import diagnose, load_run           # doctest: +SKIP
    >>> diagnose(load_run("history.json")).verdict          # doctest: +SKIP
    'overfitting'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gapdoctor.errors import GapDoctorError, RecordError

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from gapdoctor.callback.gapdoctor_callback import GapDoctor
    from gapdoctor.diagnosis import CAUSES, REPORT_THRESHOLD, Diagnosis, Evidence, Finding, Fix
    from gapdoctor.engine import diagnose
    from gapdoctor.importers import load_run
    from gapdoctor.record import RunRecord

_LAZY = {"GapDoctor": "gapdoctor.callback.gapdoctor_callback", "diagnose": "gapdoctor.engine",
         "load_run": "gapdoctor.importers", "RunRecord": "gapdoctor.record.schema",
         **dict.fromkeys(("CAUSES", "REPORT_THRESHOLD", "Diagnosis", "Evidence", "Finding", "Fix"),
                         "gapdoctor.diagnosis")}

__all__ = ["CAUSES", "REPORT_THRESHOLD", "Diagnosis", "Evidence", "Finding", "Fix",
           "GapDoctor", "GapDoctorError", "RecordError", "RunRecord", "diagnose", "load_run",
           "__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gapdoctor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
