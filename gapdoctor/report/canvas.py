"""The report's figure plumbing: sizing in centimetres, the rc context, rendering to a
reportlab ``Image``. Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas
directly, so no pyplot state, GUI backend or global ``rcParams`` are touched.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, NullLocator
from reportlab.lib.units import cm
from reportlab.platypus import Image

from gapdoctor.report.styles import Theme

_RC = {"font.size": 7.5, "axes.titlesize": 8, "axes.labelsize": 7.5, "xtick.labelsize": 6.5,
       "ytick.labelsize": 6.5, "legend.fontsize": 6.5, "axes.spines.top": False,
       "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
       "grid.linewidth": 0.5, "lines.linewidth": 1.3, "lines.markersize": 2.5}


def fig_cfg(theme: Theme) -> dict[str, Any]:
    return theme.cfg.get("figures", {})


def mpl_text(value: Any, limit: int = 28) -> str:
    """A label matplotlib shows literally (no mathtext), shortened in the middle to ``limit``
    characters so that both the start and the distinguishing end stay visible."""
    text = str(value).replace("\n", " ")
    if len(text) > limit:
        head = (limit - 1) // 2
        text = text[:head] + "\u2026" + text[len(text) - (limit - 1 - head):]
    return text.replace("$", r"\$")


def new_figure(theme: Theme, height_cm: float, width_cm: float | None = None,
               layout: str | None = "constrained") -> Figure:
    """A figure sized in centimetres; ``layout=None`` for a fixed grid (see ``adjust``)."""
    width = width_cm or float(fig_cfg(theme).get("width_cm", 17.5))
    fig = Figure(figsize=(width / 2.54, height_cm / 2.54), layout=layout)
    FigureCanvasAgg(fig)
    return fig


def text_cm(labels: list[str], points: float = 6.5) -> float:
    """Rough width in cm of the longest label (DejaVu Sans averages ~0.58 em per char)."""
    longest = max((len(str(label)) for label in labels), default=0)
    return longest * points * 0.58 / 72 * 2.54


def adjust(fig: Figure, nrows: int, ncols: int, left: float = 1.3, right: float = 0.3,
           bottom: float = 0.9, top: float = 0.55, wgap: float = 1.6,
           hgap: float = 1.35) -> None:
    """Place a subplot grid with margins and gaps in centimetres (constrained layout costs
    about as much as drawing the figure twice; fixed-label figures do not need it)."""
    width, height = (v * 2.54 for v in fig.get_size_inches())
    cell_w = (width - left - right - wgap * (ncols - 1)) / ncols
    cell_h = (height - bottom - top - hgap * (nrows - 1)) / nrows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wgap / cell_w, hspace=hgap / cell_h)


def to_image(fig: Figure, theme: Theme) -> Image:
    """Render ``fig`` and return it as a flowable at its design size.

    The pixels go to reportlab as a binary PPM (RGB, uncompressed). reportlab decodes any
    image it is given and deflates the RGB samples itself, so compressing a PNG first was
    wasted work, and a PNG's alpha channel became a soft mask in the PDF, a second image
    to split off, digest and deflate while the report is assembled (after the diagnosis,
    so on the critical path). The figures are opaque (white face): the same pixels show.
    """
    from PIL import Image as Pixels  # matplotlib's own dependency, loaded with it

    if not titles_clear(fig):
        raise _TitleNeedsRoom
    dpi = int(fig_cfg(theme).get("dpi", 120))
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi)  # the Agg buffer that PNG would encode
    renderer = fig.canvas.get_renderer()
    size = (int(renderer.width), int(renderer.height))
    buffer = io.BytesIO()
    Pixels.frombuffer("RGBA", size, raw.getbuffer(), "raw", "RGBA", 0, 1) \
        .convert("RGB").save(buffer, format="PPM")
    width, height = fig.get_size_inches()
    buffer.seek(0)
    return Image(buffer, width=width * 2.54 * cm, height=height * 2.54 * cm)


class _TitleNeedsRoom(Exception):
    """Something sits above an axes (see ``titles_clear``): draw the figure again with
    titles that matplotlib places itself."""


def titles_clear(fig: Figure) -> bool:
    """Whether every titled axes of ``fig`` is free above its top edge: no tick labels or
    axis label on top, no offset text ("1e-5", "+1e3") over the y axis. Unless the report's
    rc context says otherwise (``axes.titley``), matplotlib searches for a free place above
    each axes at every draw, measuring every tick label (a tenth of the report's drawing
    time); where nothing is up there, that search finds the default place, so the figures
    are drawn with titles fixed at the top edge, and again without that when this says no.
    """
    import matplotlib

    if matplotlib.rcParams["axes.titley"] is None:  # placed by matplotlib already
        return True
    for ax in fig.axes:
        if not any(ax.get_title(loc) for loc in ("left", "center", "right")):
            continue
        if (ax.xaxis.get_ticks_position() in ("top", "unknown")
                or ax.xaxis.get_label_position() == "top"):
            return False
        formatter = ax.yaxis.get_major_formatter()
        formatter.set_locs(ax.yaxis.get_majorticklocs())
        if formatter.get_offset():
            return False
    return True


def styled(func: Any) -> Any:
    """Run a figure builder inside the report's rc context (restored afterwards), with
    titles fixed at the top edge of their axes unless ``titles_clear`` says no."""
    import matplotlib

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with matplotlib.rc_context({**_RC, "axes.titley": 1.0}):
                return func(*args, **kwargs)
        except _TitleNeedsRoom:
            with matplotlib.rc_context(_RC):
                return func(*args, **kwargs)

    wrapper.__doc__ = func.__doc__
    return wrapper


def log_y(ax: Any) -> None:
    """A log-scaled y axis with plain-text labels ("1e-03"): the default 10^x labels go
    through mathtext, whose parser costs a third of a second to build in each process."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(LogFormatter())
