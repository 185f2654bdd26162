"""What a probe is: a small object with a name and three hooks that write into the run state.

A probe computes quantities and stores them in the shared :class:`RunState`; it never
writes files and never plots. The callback runs every hook guarded: an exception is
recorded in ``record.failures`` and warned once, and the other probes go on.

Example:
    >>> class EpochParity(Probe):
    ...     name = "parity"
    ...     def on_epoch_end(self, state, epoch, logs):
    ...         state.meta.setdefault("parity", []).append(epoch % 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gapdoctor.callback.state import RunState


class Probe:
    """Base class of probes. Override any of the hooks; all default to doing nothing."""

    name: str = "probe"

    def on_train_begin(self, state: RunState) -> None:
        """Called once per ``fit``, after the data samples were taken."""

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        """Called after every epoch, before the record is written. For a probe that is
        :meth:`deferrable`, possibly on GapDoctor's worker thread while the next epoch
        trains: the model's weights of the epoch are then in ``state.values``."""

    def capture(self, state: RunState, epoch: int, logs: dict[str, Any]) -> Any:
        """Called at every epoch's end on the training thread, first; what it returns is
        ``state.captured[self.name]`` in :meth:`on_epoch_end`. Take here what training
        changes next (e.g. the learning rate in effect)."""
        return None

    def deferrable(self, state: RunState) -> bool:
        """Whether this epoch's :meth:`on_epoch_end` may run after training has moved on,
        reading only ``state``, ``state.values`` and what :meth:`capture` took. By default
        only a probe without an ``on_epoch_end`` of its own is (every probe a user passes
        with one runs on the training thread)."""
        return type(self).on_epoch_end is Probe.on_epoch_end

    def on_train_end(self, state: RunState) -> None:
        """Called once when training ends (also after an early stop)."""


class FunctionProbe(Probe):
    """A probe made of a function ``fn(state, epoch, logs)`` called after every epoch."""

    def __init__(self, fn: Callable[[RunState, int, dict[str, Any]], Any],
                 name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "function_probe")

    def on_epoch_end(self, state: RunState, epoch: int, logs: dict[str, Any]) -> None:
        self.fn(state, epoch, logs)


def as_probe(obj: Any) -> Probe:
    """A :class:`Probe` from a probe instance or a plain callable.

    Raises:
        TypeError: ``obj`` is neither.
    """
    if isinstance(obj, Probe):
        return obj
    if callable(obj):
        return FunctionProbe(obj)
    raise TypeError("Each entry of `probes` must be a gapdoctor Probe or a callable "
                    f"fn(state, epoch, logs). Received: {obj!r} of type {type(obj).__name__}")
