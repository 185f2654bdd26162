"""A fit stopped by Ctrl-C (or by any exception) never reaches ``on_train_end``, so GapDoctor
prints no summary. Its record is on disk after every epoch all the same: at interpreter exit,
say once per unfinished run where it is and how to read it.

Example:
    >>> class Run:  # a stand-in with the attributes read here
    ...     verbose, run_dir, epochs_completed = 1, "runs/r1", 3
    >>> print(stopped_message(Run()))
    GapDoctor: training stopped after 3 epochs without finishing; the record in runs/r1 is readable: gapdoctor analyze runs/r1
"""

from __future__ import annotations

import atexit
import shlex
import sys
import weakref
from typing import Any

_UNFINISHED: weakref.WeakSet = weakref.WeakSet()
_REGISTERED = False


def started(callback: Any) -> None:
    """``callback``'s fit has begun: tell at exit unless :func:`finished` is called."""
    global _REGISTERED
    _UNFINISHED.add(callback)
    if not _REGISTERED:
        atexit.register(_at_exit)
        _REGISTERED = True


def finished(callback: Any) -> None:
    _UNFINISHED.discard(callback)


def stopped_message(callback: Any) -> str | None:
    """The line for one unfinished run (None when quiet or nothing was written)."""
    run_dir = getattr(callback, "run_dir", None)
    if not getattr(callback, "verbose", 0) or run_dir is None:
        return None
    n = int(getattr(callback, "epochs_completed", 0) or 0)
    return (f"GapDoctor: training stopped after {n} epoch{'' if n == 1 else 's'} without finishing; "
            f"the record in {run_dir} is readable: gapdoctor analyze {shlex.quote(str(run_dir))}")


def _at_exit() -> None:
    for callback in list(_UNFINISHED):
        try:
            message = stopped_message(callback)
            if message:
                print(message, file=sys.stderr)
        except Exception:  # noqa: BLE001, S110 - nothing may fail at interpreter exit
            pass
