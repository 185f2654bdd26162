"""Finding and fix texts live in ``report_templates/causes/<cause>.toml``, not in Python.

A template holds ``title``, ``story``, ``summary`` (one string, or a table of variants the
rule picks from), ``confirm`` (list) and ``[[fixes]]`` (``title``, ``why``, ``code``).
Placeholders use ``str.format`` syntax and are filled with the rule's measured facts;
an unknown placeholder renders as ``?`` rather than failing.

Example:
    >>> fill("gap {gap:.0%} after {epochs} epochs", {"gap": 0.123})
    'gap 12% after ? epochs'
"""

from __future__ import annotations

import os
import string
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from gapdoctor.errors import GapDoctorError


def templates_dir() -> Path:
    """Where templates are read from: ``$GAPDOCTOR_TEMPLATES``, else the project's folder."""
    env = os.environ.get("GAPDOCTOR_TEMPLATES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "report_templates", here / "report_templates"):
        if candidate.is_dir():
            return candidate
    raise GapDoctorError("report_templates/ not found; set GAPDOCTOR_TEMPLATES to its path")


class _Lenient(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        if isinstance(key, str):
            return kwargs.get(key, _Missing())
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Missing):
            return "?"
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


class _Missing:
    pass


_FORMATTER = _Lenient()


def fill(text: str, facts: dict[str, Any]) -> str:
    """Format ``text`` with ``facts``; missing or ill-typed values never raise."""
    try:
        return _FORMATTER.vformat(text, (), facts)
    except (IndexError, KeyError, ValueError, AttributeError):
        return text


@lru_cache(maxsize=None)
def load_template(cause: str) -> dict[str, Any]:
    """The parsed template of one cause (cached)."""
    path = templates_dir() / "causes" / f"{cause}.toml"
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise GapDoctorError(f"{path}: no template for cause '{cause}'") from None
    except tomllib.TOMLDecodeError as exc:
        raise GapDoctorError(f"{path}: invalid TOML ({exc})") from None
