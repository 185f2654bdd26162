"""Which process of a multi-worker training writes GapDoctor's files.

Under ``tf.distribute.MultiWorkerMirroredStrategy`` every worker runs the same ``fit`` and
the same callbacks; only the chief (task type ``chief``, or worker 0 when the cluster has no
``chief`` task) writes the record, the diagnosis and the report. The others record in memory
and write nothing. Under JAX's multi-process runs, process 0 writes. A single process
(MirroredStrategy on several devices included) is always the chief.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def task_of(model: Any = None) -> tuple[str | None, int | None, dict[str, Any]]:
    """(task type, task index, cluster spec) of this process: from the model's strategy's
    cluster resolver when it has one, else from ``TF_CONFIG``; (None, None, {}) alone."""
    resolver = getattr(getattr(model, "distribute_strategy", None), "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if task_type is not None:
        try:
            cluster = resolver.cluster_spec().as_dict()
        except Exception:  # noqa: BLE001 - a resolver without a spec: no chief task known
            cluster = {}
        return str(task_type), int(getattr(resolver, "task_id", 0) or 0), cluster
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError:
        return None, None, {}
    task = config.get("task") or {}
    if not isinstance(task, dict) or "type" not in task:
        return None, None, {}
    return str(task["type"]), int(task.get("index", 0)), dict(config.get("cluster") or {})


def is_chief(model: Any = None) -> bool:
    """Whether this process writes GapDoctor's files (see the module docstring)."""
    jax = sys.modules.get("jax")
    if jax is not None and "keras" in sys.modules and \
            sys.modules["keras"].backend.backend() == "jax":
        return int(jax.process_index()) == 0
    task_type, task_id, cluster = task_of(model)
    if task_type is None or task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in cluster
