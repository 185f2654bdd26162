"""Write every suspected wrong label of a run: ``suspects.csv`` and ``label_dynamics.npz``.

``suspects.csv`` lists every flagged training sample, most suspicious first (columns in
``gapdoctor.analysis.label_dynamics.SUSPECT_COLUMNS``). ``label_dynamics.npz`` holds, for
every training sample, the arrays cleanlab's ``find_label_issues(labels, pred_probs)``
accepts (``labels``, ``pred_probs``: the out-of-sample-like neighbour vote) beside ``ids``,
``aum``, ``confidence``, ``variability`` and ``flagged``. Both are written atomically.

Example:
    >>> import numpy as np                                                  # doctest: +SKIP
    >>> from cleanlab.filter import find_label_issues                       # doctest: +SKIP
    >>> z = np.load("gapdoctor-runs/run-1/label_dynamics.npz")              # doctest: +SKIP
    >>> issues = find_label_issues(z["labels"], z["pred_probs"])            # doctest: +SKIP
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from gapdoctor.analysis.label_dynamics import dynamics_of
from gapdoctor.record.atomic import atomic_write_bytes, atomic_write_text
from gapdoctor.record.schema import RunRecord

SUSPECTS_CSV = "suspects.csv"
EXPORT_NPZ = "label_dynamics.npz"


def write_suspects(record: RunRecord, run_dir: Path) -> int | None:
    """Write both files into ``run_dir``; returns the number of suspects (None: no data)."""
    facts = dynamics_of(record)
    if facts is None:
        return None
    table = facts.suspects()
    atomic_write_text(Path(run_dir) / SUSPECTS_CSV, table.to_csv(index=False))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, labels=facts.labels, pred_probs=facts.pred_probs(),
                        ids=facts.ids, aum=facts.aum.astype(np.float32),
                        confidence=facts.confidence.astype(np.float32),
                        variability=facts.variability.astype(np.float32),
                        flagged=facts.flagged)
    atomic_write_bytes(Path(run_dir) / EXPORT_NPZ, buffer.getvalue())
    record.meta.setdefault("dynamics", {}).update(
        n_flagged=facts.n_flagged, suspects_file=SUSPECTS_CSV, export_file=EXPORT_NPZ)
    return len(table)
