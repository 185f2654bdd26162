"""Atomic file writes: a reader finds the previous complete version of a file or the new one,
never a part of it, whatever happens during the write (a full disk, an exception, SIGKILL).

The data go to a temporary file in the target's folder (``.<name>.<random>.tmp``), which is
flushed, optionally fsynced, and renamed over the target (``os.replace`` is atomic within a
filesystem). On any error the temporary file is removed and the target is left as it was.
A process killed mid-write can leave a ``.<name>.*.tmp`` file behind; no reader opens those.

``durable=False`` skips the fsyncs: still atomic against a killed process (written pages
belong to the OS), only an OS crash or power loss could lose the latest version. The
callback's per-epoch writes use it; final files are durable.

Example:
    >>> atomic_write_text("out/diagnosis.json", text)              # doctest: +SKIP
    >>> with atomic_path("out/report.pdf") as tmp:                 # doctest: +SKIP
    ...     write_pdf(tmp)       # any writer that takes a path
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _new_temp(path: Path) -> Path:
    """Create an empty ``.<name>.<random>.tmp`` beside ``path``; unlike ``mkstemp`` (0600)
    its mode follows the umask, as the file it becomes would have."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def _commit(tmp: Path, path: Path, durable: bool) -> None:
    """Make the fully written ``tmp`` the new ``path`` (every atomic write ends here)."""
    if durable:
        _fsync_file(tmp)
    os.replace(tmp, path)
    if durable:
        _fsync_dir(path.parent)


@contextmanager
def atomic_path(path: str | os.PathLike[str], durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on a clean exit it becomes ``path``.

    Use it for writers that take a file name (reportlab, matplotlib). On an exception the
    temporary file is removed, ``path`` is untouched and the exception propagates.
    """
    path = Path(path)
    tmp = _new_temp(path)
    try:
        yield tmp
        _commit(tmp, path, durable)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any],
                 durable: bool = True) -> None:
    """Call ``write(handle)`` on a binary handle, then atomically make the result ``path``."""
    with atomic_path(path, durable=durable) as tmp, open(tmp, "wb") as handle:
        write(handle)
        handle.flush()  # a full disk shows here (or at close), before the rename


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, durable: bool = True) -> None:
    """Atomically replace ``path`` by ``data``."""
    atomic_write(path, lambda handle: handle.write(data), durable=durable)


def atomic_write_text(path: str | os.PathLike[str], text: str, durable: bool = True) -> None:
    """Atomically replace ``path`` by ``text`` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
