"""Epochs recorded on a worker thread while the next epochs train.

At an epoch's end GapDoctor takes on the training thread only what training is about to
change: a snapshot of the model's weights (:func:`gapdoctor.callback.backends.snapshot`)
and what each probe's ``capture`` takes (the learning rate in effect). The probes' forward
passes, gradients, metrics and the record write then run here, on one worker thread, in
epoch order, on those weights: the record is the one the training thread would have
written, and ``fit`` goes on meanwhile (TensorFlow and XLA release the GIL while they
compute). An epoch stays on the training thread when a probe cannot be deferred (one a user
passes, one still tracing its functions), under a distribution strategy, for a model whose
weights exceed :data:`MAX_SNAPSHOT_BYTES`, and on torch (two threads running torch ops at
once slowed the training 1.6x: see ``backends/torch_fns.py``).

At most :data:`MAX_WAITING` epochs wait besides the one being recorded, so at most that
many snapshots are held; ``fit`` waits when the worker falls behind, and every recorded
epoch is on disk before ``on_train_end`` goes on.

Example:
    >>> worker = DeferredEpochs()
    >>> worker.submit(print, "epoch 3 recorded")
    >>> worker.wait()
    epoch 3 recorded
    >>> worker.close()
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

# one epoch may wait while another is being recorded: with more, a worker slower than the
# training would hold ever more weight snapshots (memory) for no gain in speed
MAX_WAITING = 1
# a snapshot is a copy of the weights (TensorFlow makes it when the optimizer next writes)
# and two may be held at once; past this size an epoch is recorded on the training thread:
# such a model trains long epochs, to which the probes add little, and two more copies of it
# might not fit beside it on its device
MAX_SNAPSHOT_BYTES = 256 * 2**20


def weights_bytes(model: Any) -> int:
    """Bytes of the model's variables (4 per value where the dtype is not numpy's)."""
    total = 0
    for v in getattr(model, "variables", None) or []:
        try:
            size = np.dtype(str(v.dtype)).itemsize
        except TypeError:
            size = 4
        total += int(np.prod(tuple(v.shape), dtype=np.int64)) * size
    return total


class DeferredEpochs:
    """One worker thread running submitted epoch recordings in order (see the module)."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._pending: deque[Future[Any]] = deque()
        self._weights_bytes: int | None = None  # of the fit's model, read once
        self.seconds = 0.0  # time the worker spent recording

    def can_hold(self, model: Any) -> bool:
        """Whether snapshots of ``model``'s weights are small enough to hold (see
        :data:`MAX_SNAPSHOT_BYTES`)."""
        if self._weights_bytes is None:
            self._weights_bytes = weights_bytes(model)
        return self._weights_bytes <= MAX_SNAPSHOT_BYTES

    def submit(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the worker after everything submitted before (``fn`` must
        not raise: GapDoctor's recording guards every step)."""
        while len(self._pending) > MAX_WAITING:
            self._pending.popleft().result()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="gapdoctor-epochs")
        self._pending.append(self._executor.submit(self._run, fn, *args))

    def _run(self, fn: Any, *args: Any) -> None:
        self._thread = threading.current_thread()
        start = time.perf_counter()
        try:
            fn(*args)
        finally:
            self.seconds += time.perf_counter() - start

    def wait(self) -> None:
        """Return when every submitted recording has finished (at once on the worker)."""
        if self.on_worker():
            return
        while self._pending:
            self._pending.popleft().result()

    def on_worker(self) -> bool:
        """Whether the caller is the worker thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def close(self) -> None:
        """Wait for the recordings and end the worker thread."""
        self.wait()
        if self._executor is not None and not self.on_worker():
            self._executor.shutdown(wait=True)
            self._executor, self._thread = None, None
