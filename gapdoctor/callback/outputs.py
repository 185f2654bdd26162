"""Where a fit's files go, what actually reached the disk, and the one warning of a fit.

The run folder is made under ``output_dir``; when that is impossible (a path under a regular
file, a read-only filesystem, no permission) the run is recorded in a new temporary folder
instead, and the warning says where: a training that ran for hours still yields its record.
Only if no temporary folder can be made either does the fit go on without files (the
record and diagnosis stay in memory on the callback).

Every write is atomic, so after a failed write the previous complete version stays on disk;
:class:`OnDisk` keeps track of which version that is, and :func:`fit_warning` says it.
"""

from __future__ import annotations

import functools
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def make_run_dir(output_dir: Path, run_name: str | None) -> Path:
    """A new folder ``output_dir/<run_name>[-N]`` (a timestamp name when None)."""
    base = run_name or time.strftime("run-%Y%m%d-%H%M%S")
    for n in range(10_000):
        candidate = output_dir / (base if n == 0 else f"{base}-{n}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free run folder name under {output_dir} for {base}")


def open_run_dir(output_dir: Path, run_name: str | None) -> tuple[Path | None, str | None]:
    """The run folder, and a sentence saying what went wrong when it is not under
    ``output_dir`` (then it is in a temporary folder, or None when none could be made)."""
    try:
        return make_run_dir(output_dir, run_name), None
    except OSError as exc:
        problem = f"output_dir {str(output_dir)!r} cannot be used ({type(exc).__name__}: {exc})"
    try:
        fallback = make_run_dir(Path(tempfile.mkdtemp(prefix="gapdoctor-")), run_name)
    except OSError as exc:
        return None, (f"{problem}, nor a temporary folder ({type(exc).__name__}: {exc}): "
                      "nothing is written to disk")
    return fallback, f"{problem}: recording to {fallback} instead"


@dataclass
class OnDisk:
    """What the last successful write of each file left on disk."""

    record_epochs: int | None = None  # epochs in the record.json on disk (None: none)
    record_final: bool = False  # the train-end version (training marked finished)
    diagnosis: bool = False
    report: bool = False
    pending: bool = False  # a background analysis will write diagnosis.json and report.pdf

    def describe(self, run_dir: Path | None, epochs_run: int, diagnose: bool,
                 report: bool) -> str:
        """One sentence naming each file on disk and what it holds."""
        if run_dir is None:
            return ("Nothing was written to disk; the callback's .record and .diagnosis hold "
                    "the results in memory.")
        if self.record_epochs is None:
            parts = ["no record.json (no write of it completed)"]
        elif self.record_final:
            parts = [f"record.json with {_count(self.record_epochs, 'epoch')}, marked "
                     "finished"]
        else:
            parts = [f"record.json with {self.record_epochs} of the "
                     f"{_count(epochs_run, 'epoch')} run (its last complete write; not "
                     "marked finished)"]
        if self.pending:
            parts.append(("diagnosis.json and report.pdf" if report else "diagnosis.json")
                         + " being written by the background analysis")
            diagnose = report = False
        if diagnose:
            parts.append("diagnosis.json" if self.diagnosis else "no diagnosis.json")
        if report:
            parts.append("report.pdf" if self.report else "no report.pdf")
        return f"On disk in {run_dir}: " + ", ".join(parts) + "."


def _count(n: int, word: str) -> str:
    """_count(1, 'epoch') -> '1 epoch'; _count(3, 'epoch') -> '3 epochs'."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def _epochs_text(epochs: list[int]) -> str:
    """[0, 1, 2, 5] -> 'epochs 0-2, 5'."""
    spans: list[list[int]] = []
    for e in sorted(set(epochs)):
        if spans and e == spans[-1][1] + 1:
            spans[-1][1] = e
        else:
            spans.append([e, e])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
    return ("epoch " if len(epochs) == 1 else "epochs ") + text


def _where(entries: list[dict[str, Any]]) -> str:
    places = []
    if any(e.get("stage") == "train_begin" for e in entries):
        places.append("train begin")
    epochs = [e["epoch"] for e in entries if e.get("stage") == "epoch_end"
              and isinstance(e.get("epoch"), int)]
    if epochs:
        places.append(_epochs_text(epochs))
    if any(e.get("stage") == "train_end" for e in entries):
        places.append("train end")
    return "at " + ", ".join(places) if places else ""


def fit_warning(failures: list[dict[str, Any]], on_disk: str,
                settings: list[str] | tuple[str, ...] = ()) -> str | None:
    """The fit's single warning: the settings that could not apply, every part that failed
    (where, and its first error) and what is on disk; None when there is nothing to say.

    Example:
        >>> fit_warning([], "", ["monitor='f1' is not logged by this fit"])
        "GapDoctor: monitor='f1' is not logged by this fit."
    """
    head = [f"GapDoctor: {s}." for s in settings]
    if not failures:
        return "\n".join(head) or None
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in failures:
        grouped.setdefault(str(entry.get("probe")), []).append(entry)
    lines = [*head, f"GapDoctor: {_count(len(grouped), 'part')} of its work failed during this "
             f"fit ({', '.join(grouped)}); the training itself was not affected."]
    for name, entries in grouped.items():
        error = str(entries[0].get("error", "")).strip()
        if len(error) > 1000:
            error = error[:997] + "..."
        where = _where(entries)
        lines.append(f"  - {name}{' ' + where if where else ''}: {error}")
    lines.append(on_disk + " The callback's .record.failures lists every failure.")
    return "\n".join(lines)


def never_raises(hook: Any) -> Any:
    """A Keras hook that records (or, without a run state, warns about) any exception that
    escaped the guards, instead of raising it into ``fit``."""

    @functools.wraps(hook)
    def safe(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            hook(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for fit
            stage = hook.__name__.removeprefix("on_")
            epoch = int(args[0]) if stage == "epoch_end" and args else None
            error = {"probe": "gapdoctor", "epoch": epoch, "stage": stage,
                     "error": f"{type(exc).__name__}: {exc}"}
            state = getattr(self, "_state", None)
            if state is not None and hook.__name__ != "on_train_end":
                state.record.failures.append(error)
            else:
                warnings.warn(f"GapDoctor: {hook.__name__} failed ({error['error']}); the "
                              "training itself was not affected.", RuntimeWarning, stacklevel=2)

    return safe
