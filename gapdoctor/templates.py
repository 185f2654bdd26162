"""Finding and fix texts live in ``gapdoctor/report_templates/causes/<cause>.toml``, not in Python.

A template holds ``title``, ``story``, ``summary`` (one string, or a table of variants the
rule picks from), ``confirm`` (list) and ``[[fixes]]`` (``title``, ``why``, ``code``, and
optionally ``when`` (a rule's fix tag) and ``when_model`` (model kinds, see
:mod:`gapdoctor.fixkind`)).

Placeholders are ``{name}``, ``{name:spec}`` or ``{name|filter}`` / ``{name|filter:spec}``,
filled with the rule's measured facts. Filters:

- ``metric``: a log key in words, ``val_accuracy`` -> ``accuracy``;
- ``change(words if >= 0,words if < 0)``: the words for the value's sign with its absolute
  value at ``#`` (or after them), so a drop of -0.09 reads "rose by 9%", never "fell by -9%".

A fact that is missing never prints as ``?``: in prose, an optional ``[...]`` segment that
holds the placeholder is removed, else the whole sentence is; a code snippet with a missing
fact is not rendered at all (:func:`fill_code` returns None).

Example:
    >>> fill("Loss {d|change(fell by,rose by):.0%}. It ran {epochs} epochs.", {"d": -0.09})
    'Loss rose by 9%.'
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable
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


_PLACEHOLDER = re.compile(
    r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([A-Za-z_]+)(?:\(([^(){}\n]*)\))?)?(?::([^{}\n]*))?\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*\{[^\[\]]*)\]")
# a sentence ends at . ! or ? followed by a space and a capital (so "e.g. cleanlab" stays)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[{])")


def metric_words(key: Any) -> str:
    """A Keras log key as words without its split: ``val_sparse_categorical_accuracy`` ->
    ``sparse categorical accuracy``."""
    text = str(key)
    text = text[4:] if text.startswith("val_") else text
    return text.replace("_", " ")


def _value(facts: dict[str, Any], name: str) -> Any:
    value = facts.get(name)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def _render(match: re.Match[str], facts: dict[str, Any]) -> str | None:
    """One placeholder as text, or None when its fact is missing."""
    name, flt, args, spec = match.groups()
    value = _value(facts, name)
    if value is None:
        return None
    words = ""  # for change(): the sign's words, '#' marking where the number goes
    if flt == "metric":
        value = metric_words(value)
    elif flt == "change":
        up, _, down = (args or "").partition(",")
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        words = down.strip() if number < 0 else up.strip()
        words = words if "#" in words else words + " #"
        value = abs(number)
    elif flt:
        return None  # an unknown filter is a template error: treat the fact as unusable
    try:
        text = format(value, spec or "")
    except (ValueError, TypeError):
        text = str(value)
    return words.replace("#", text) if words else text


def _has_missing(text: str, facts: dict[str, Any]) -> bool:
    return any(_render(m, facts) is None for m in _PLACEHOLDER.finditer(text))


def _substitute(text: str, facts: dict[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: _render(m, facts) or "", text)


def fill(text: str, facts: dict[str, Any]) -> str:
    """Prose with its placeholders filled; segments and sentences with missing facts removed.

    Other braces are left alone, so templates need no escaping. Returns "" when every
    sentence needed a missing fact.
    """
    text = _OPTIONAL.sub(lambda m: "" if _has_missing(m.group(1), facts) else m.group(1), text)
    kept = [s for s in _SENTENCE.split(text.strip()) if not _has_missing(s, facts)]
    return _substitute(" ".join(kept), facts).strip()


def fill_code(code: str, facts: dict[str, Any]) -> str | None:
    """A code snippet with its placeholders filled, or None when a fact is missing.

    Dict and set literals (``{"a": 1}``, ``{row for row in x}``) are not placeholders.
    """
    if _has_missing(code, facts):
        return None
    return _substitute(code, facts).strip()


def applies(fix: dict[str, Any], fix_tags: Iterable[str], model_tags: Iterable[str]) -> bool:
    """Whether a template fix is shown: its ``when`` tag (or one of a list) was raised by the
    rule and one of its ``when_model`` kinds matches the recorded model (absent keys match
    everything)."""
    when = fix.get("when")
    if when and not set([when] if isinstance(when, str) else when) & set(fix_tags):
        return False
    wanted = fix.get("when_model")
    if not wanted:
        return True
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    return bool(set(wanted) & set(model_tags))


def render_fixes(template: dict[str, Any], facts: dict[str, Any],
                 model_tags: Iterable[str]) -> list[dict[str, str]]:
    """The template's fixes that fit this run, as ``{title, why, code}`` texts.

    A snippet that needs a missing fact is left out (the fix keeps its title and why).
    """
    tags, model_tags = facts.get("fix_tags", ()), set(model_tags)
    out = []
    for fix in template.get("fixes", []):
        if not applies(fix, tags, model_tags):
            continue
        code = fill_code(fix.get("code", ""), facts) or ""
        out.append({"title": fill(fix.get("title", ""), facts),
                    "why": fill(fix.get("why", ""), facts), "code": code})
    return out


def causes() -> list[str]:
    """Cause ids that have a template, sorted."""
    return sorted(p.stem for p in (templates_dir() / "causes").glob("*.toml"))


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
