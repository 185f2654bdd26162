"""Fonts, paragraph styles, colours and small flowable helpers, from ``styles.toml``.

Every string that came from data goes through :func:`esc` before it reaches a
``Paragraph`` (which parses XML-like markup); :func:`para` does that for you.

Example:
    >>> esc("<b>cat & dog")
    '&lt;b&gt;cat &amp; dog'
"""

from __future__ import annotations

import math
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, Preformatted, Table, TableStyle

from gapdoctor.errors import GapDoctorError
from gapdoctor.templates import templates_dir

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(value: Any) -> str:
    """``value`` as text that a reportlab ``Paragraph`` shows literally (what
    ``xml.sax.saxutils.escape`` does, without its import of urllib, http and email)."""
    return _CONTROL.sub("?", str(value)).replace("&", "&amp;").replace(">", "&gt;") \
        .replace("<", "&lt;")


def fmt(value: Any, digits: int = 3) -> str:
    """A short human form of a measured value (numbers to ``digits`` significant digits)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        value = value.tolist()
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if not math.isfinite(number):
            return "n/a" if math.isnan(number) else str(number)
        if number == int(number) and abs(number) < 1e9:
            return str(int(number))
        return f"{number:.{digits}g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(fmt(v, digits) for v in list(value)[:6])
        return f"[{shown}{', ...' if len(value) > 6 else ''}]"
    if isinstance(value, dict):
        items = list(value.items())
        shown = ", ".join(f"{k}: {fmt(v, digits)}" for k, v in items[:6])
        return "{" + shown + (", ..." if len(items) > 6 else "") + "}"
    return str(value)


@lru_cache(maxsize=4)
def _read_config(folder: str) -> dict[str, Any]:
    path = Path(folder) / "report" / "styles.toml"
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise GapDoctorError(f"{path}: invalid TOML ({exc})") from None


def config() -> dict[str, Any]:
    """The parsed ``gapdoctor/report_templates/report/styles.toml`` (empty when absent)."""
    try:
        folder = templates_dir()
    except GapDoctorError:
        return {}
    return _read_config(str(folder))


def _fonts(body: str, mono: str) -> tuple[str, str, str, str]:
    """Register fonts once; return (regular, bold, italic, mono) names."""
    if body == "auto" or mono == "auto":
        try:
            import matplotlib

            ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
            names = {"GDSans": "DejaVuSans.ttf", "GDSans-Bold": "DejaVuSans-Bold.ttf",
                     "GDSans-Oblique": "DejaVuSans-Oblique.ttf",
                     "GDSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
                     "GDMono": "DejaVuSansMono.ttf"}
            registered = pdfmetrics.getRegisteredFontNames()
            for name, file in names.items():
                if name not in registered:
                    pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
            pdfmetrics.registerFontFamily("GDSans", normal="GDSans", bold="GDSans-Bold",
                                          italic="GDSans-Oblique",
                                          boldItalic="GDSans-BoldOblique")
            return ("GDSans", "GDSans-Bold", "GDSans-Oblique", "GDMono")
        except Exception:  # noqa: BLE001 - any font trouble falls back to base fonts
            pass
    if body in ("auto", "Helvetica"):
        return ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Courier")
    return (body, body, body, mono if mono != "auto" else "Courier")


class IfFits(Flowable):
    """Flowables drawn only when they fit in the space left on the page, else dropped."""

    def __init__(self, flowables: list[Flowable]) -> None:
        super().__init__()
        self.flowables, self.sizes, self.skip = flowables, [], False

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.sizes = [f.wrap(avail_width, avail_height) for f in self.flowables]
        height = sum(h for _, h in self.sizes)
        self.skip = height > avail_height
        return (0, 0) if self.skip else (avail_width, height)

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        if self.skip:
            return
        y = sum(h for _, h in self.sizes)
        for flowable, (_, height) in zip(self.flowables, self.sizes, strict=False):
            y -= height
            flowable.drawOn(self.canv, 0, y)


class Theme:
    """Styles of one document: ``theme.s["body"]``, ``theme.color("accent")``, ``theme.cfg``."""

    def __init__(self) -> None:
        self.cfg = config()
        fonts = self.cfg.get("fonts", {})
        self.font, self.bold, self.italic, self.mono = _fonts(fonts.get("body", "auto"),
                                                              fonts.get("mono", "auto"))
        size = {"title": 17, "h1": 13.5, "h2": 11, "body": 9, "small": 7.5, "code": 7.2,
                "leading": 1.3} | self.cfg.get("sizes", {})
        lead, text = float(size["leading"]), self.color("text")

        def style(name: str, pt: float, font: str | None = None, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(name, fontName=font or self.font, fontSize=pt,
                                  leading=pt * lead, textColor=kw.pop("textColor", text), **kw)

        self.s = {
            "title": style("title", size["title"], self.bold, spaceAfter=4),
            "h1": style("h1", size["h1"], self.bold, spaceBefore=6, spaceAfter=5,
                        textColor=self.color("accent")),
            "h2": style("h2", size["h2"], self.bold, spaceBefore=8, spaceAfter=3,
                        keepWithNext=1),
            "body": style("body", size["body"], spaceAfter=4),
            "muted": style("muted", size["body"], spaceAfter=4, textColor=self.color("muted")),
            "small": style("small", size["small"], spaceAfter=2),
            "cell": style("cell", size["small"]),
            "cellb": style("cellb", size["small"], self.bold),
            "bullet": style("bullet", size["body"], leftIndent=12, bulletIndent=3,
                            spaceAfter=2),
            # the box's padding reaches above the paragraph: spaceBefore keeps it off the
            # line above
            "verdict": style("verdict", size["h2"], spaceBefore=10, spaceAfter=8,
                             borderPadding=6, backColor=self.color("verdict_bg")),
            "healthy": style("healthy", size["h2"], spaceBefore=10, spaceAfter=8,
                             borderPadding=6, backColor=self.color("healthy_bg")),
            "code": style("code", size["code"], self.mono, backColor=self.color("code_bg"),
                          borderColor=self.color("code_border"), borderWidth=0.4,
                          borderPadding=4, leftIndent=4, rightIndent=4, spaceBefore=3,
                          spaceAfter=7),
        }

    def color(self, name: str) -> colors.Color:
        value = self.cfg.get("colors", {}).get(name, "#222222")
        return colors.HexColor(value)

    def section(self, key: str) -> dict[str, str]:
        return self.cfg.get("sections", {}).get(key, {})

    def label(self, cause: str) -> str:
        return str(self.cfg.get("labels", {}).get(cause) or cause.replace("_", " ").capitalize())

    def limit(self, key: str, default: int) -> int:
        return int(self.cfg.get("limits", {}).get(key, default))

    def para(self, text: Any, style: str = "body", markup: bool = False, **kw: Any) -> Paragraph:
        """A paragraph; ``text`` is escaped unless ``markup`` says it is trusted markup."""
        return Paragraph(str(text) if markup else esc(text), self.s[style], **kw)

    def code(self, text: str, width_chars: int = 96) -> Preformatted:
        """A monospace block (no markup parsing), long lines wrapped."""
        text = _CONTROL.sub("?", text.expandtabs(4).rstrip())
        return Preformatted(text, self.s["code"],
                            maxLineLength=width_chars, newLineChars="    ")

    def table(self, rows: list[list[Any]], widths: list[float] | None = None,
              header: bool = True, extra: list[tuple[Any, ...]] | None = None) -> Table:
        """A grid of cells; str cells become escaped paragraphs, flowables pass through."""
        cells = [[self.para(c, "cellb" if header and i == 0 else "cell")
                  if isinstance(c, str) else c for c in row] for i, row in enumerate(rows)]
        commands: list[tuple[Any, ...]] = [
            ("GRID", (0, 0), (-1, -1), 0.35, self.color("table_grid")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            commands.append(("BACKGROUND", (0, 0), (-1, 0), self.color("table_header")))
        for i in range(2 if header else 1, len(rows), 2):
            commands.append(("BACKGROUND", (0, i), (-1, i), self.color("table_stripe")))
        table = Table(cells, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
        table.setStyle(TableStyle(commands + list(extra or [])))
        return table
