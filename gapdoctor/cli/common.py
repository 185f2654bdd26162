"""Helpers shared by the subcommands: exit codes, error lines, warnings, output paths,
unique names and the text summary."""

from __future__ import annotations

import gc
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gapdoctor.errors import GapDoctorError

if TYPE_CHECKING:  # numpy and pandas load with the subcommand, with no_collections on
    from gapdoctor.diagnosis import Diagnosis
    from gapdoctor.record.schema import RunRecord

# Exit codes (see ``gapdoctor --help``): a CI gate reads 1 as "a finding crossed --fail-on".
EXIT_OK, EXIT_FAIL_ON, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C (128 + SIGINT)

# numpy's floating-point complaints about NaN-padded curves, and known layout chatter of
# the plotting libraries: expected while analysing partial runs, and not the user's to fix
_NOISY_MESSAGES = (r"Mean of empty slice|invalid value encountered|divide by zero encountered"
                   r"|overflow encountered|underflow encountered|Degrees of freedom <= 0"
                   r"|All-NaN (slice|axis) encountered|Precision loss occurred"
                   r"|[Tt]ight.?layout|constrained.?layout|Glyph \d+|findfont")
_LIBRARIES = r"(numpy|pandas|scipy|sklearn|matplotlib|reportlab|PIL)(\.|$)"


class UsageError(GapDoctorError):
    """A bad command-line value (an output that cannot be written, no inputs, ...)."""


def one_line(text: object) -> str:
    """``text`` with control characters (newlines, tabs, ...) escaped, so it is one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def print_error(message: object) -> None:
    """The one stderr line of a bad input: ``gapdoctor: error: <message>``."""
    print(f"gapdoctor: error: {one_line(message)}", file=sys.stderr, flush=True)


@contextmanager
def no_collections() -> Iterator[None]:
    """The cyclic garbage collector off inside the block; after it, what was allocated is
    frozen (``gc.freeze``) before the collector is on again (if it was).

    Importing numpy, pandas and the rest, and diagnosing and drawing a run, allocate
    millions of objects that mostly live as long as the process: automatic collections
    meanwhile walk the young ones again and again for nothing (40-60 ms of CPU before
    ``analyze`` forks, more while it draws). Frozen at the end, they are not walked all at
    once either when the collector is back (a freeze resets its allocation count). The
    caller unfreezes (``gc.unfreeze``: to the oldest generation, which a later full
    collection frees) and collects the garbage of one job before the next (``run_analyze``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def blas_without_threads() -> Iterator[None]:
    """numpy first imported inside the block starts OpenBLAS with one thread (unless the
    user's environment says otherwise); the environment is restored after it.

    Starting OpenBLAS's thread pool takes 60 ms of ``import numpy`` (115-150 ms against
    55-65 ms here), before ``analyze`` can fork; its processes have no use for the threads
    (the diagnosis limits them to one anyway, see ``one_blas_thread``). Libraries loaded
    later (scipy's own OpenBLAS) read the restored environment. No effect where numpy is
    already imported.
    """
    name = "OPENBLAS_NUM_THREADS"
    if "numpy" in sys.modules or name in os.environ:
        yield
        return
    os.environ[name] = "1"
    try:
        yield
    finally:
        os.environ.pop(name, None)


def _format_warning(message: Warning | str, category: type[Warning], filename: str,
                    lineno: int, line: str | None = None) -> str:
    where = "" if "gapdoctor" in Path(filename).parts else f" ({category.__name__})"
    return f"gapdoctor: warning: {one_line(message)}{where}\n"


def quiet_library_warnings() -> None:
    """Hide the libraries' known noise, keep every other warning (one line each).

    Only numpy's NaN/overflow RuntimeWarnings, the plotting libraries' layout chatter, and
    Future/Deprecation warnings raised inside the scientific libraries are ignored; the
    record loader's and the report's own warnings still print. ``python -W ...`` or
    ``PYTHONWARNINGS`` overrides all of this.
    """
    warnings.formatwarning = _format_warning
    if sys.warnoptions:
        return
    warnings.filterwarnings("ignore", message=_NOISY_MESSAGES)
    for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=_LIBRARIES)


def ensure_dir(directory: Path, what: str) -> None:
    """Create ``directory`` (and parents) for ``what``; UsageError saying why it cannot be.

    Raises:
        UsageError: a parent is a regular file, or the directory cannot be created.
    """
    for parent in (directory, *directory.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise UsageError(f"{directory}: cannot write the {what} there: {parent} is a "
                                 "file, not a directory")
            break
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{directory}: cannot create the folder for the {what} "
                         f"({exc.strerror or exc})") from None


def unique_names(names: list[str]) -> list[str]:
    """``names`` with repeats made unique by ``-2``, ``-3``, ... suffixes."""
    seen: dict[str, int] = {}
    out = []
    taken = set(names)
    for name in names:
        if name in seen:
            n = seen[name] + 1
            while f"{name}-{n}" in taken:
                n += 1
            seen[name] = n
            out.append(f"{name}-{n}")
            taken.add(out[-1])
        else:
            seen[name] = 1
            out.append(name)
    return out


def safe_name(name: str) -> str:
    """A file-name-safe version of a run name."""
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name).strip(".")
    return cleaned or "run"


def output_path(value: str, run_name: str, n_runs: int, suffix: str) -> Path:
    """Where one run's output goes for a ``--pdf``/``--json`` value.

    A value ending in a path separator, naming an existing directory or without an
    extension is a directory (``DIR/<run><suffix>``); otherwise it is the file itself for
    one run, and a pattern ``<stem>-<run><ext>`` beside it for several runs.
    """
    target = Path(value)
    if value.endswith(("/", os.sep)) or target.is_dir() or not target.suffix:
        return target / f"{safe_name(run_name)}{suffix}"
    if n_runs == 1:
        return target
    return target.with_name(f"{target.stem}-{safe_name(run_name)}{target.suffix}")


def _one_line(text: str, width: int = 96) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _wrapped(first: str, text: str, width: int = 110) -> str:
    """``first`` then ``text`` in full, wrapped at ``width`` under where ``text`` began: the
    console shows a finding's whole sentence, not its first 96 characters.

    Example:
        >>> print(_wrapped("   note: ", "one two three four", width=19))
           note: one two
                 three four
    """
    import textwrap

    return textwrap.fill(" ".join(str(text).split()), width=width, initial_indent=first,
                         subsequent_indent=" " * len(first), break_on_hyphens=False)


def _unexplained(diagnosis: Diagnosis) -> list[str]:
    """Lines that keep a "healthy" verdict from hiding a gap no cause explains."""
    from gapdoctor.analysis.gap import gap_sentence
    from gapdoctor.diagnosis import score_text

    gap = diagnosis.unexplained_gap
    if gap is None:
        return []
    lead = ", ".join(f"{cause} {score_text(score)}" for cause, score in gap["candidates"])
    return [f"   but the gap is real: {gap_sentence(gap)}; no cause explains it with confidence",
            f"   likeliest: {lead}; to tell them apart: {_one_line(gap['tell_apart'], 120)}"]


def format_summary(path: str, run: RunRecord, diagnosis: Diagnosis) -> str:
    """A short ranked summary of one diagnosis, readable in a CI log."""
    from gapdoctor.diagnosis import score_text

    s: dict[str, Any] = diagnosis.summary
    n = s.get("epochs", run.n_epochs)
    lines = [f"== {run.name}  ({run.meta.get('source', '?')}, {n} epoch{'' if n == 1 else 's'})  "
             f"{path}"]
    if run.meta.get("completed") is False:  # a gapdoctor record whose fit never ended
        planned = run.meta.get("epochs_planned")
        lines.append(f"   unfinished: training stopped after {n} of "
                     f"{planned or '?'} planned epochs (killed, or still running)")
    monitor = s.get("monitor")
    if monitor and s.get("best_value") is not None:
        # epochs count from 0 as in CSVLogger files and callbacks; Keras's progress bar from 1,
        # out of fit's epochs= (which includes an initial_epoch)
        total = run.meta.get("epochs_planned") or n
        bar = (f" (Keras printed 'Epoch {s['best_epoch'] + 1}/{total}')"
               if isinstance(total, int) and s["best_epoch"] < total else "")
        lines.append(f"   {monitor}: best {s['best_value']:.4g} at epoch {s['best_epoch']}{bar}, "
                     f"last {s.get('last_value', float('nan')):.4g}")
    elif monitor and s.get("last_value") is not None:
        lines.append(f"   {monitor}: last {s['last_value']:.4g} (no best epoch: neither its Keras "
                     "class, its name nor its curve says whether higher is better)")
    elif not monitor:
        lines.append("   no validation metric recorded")
    reported = diagnosis.reported
    if diagnosis.verdict == "inconclusive":
        lines.append("   verdict: inconclusive")
    elif reported:
        lines.append(f"   verdict: {diagnosis.verdict}")
    else:
        lines.append(f"   verdict: healthy (no finding reached {diagnosis.threshold:.2f})")
        lines.extend(_unexplained(diagnosis))
    if diagnosis.status != "ok":
        lines.append(_wrapped(f"   status: {diagnosis.status.replace('_', ' ')}: ",
                              diagnosis.status_reason))
    call = diagnosis.close_call
    if call:
        first, second = call["causes"]
        lines.append(f"   close call: {first} and {second} are {call['difference']:.2f} apart.")
        lines.append(_wrapped("      to tell them apart: ", call["tell_apart"]))
    for finding in reported:
        lines.append(_wrapped(f"   {score_text(finding.score)}  {finding.cause:<22} ", finding.summary))
        if finding.fixes:
            lines.append(f"         {'':<22} fix: {_one_line(finding.fixes[0].title, 84)}")
    below = [f for f in diagnosis.findings if not f.reported][:4]
    if below:
        lines.append("   below threshold: " + ", ".join(f"{f.cause} {score_text(f.score)}" for f in below))
    extra = f"   skipped {len(diagnosis.skipped)} rule(s) for missing data"
    if diagnosis.errors:
        extra += f"; {len(diagnosis.errors)} rule(s) failed: " + ", ".join(
            e.get("cause", "?") for e in diagnosis.errors)
    lines.append(extra)
    for note in (run.meta.get("notes") or [])[:3]:
        lines.append(_wrapped("   note: ", note))
    return "\n".join(lines)
