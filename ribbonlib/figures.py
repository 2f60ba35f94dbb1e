"""Figures for the book: one style, sized for the text column, with legibility metadata.

Nothing happens on import. :func:`setup`, called once at the top of a chapter, sets a
matplotlib style designed for the book's text column and registers a PNG formatter for
matplotlib figures in IPython that writes two text chunks into every PNG: the smallest
font size used in the figure (points) and the resolution (dots per inch). From them and
the width at which a page displays the image, the rendered-page audit
(``tools/page_audit.py``) computes how many screen pixels the smallest label is tall,
instead of guessing.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["COLUMN_WIDTH", "DPI", "STYLE", "setup", "min_font_size", "png_bytes", "LINESTYLES",
           "MARKERS"]

#: Width (inches) of a figure that fills the text column (the column is about 740 CSS px
#: on a desktop; at :data:`DPI` a full-width figure is displayed at about its natural size).
COLUMN_WIDTH = 6.8
#: Resolution of the PNG figures.
DPI = 110
#: Line styles and markers to cycle through, so that no series is told apart by colour alone.
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "x", "P", "*")

#: The book's matplotlib style.
STYLE: dict[str, Any] = {
    "figure.figsize": (COLUMN_WIDTH, 0.62 * COLUMN_WIDTH),
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    "font.size": 10.5,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.6,
    "mathtext.fontset": "cm",
}

FONT_KEY = "ribbon:min-font-pt"
DPI_KEY = "ribbon:dpi"


def min_font_size(fig: Any) -> float:
    """The smallest font size (points) of any visible, non-empty text in ``fig``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    float
        ``inf`` for a figure without text.
    """
    from matplotlib.text import Text

    sizes = []
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        if renderer is not None and t.get_window_extent(renderer).width == 0:
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        sizes.append(float(t.get_fontsize()))
    return min(sizes) if sizes else float("inf")


def png_bytes(fig: Any, *, dpi: float = DPI) -> bytes:
    """``fig`` as PNG, with its smallest font size and its DPI in text chunks.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : float, optional

    Returns
    -------
    bytes
    """
    fig.canvas.draw()
    size = min_font_size(fig)
    meta = {DPI_KEY: f"{dpi:g}"}
    if size != float("inf"):
        meta[FONT_KEY] = f"{size:g}"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def setup() -> None:
    """Apply :data:`STYLE` and make IPython display figures through :func:`png_bytes`.

    Call once at the top of a chapter (it changes matplotlib's global style and, inside
    IPython, the PNG formatter of matplotlib figures; outside IPython only the style).
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    # pyplot loads its backend lazily; the inline backend, once loaded, registers its own
    # PNG formatter and its rcParams, so load it now, before ours replace them
    plt.switch_backend(mpl.get_backend())
    mpl.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the book always has IPython
        return
    ip = get_ipython()
    if ip is None:
        return
    from matplotlib.figure import Figure

    formatter = ip.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, png_bytes)
