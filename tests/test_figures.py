"""ribbonlib.figures: the PNG of a figure states its smallest font size and its DPI."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from ribbonlib import figures  # noqa: E402


def test_png_metadata_gives_smallest_visible_font():
    with matplotlib.rc_context(figures.STYLE):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="a line")
        ax.legend(fontsize=7.5)
        ax.set_xlabel("x", fontsize=12)
        ax.text(0.5, 0.5, "hidden", fontsize=3).set_visible(False)
        ax.set_title("")  # empty texts do not count
        data = figures.png_bytes(fig, dpi=100)
        plt.close(fig)
    with Image.open(io.BytesIO(data)) as im:
        assert im.text[figures.FONT_KEY] == "7.5"
        assert im.text[figures.DPI_KEY] == "100"


def test_figure_without_text_has_no_font_entry():
    fig = plt.figure()
    data = figures.png_bytes(fig)
    plt.close(fig)
    with Image.open(io.BytesIO(data)) as im:
        assert figures.FONT_KEY not in im.text and im.text[figures.DPI_KEY] == str(figures.DPI)
