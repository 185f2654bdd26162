"""``gapdoctor analyze``'s diagnosis in a forked child process, while the parent draws.

Two ways to start one. ``WarmChild.start()`` forks before the parent has imported numpy
and pandas: the child imports everything the diagnosis needs (scikit-learn and scipy
included, ~1 s) while the parent imports its own libraries and loads the record, which it
then hands over (``send``). ``fork_diagnosis(run)`` forks once the record is loaded (the
child inherits it); analyze uses it for a second and later run. Either way the result comes
back through a pipe (``result``); a child that fails makes the parent diagnose itself.

Only the standard library is imported here (and in lean_imports): this module loads
before the fork.
"""

from __future__ import annotations

import gc
import importlib
import os
import pickle
import signal
import struct
import warnings
from typing import TYPE_CHECKING, Any

from gapdoctor.cli.lean_imports import scipy_without_backend_notes

if TYPE_CHECKING:
    from gapdoctor.diagnosis import Diagnosis
    from gapdoctor.record.schema import RunRecord

Child = tuple[int, int]  # (pid, read end of the pipe its result comes through)

# What the diagnosis imports, most of it on first use (the rules and analysis modules import
# scikit-learn and scipy inside their functions): loaded before the record arrives, so
# that the diagnosis starts at once. tests/test_analyze_speed.py checks that it is complete.
PRELOAD = ("pandas", "gapdoctor.engine", "gapdoctor.fixkind", "gapdoctor.lookalikes",
           "gapdoctor.record.direction", "gapdoctor.templates", "scipy.optimize",
           "scipy.stats", "sklearn.exceptions", "sklearn.linear_model", "sklearn.metrics",
           "sklearn.model_selection", "sklearn.neighbors")
_SIZE = struct.Struct("<Q")


def one_blas_thread() -> None:
    """Limit this process's BLAS to one thread: OpenBLAS threads spin while they wait, and
    beside a second busy process they burn the other core (a quarter of an analysis's CPU)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # for the libraries loaded from now on (scipy's own BLAS)
    try:
        from threadpoolctl import threadpool_limits  # scikit-learn's dependency

        threadpool_limits(1)  # for those already loaded (numpy's)
    except Exception:  # noqa: BLE001 - only a speed-up
        pass


def _diagnose(run: RunRecord) -> Diagnosis:
    with scipy_without_backend_notes():  # if scipy loads here (a child forked per run)
        from gapdoctor.engine import diagnose

        return diagnose(run)


def _shown(caught: list[warnings.WarningMessage]) -> list[tuple[Any, ...]]:
    return [(str(w.message), w.category, w.filename, w.lineno) for w in caught]


def _write_all(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as pipe:
        pipe.write(data)


def fork_diagnosis(run: RunRecord) -> Child | None:
    """Start ``diagnose(run)`` in a forked child (which inherits the loaded record, so
    nothing is pickled to it); returns (pid, read end of its result pipe), or None."""
    if not hasattr(os, "fork"):
        return None
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid:
        os.close(write)
        return pid, read
    try:  # the child: never returns, never runs the parent's exit handlers
        os.close(read)
        gc.disable()  # a short-lived process: its cycles die with it (see run_analyze)
        try:
            one_blas_thread()  # the parent draws on the other core
            with warnings.catch_warnings(record=True) as caught:  # the parent shows them
                diagnosis = _diagnose(run)
            data = pickle.dumps((diagnosis, _shown(caught)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - the parent diagnoses again and sees it
            data = b""
        _write_all(write, data)
    finally:
        os._exit(0)


def result(child: Child) -> Diagnosis | None:
    """The child's diagnosis, or None if it failed; the warnings it caught are shown here.
    The child is not waited for: its exit (unmapping its copy of this process) takes 10-20
    ms that the outputs need not wait for; analyze reaps it after writing them."""
    _, read = child
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    try:
        diagnosis, shown = pickle.loads(data) if data else (None, [])
    except Exception:  # noqa: BLE001 - a truncated result: diagnose here instead
        return None
    for message, category, filename, lineno in shown:  # the warnings the child let through
        warnings.warn_explicit(message, category, filename, lineno)
    return diagnosis


class WarmChild:
    """A child forked at the start of ``gapdoctor analyze``, which loads the diagnosis's
    libraries while this process loads its own and the record, then diagnoses the record
    that ``send`` hands over.

    The record travels pickled (1.2 MB, ~2 ms each way for a 100-epoch record) through an
    anonymous file, so that ``send`` never waits for the busy child to read a pipe; its
    size, sent through a pipe, is the signal to start.
    """

    def __init__(self, pid: int, record: Any, go: int, result: int) -> None:
        self.pid, self._record, self._go, self._result = pid, record, go, result
        self._sent = self._taken = False

    @classmethod
    def start(cls) -> WarmChild | None:
        """Fork the child; None where fork is unavailable or fails."""
        if not hasattr(os, "fork"):
            return None
        fds: list[int] = []
        record = None
        try:
            record = _scratch_file()
            fds = [*os.pipe(), *os.pipe()]
            pid = os.fork()
        except OSError:
            for fd in fds:
                os.close(fd)
            if record is not None:
                record.close()
            return None
        go_read, go_write, result_read, result_write = fds
        if pid:
            os.close(go_read)
            os.close(result_write)
            return cls(pid, record, go_write, result_read)
        try:  # the child: never returns, never runs the parent's exit handlers
            os.close(go_write)
            os.close(result_read)
            _write_all(result_write, _serve(record.fileno(), go_read))
        finally:
            os._exit(0)

    def send(self, run: RunRecord) -> bool:
        """Hand ``run`` to the child to diagnose; False if it cannot take it."""
        try:
            data = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
            self._record.write(data)
            self._record.flush()
            os.write(self._go, _SIZE.pack(len(data)))  # 8 bytes: one atomic pipe write
            self._sent = True
        except Exception:  # noqa: BLE001 - OSError, a record that does not pickle, ...
            self._sent = False
        finally:
            os.close(self._go)
            self._record.close()
        return self._sent

    def take(self) -> Child | None:
        """(pid, result pipe) of the child diagnosing the record sent, for ``result``;
        None if none was sent. The caller reaps the child."""
        if not self._sent or self._taken:
            return None
        self._taken = True
        return self.pid, self._result

    def close(self) -> None:
        """Stop and reap the child unless its result was taken (``take``)."""
        if self._taken:
            return
        self._taken = True
        if not self._record.closed:  # nothing sent: the child reads an end of file
            os.close(self._go)
            self._record.close()
        os.close(self._result)
        try:
            os.kill(self.pid, signal.SIGKILL)  # it may be half-way through its imports
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def _scratch_file() -> Any:
    """An anonymous file in memory (Linux), else an unlinked temporary file."""
    try:
        return os.fdopen(os.memfd_create("gapdoctor-record"), "w+b")
    except (AttributeError, OSError):  # not Linux, or not allowed here
        pass
    import tempfile  # (7 ms of imports before the fork, where it is needed only here)

    return tempfile.TemporaryFile()


def _serve(record: int, go: int) -> bytes:
    """The warm child's work: load the libraries, wait for the record, diagnose it;
    returns the pickled (diagnosis, warnings), or b"" if anything failed."""
    gc.disable()  # a short-lived process: its cycles die with it (see run_analyze)
    try:
        one_blas_thread()  # before numpy loads here; the parent draws on the other core
        with warnings.catch_warnings(record=True) as caught:  # the parent shows them
            with scipy_without_backend_notes():
                for name in PRELOAD:
                    importlib.import_module(name)
            header = os.read(go, _SIZE.size)
            if len(header) != _SIZE.size:  # no run for this child
                return b""
            (size,) = _SIZE.unpack(header)
            data = bytearray()
            while len(data) < size:
                chunk = os.pread(record, size - len(data), len(data))
                if not chunk:
                    return b""
                data += chunk
            diagnosis = _diagnose(pickle.loads(data))
        return pickle.dumps((diagnosis, _shown(caught)), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - the parent diagnoses again and sees it
        return b""
