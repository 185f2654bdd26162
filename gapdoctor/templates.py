"""Finding and fix texts live in ``gapdoctor/report_templates/causes/<cause>.toml``, not in Python.

A template holds ``title``, ``story``, ``summary`` (one string, or a table of variants the
rule picks from), ``confirm`` (list) and ``[[fixes]]`` (``title``, ``why``, ``code``).
Placeholders are ``{name}`` or ``{name:format-spec}``, filled with the rule's measured
facts; an unknown placeholder renders as ``?`` rather than failing.

Example:
    >>> fill("gap {gap:.0%} after {epochs} epochs", {"gap": 0.123})
    'gap 12% after ? epochs'
"""

from __future__ import annotations

import math
import os
import re
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from gapdoctor.errors import GapDoctorError


def templates_dir() -> Path:
    """Where templates are read from: ``$GAPDOCTOR_TEMPLATES``, else the package's own data.

    The templates ship inside the package (``gapdoctor/report_templates``) and are found with
    ``importlib.resources``, so an installed wheel, ``pip install --user`` and an editable
    install all read the same files whatever ``sys.prefix`` is.
    """
    env = os.environ.get("GAPDOCTOR_TEMPLATES")
    if env:
        return Path(env)
    folder = Path(str(resources.files("gapdoctor") / "report_templates"))
    if folder.is_dir():
        return folder
    raise GapDoctorError(f"{folder} not found; set GAPDOCTOR_TEMPLATES to the templates' folder")


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}\n]*))?\}")


def fill(text: str, facts: dict[str, Any], unknown: str | None = "?") -> str:
    """Replace ``{name}`` / ``{name:spec}`` with formatted facts; never raises.

    Other braces (dict or set literals in code snippets) are left alone, so templates need
    no escaping. A placeholder without a usable fact becomes ``unknown`` (or stays as
    written when ``unknown`` is None).
    """

    def replace(match: re.Match[str]) -> str:
        name, spec = match.group(1), match.group(2) or ""
        value = facts.get(name)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return match.group(0) if unknown is None else unknown
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            return str(value)

    return _PLACEHOLDER.sub(replace, text)


@cache
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
