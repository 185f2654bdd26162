"""The run record: the boundary between training (TensorFlow) and analysis (pure Python)."""

from gapdoctor.record.schema import (
    ARRAY_DOC,
    META_DOC,
    RUN_SCHEMA,
    RUN_SCHEMA_VERSION,
    RunRecord,
    metric_mode,
    pick_monitor,
)
from gapdoctor.record.store import read_record, save_record

__all__ = ["ARRAY_DOC", "META_DOC", "RUN_SCHEMA", "RUN_SCHEMA_VERSION", "RunRecord",
           "metric_mode", "pick_monitor", "read_record", "save_record"]
