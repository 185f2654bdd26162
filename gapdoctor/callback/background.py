"""The train-end analysis in a spawned process, so that ``fit`` returns when training ends.

When training ends the record is final on disk. A fresh interpreter running this file
(by path: importing ``gapdoctor.callback`` would import Keras) loads it, diagnoses it, writes
``diagnosis.json`` and ``report.pdf`` atomically, adds whatever failed to the record on disk,
and sends the diagnosis back through its stdout pipe, which a thread of the training process
reads. It is spawned, never forked (TensorFlow is initialised in the training process), and
started with ``subprocess`` rather than multiprocessing's spawn, which re-runs the user's script
in the child when it has no ``if __name__ == "__main__"`` guard (most training scripts).

The child never imports TensorFlow. It exits when the training process is gone, so neither
SIGKILL nor Ctrl-C (which reaches the whole process group) leaves it running; at interpreter
exit the training process waits for it (at most ``EXIT_WAIT_SECONDS``), so a script that
ends right after ``fit`` still gets its report.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

WAIT_SECONDS = 900.0  # reading ``doctor.diagnosis``: a huge record may take minutes
EXIT_WAIT_SECONDS = 120.0  # at interpreter exit: bounded, never a hang
_JOBS: weakref.WeakSet[BackgroundAnalysis] = weakref.WeakSet()
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_command(run_dir: Path, seq: int, report: bool) -> list[str]:
    """The command line of the analysis process of ``run_dir``."""
    return [sys.executable, "-c", "import runpy, sys; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')", str(Path(__file__).resolve()),
            str(Path(run_dir).absolute()), str(int(seq)), "1" if report else "0",
            str(os.getpid())]


def _failure(name: str, error: str) -> dict[str, Any]:
    return {"probe": name, "epoch": None, "stage": "train_end", "error": error}


class BackgroundAnalysis:
    """One spawned analysis of ``run_dir``; ``finish`` hands its result to ``on_result`` once.

    The result is a dict: ``diagnosis`` (a Diagnosis or None), ``failures`` (entries as in
    ``record.failures``), ``on_disk`` (``{"diagnosis": bool, "report": bool}``),
    ``timings`` and ``warnings`` (the child's own gapdoctor warnings, as text).

    Raises:
        OSError: the process could not be started (the caller then analyses in-process).
    """

    def __init__(self, run_dir: Path, report: bool, seq: int,
                 on_result: Callable[[dict[str, Any]], None]) -> None:
        import gapdoctor

        package_root = str(Path(gapdoctor.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [package_root, *filter(None, [env.get("PYTHONPATH")])])
        for name in _BLAS_THREADS:  # spinning BLAS threads would slow a training beside it
            env.setdefault(name, "1")
        self.run_dir = Path(run_dir)
        self.started = time.perf_counter()
        self._owner = os.getpid()  # a forked copy of this process must not collect it
        self._on_result = on_result
        self._lock = threading.Lock()
        self._done = False
        self._out = self._err = b""
        self.proc = subprocess.Popen(
            child_command(self.run_dir, seq, report), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        # the pipes are drained at once, so a big result never blocks the child's exit
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="gapdoctor-background")
        self._reader.start()
        _JOBS.add(self)

    def _read(self) -> None:
        self._out, self._err = self.proc.communicate()

    @property
    def done(self) -> bool:
        """Whether the result has been handed over."""
        return self._done

    def finish(self, timeout: float = WAIT_SECONDS) -> None:
        """Wait (at most ``timeout`` s; Ctrl-C stops the child and re-raises) and hand the
        result over, once."""
        with self._lock:
            if self._done or os.getpid() != self._owner:
                return
            try:
                self._reader.join(timeout)
            except KeyboardInterrupt:
                self._stop()
                self._deliver(self._lost("interrupted (Ctrl-C) before it finished"))
                raise
            if self._reader.is_alive():
                self._stop()
                result = self._lost(f"did not finish within {timeout:g} s and was stopped")
            else:
                result = self._result()
            self._deliver(result)

    def _deliver(self, result: dict[str, Any]) -> None:
        self._done = True
        result.setdefault("timings", {})["background_wall"] = time.perf_counter() - self.started
        self._on_result(result)

    def _stop(self) -> None:
        self.proc.kill()
        self._reader.join(10)

    def _lost(self, why: str) -> dict[str, Any]:
        return {"diagnosis": None, "on_disk": {"diagnosis": False, "report": False},
                "warnings": [], "failures": [_failure(
                    "background_analysis", f"the analysis process (pid {self.proc.pid}) {why}; "
                    f"run `gapdoctor analyze {self.run_dir} --pdf "
                    f"{self.run_dir / 'report.pdf'}` to redo it")]}

    def _result(self) -> dict[str, Any]:
        try:
            result = pickle.loads(self._out)
            if isinstance(result, dict) and "failures" in result:
                return result
        except Exception:  # noqa: BLE001 - reported below with the child's own words
            pass
        tail = " | ".join(self._err.decode("utf-8", "replace").strip().splitlines()[-3:])
        return self._lost(f"ended with exit code {self.proc.returncode} and no result"
                          + (f" ({tail})" if tail else ""))


@atexit.register
def _finish_at_exit() -> None:
    for job in list(_JOBS):
        try:
            job.finish(EXIT_WAIT_SECONDS)
        except BaseException:  # noqa: BLE001 - Ctrl-C at exit: the child is stopped; go on
            continue


# -- the child -------------------------------------------------------------------------------
def analyze(run_dir: Path, seq: int, report: bool) -> dict[str, Any]:
    """Load, diagnose and write ``diagnosis.json`` (and ``report.pdf``); never raises."""
    from gapdoctor.record.atomic import atomic_path, atomic_write_text

    result: dict[str, Any] = {"diagnosis": None, "failures": [], "timings": {},
                              "on_disk": {"diagnosis": False, "report": False}}
    failures, timings = result["failures"], result["timings"]

    def guard(name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - recorded, as inside fit
            failures.append(_failure(name, f"{type(exc).__name__}: {exc}"))
            return None
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

    def load() -> Any:
        from gapdoctor.importers import load_run

        return load_run(run_dir)

    def diagnose() -> Any:
        from gapdoctor.engine import diagnose

        return diagnose(run)

    def write_pdf() -> bool:
        from gapdoctor.report import write_report

        with atomic_path(run_dir / "report.pdf") as tmp:
            write_report(run, diagnosis, tmp)
        return True

    run = guard("diagnosis", load)
    diagnosis = guard("diagnosis", diagnose) if run is not None else None
    result["diagnosis"] = diagnosis
    if diagnosis is not None:
        result["on_disk"]["diagnosis"] = guard("diagnosis_write", lambda: atomic_write_text(
            run_dir / "diagnosis.json", diagnosis.to_json()) or True) is True
        if report:
            result["on_disk"]["report"] = guard("report", write_pdf) is True
    if failures and run is not None:  # keep the analysis failures on disk, as inside fit
        from gapdoctor.record.store import save_record

        run.failures.extend(failures)
        try:
            save_record(run, run_dir, seq=seq + 1)
        except Exception as exc:  # noqa: BLE001 - the parent still learns of the failure
            failures.append(_failure("record_write", f"{type(exc).__name__}: {exc}"))
    return result


def _exit_with_parent(parent: int, run_dir: Path) -> None:
    """Stop this process soon after the parent is gone, leaving no temporary file.

    The main thread is interrupted first (its writers remove their own temporary files);
    one that does not stop within a second (inside a long C call) is ended here, after this
    thread removes the run folder's temporary files: with the parent gone, none of them can
    belong to another writer."""
    import _thread

    while os.getppid() == parent:
        time.sleep(0.2)
    _thread.interrupt_main()
    time.sleep(1.0)
    for tmp in run_dir.glob(".*.tmp"):
        try:
            tmp.unlink()
        except OSError:
            pass
    os._exit(1)


def main(argv: list[str]) -> int:
    """The analysis process: ``argv`` is ``RUN_DIR SEQ REPORT(0|1) PARENT_PID``."""
    channel = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but the result may reach the pipe
    run_dir, seq, report, parent = Path(argv[0]), int(argv[1]), argv[2] == "1", int(argv[3])
    threading.Thread(target=_exit_with_parent, args=(parent, run_dir), daemon=True).start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = analyze(run_dir, seq, report)
        result["warnings"] = [str(w.message) for w in caught
                              if str(w.message).lower().startswith("gapdoctor")]
        channel.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        channel.flush()
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
