"""gapdoctor: why is my validation metric stuck while my training loss keeps falling?

``import gapdoctor`` never imports TensorFlow or Keras: ``GapDoctor`` (the Keras callback)
is resolved on first use, so analysis-only users and the CLI start fast.

Example:
    >>> from gapdoctor import diagnose, load_run           # doctest: +SKIP
    >>> diagnose(load_run("history.json")).verdict          # doctest: +SKIP
    'overfitting'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gapdoctor.diagnosis import CAUSES, REPORT_THRESHOLD, Diagnosis, Evidence, Finding, Fix
from gapdoctor.engine import diagnose
from gapdoctor.errors import GapDoctorError, RecordError
from gapdoctor.importers import load_run
from gapdoctor.record import RunRecord

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from gapdoctor.callback.gapdoctor_callback import GapDoctor

__all__ = ["CAUSES", "REPORT_THRESHOLD", "Diagnosis", "Evidence", "Finding", "Fix",
           "GapDoctor", "GapDoctorError", "RecordError", "RunRecord", "diagnose", "load_run",
           "__version__"]


def __getattr__(name: str) -> Any:
    if name == "GapDoctor":
        from gapdoctor.callback.gapdoctor_callback import GapDoctor

        return GapDoctor
    raise AttributeError(f"module 'gapdoctor' has no attribute {name!r}")
