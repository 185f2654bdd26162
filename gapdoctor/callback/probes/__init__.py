"""The probes GapDoctor runs; each computes one family of quantities into the run state.

``default_probes()`` returns fresh instances in the order they run: model information and
the data summary first (once), then curves, predictions and layer statistics (each epoch), then the batch-order check
(once, at the end).
"""

from __future__ import annotations

from gapdoctor.callback.probes.base import FunctionProbe, Probe, as_probe
from gapdoctor.callback.probes.batch_order import BatchOrderProbe
from gapdoctor.callback.probes.curves import CurvesProbe
from gapdoctor.callback.probes.data_summary import DataSummaryProbe
from gapdoctor.callback.probes.dynamics import DynamicsProbe
from gapdoctor.callback.probes.layers import LayersProbe
from gapdoctor.callback.probes.model_info import ModelInfoProbe
from gapdoctor.callback.probes.predictions import PredictionsProbe


def default_probes() -> list[Probe]:
    """New instances of the built-in probes (a probe keeps state within one fit)."""
    return [ModelInfoProbe(), DataSummaryProbe(), CurvesProbe(), PredictionsProbe(),
            DynamicsProbe(), LayersProbe(), BatchOrderProbe()]


__all__ = ["BatchOrderProbe", "CurvesProbe", "DataSummaryProbe", "DynamicsProbe", "FunctionProbe", "LayersProbe", "ModelInfoProbe",
           "PredictionsProbe", "Probe", "as_probe", "default_probes"]
