"""How ``GapDoctor`` keeps a fit's record: the run folder, the output followed, the guarded
steps, the writes.

:class:`RecordingMixin` opens the run (folder, :class:`RunState`, appender), runs every
step of GapDoctor under :meth:`~RecordingMixin._guard` (a failure is recorded in
``record.failures`` and the fit goes on) and writes the record after each epoch (appending)
and at the end (compressed and fsynced), keeping :class:`OnDisk` up to date.
"""

from __future__ import annotations

import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import keras
import numpy as np

from gapdoctor.callback.followed_output import followed_head
from gapdoctor.callback.outputs import OnDisk, open_run_dir
from gapdoctor.callback.state import RunState
from gapdoctor.record.appender import RecordAppender
from gapdoctor.record.schema import RunRecord
from gapdoctor.record.store import save_record


class RecordingMixin:
    """The run record of ``GapDoctor``: its folder, guarded steps and crash-safe writes."""

    # Set by GapDoctor (__init__ and on_train_begin); ``model``/``params`` come from Keras.
    output_dir: Path
    run_name: str | None
    run_dir: Path | None
    class_names: list[str] | None
    max_probe_samples: int
    max_val_samples: int
    groups: dict[str, Any] | None
    dynamics: bool
    sample_ids: Any
    train_data: Any
    output: str | int | None
    verbose: int
    _state: RunState | None
    _record_stale: bool
    _on_disk: OnDisk
    _probes: list[Any]
    _appender: RecordAppender | None

    # -- guarded execution -------------------------------------------------------------
    def _guard(self, name: str, stage: str, epoch: int | None, fn: Any, *args: Any) -> bool:
        """Run ``fn``; on an exception record it and go on. Returns whether it succeeded."""
        state = self._state
        start = time.perf_counter()
        try:
            fn(*args)
            return True
        except Exception as exc:  # noqa: BLE001 - nothing of GapDoctor may break training
            state.record.failures.append({"probe": name, "epoch": epoch, "stage": stage,
                                          "error": f"{type(exc).__name__}: {exc}"})
            return False
        finally:
            elapsed = time.perf_counter() - start
            state.probe_seconds[name] = state.probe_seconds.get(name, 0.0) + elapsed

    @property
    def record(self) -> RunRecord | None:
        """The run record so far (None before the first ``fit``); tables built on access."""
        state = getattr(self, "_state", None)
        if state is None:
            return None
        deferred = getattr(self, "_deferred", None)
        if deferred is not None:
            deferred.wait()  # the epochs still being recorded on the worker thread
        if self._record_stale:
            state.to_record()
            self._record_stale = False
        return state.record

    def _write(self, seq: int, stage: str, epoch: int | None, final: bool = False) -> None:
        """Write the record: per epoch appending (cheap), at the end compressed and fsynced."""
        state = self._state
        self._record_stale = True
        if self.run_dir is None:
            return

        def write() -> None:
            if final:
                save_record(self.record, self.run_dir, seq=seq)
            else:
                state.meta["probe_seconds"] = {k: round(v, 4)
                                               for k, v in state.probe_seconds.items()}
                self._appender.write(state.meta, state.table_rows(), state.current_arrays(),
                                     state.record.failures, seq=seq)

        if self._guard("record_write", stage, epoch, write):
            self._on_disk.record_epochs = int(state.meta.get("epochs_completed", 0))
            self._on_disk.record_final = final

    # -- setup -------------------------------------------------------------------------
    def _base_meta(self) -> dict[str, Any]:
        from gapdoctor.callback.backends import versions as backend_versions

        try:
            version = metadata.version("gapdoctor")
        except metadata.PackageNotFoundError:
            version = "unknown"
        return {"task": "unknown", "epochs_planned": (self.params or {}).get("epochs"),
                "completed": False, "epochs_completed": 0,
                "versions": {"python": platform.python_version(), "gapdoctor": version,
                             "keras": keras.__version__, **backend_versions(),
                             "numpy": np.__version__},
                "settings": {"max_probe_samples": self.max_probe_samples,
                             "max_val_samples": self.max_val_samples,
                             "groups": sorted(self.groups or {}),
                             "probes": [p.name for p in self._probes]}}

    def _follow_output(self, state: RunState) -> None:
        """Which of the model's outputs the probes follow (see ``followed_output``)."""
        state.head = followed_head(self.model, self.output)
        if not state.head.single:
            state.meta["followed_output"] = {"name": state.head.name,
                                             "key": state.head.key,
                                             "position": state.head.position,
                                             "n_outputs": state.head.n_outputs}
            state.note(f"The model has {state.head.n_outputs} outputs; the probes follow "
                       f"{state.head.key!r} (per-class metrics, margins, gradient norms of "
                       "its loss alone).")

    def _trim_dynamics(self, state: RunState, train: Any) -> None:
        """Dynamics on the trained-on rows only (and their ids, when given per row)."""
        settings = state.settings["dynamics"]
        settings["data"] = train
        ids = settings.get("sample_ids")
        if ids is not None and not isinstance(ids, str) and isinstance(train, (tuple, list)):
            settings["sample_ids"] = np.asarray(ids)[:len(np.asarray(train[1]))]

    def _open_run(self) -> None:
        """Choose the run folder (a temporary one if output_dir is unusable) and the state.
        A multi-worker training's non-chief workers record in memory and write nothing."""
        from gapdoctor.callback.distribute import is_chief

        self.run_dir, problem = (open_run_dir(self.output_dir, self.run_name)
                                 if is_chief(self.model) else (None, None))
        name = self.run_dir.name if self.run_dir is not None else (self.run_name or "run")
        record = RunRecord.empty(source="gapdoctor", run_name=name)
        self._state = RunState(model=self.model, record=record, run_dir=self.run_dir,
                               settings={"class_names": self.class_names, "dynamics": {
                                   "enabled": self.dynamics, "data": self.train_data,
                                   "sample_ids": self.sample_ids}})
        self._appender = RecordAppender(self.run_dir) if self.run_dir is not None else None
        if problem is not None:
            record.failures.append({"probe": "output_dir", "epoch": None,
                                    "stage": "train_begin", "error": problem})
            if self.verbose:
                print(f"GapDoctor: {problem}.")
