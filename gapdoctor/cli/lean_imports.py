"""Importing matplotlib and scipy without the docstring work they do at import time.

Both libraries rewrite docstrings as their modules load: matplotlib builds a ``set()``
signature and docstring for each Artist class, scipy appends a table of supported array
backends to ~500 functions' docstrings. That is 0.1-0.3 s each on ``gapdoctor analyze``'s
two critical paths (the drawing process, the diagnosis child), and nobody reads those
docstrings there. Each context manager swaps a private hook of its library for the time
of an import and restores it; where the hook is missing or different (another version),
or the library's modules are loaded already, it changes nothing. Only the CLI uses them:
never a user's process that imported gapdoctor as a library.

Only the standard library is imported here (the diagnosis child loads it before the fork).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def artists_without_set_docs() -> Iterator[None]:
    """Inside the block, matplotlib's Artist classes, as they are created, skip building
    the signature and docstring of their ``set`` method.

    matplotlib builds them for each of its ~100 Artist classes at import, inspecting
    every property setter and its docstring: 0.1-0.2 s, a third of importing
    ``matplotlib.figure``, on the drawing process's critical path. ``set`` works the same
    (all Artists' ``set`` calls ``Artist.set``); only its introspected signature and help
    text are the inherited ones, in this process alone (the CLI's), for the classes created
    here. matplotlib's private hook, so the block changes nothing where it is missing or
    where matplotlib's figure classes are loaded already (an in-process caller).
    """
    if "matplotlib.figure" in sys.modules:
        yield
        return
    try:
        from matplotlib.artist import Artist
    except ImportError:  # the report says so when it draws
        yield
        return
    hook = Artist.__dict__.get("_update_set_signature_and_docstring")
    if not isinstance(hook, classmethod):
        yield
        return
    Artist._update_set_signature_and_docstring = classmethod(lambda cls: None)
    try:
        yield
    finally:
        Artist._update_set_signature_and_docstring = hook


class _Unparsed:
    """Stands in for scipy's numpydoc parser in ``xp_capabilities``: the docstring kept
    as it is, the note appended to it dropped."""

    def __init__(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self.doc = getattr(func, "__doc__", None) or ""

    def __getitem__(self, section: str) -> list[str]:
        return []

    def __str__(self) -> str:
        return "\n" + self.doc  # (the decorator drops the first line, a signature)


@contextmanager
def scipy_without_backend_notes() -> Iterator[None]:
    """Inside the block, scipy's functions, as their modules load, keep their docstrings
    as written instead of having a table of supported array backends appended.

    scipy >= 1.15 appends that table at import, parsing ~500 docstrings with numpydoc
    (``scipy._lib._array_api.xp_capabilities``): 0.15-0.3 s of CPU, a quarter to a third
    of importing scipy.stats, which scikit-learn imports and the diagnosis waits for.
    Used in the diagnosis child only, which never shows a docstring and exits when done.
    scipy's private hook, so the block changes nothing where it differs (another scipy
    version) or where scipy.stats is loaded already; it is restored after the block.
    """
    if "scipy.stats" in sys.modules:
        yield
        return
    try:
        from scipy._lib import _array_api
    except Exception:  # noqa: BLE001 - the diagnosis says so when it imports scipy
        yield
        return
    parser = getattr(_array_api, "FunctionDoc", None)
    if parser is None or not hasattr(_array_api, "xp_capabilities"):
        yield
        return
    _array_api.FunctionDoc = _Unparsed
    try:
        yield
    finally:
        _array_api.FunctionDoc = parser
