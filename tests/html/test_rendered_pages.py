"""The pages as a reader sees them: every page of the built book, rendered in headless
Chromium at desktop and phone width, passes the audit of ``tools/page_audit.py``; and each
rule of the audit is proved to catch its defect on a small broken page (and to pass a
clean one), as the net test does for the checks of the chapters."""

from __future__ import annotations

from pathlib import Path

import pytest

import page_audit as A

CSS = """
body { margin: 0; font: 16px/1.5 sans-serif; }
main { max-width: 760px; margin: 0 auto; padding: 0 16px; }
article.bd-article { width: 100%; }
pre { overflow-x: auto; }
img { max-width: 100%; }
"""


def write_page(folder: Path, name: str, body: str, mathjax: Path | None = None) -> Path:
    """A minimal page with the book's article structure (and MathJax when given, configured
    as the book configures it, its font's glyph data in the sibling folder)."""
    head = f"<style>{CSS}</style>"
    if mathjax is not None:
        font = next(mathjax.parent.parent.glob("mathjax-mathjax-newcm-font-*"))
        head += (
            "<script>window.MathJax = {tex: {inlineMath: [['\\\\(', '\\\\)']], "
            "displayMath: [['\\\\[', '\\\\]']]}, options: {processHtmlClass: 'math', menuOptions: "
            "{settings: {enrich: false, speech: false, braille: false, assistiveMml: true}}}, "
            "output: {displayOverflow: 'linebreak', linebreaks: {inline: true, width: '100%'}}, "
            f"loader: {{paths: {{'mathjax-newcm': '[mathjax]/../{font.name}'}}}}}};</script>"
            f'<script defer src="{mathjax.as_uri()}"></script>'
        )
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body><main>"
                    f"<article class='bd-article'>{body}</article></main></body></html>", encoding="utf-8")
    return path


def figure_png(folder: Path, name: str, font_pt: float, width_in: float = 6.0) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ribbonlib import figures

    with matplotlib.rc_context(figures.STYLE):
        fig, ax = plt.subplots(figsize=(width_in, 3))
        ax.plot([0, 1], [0, 1])
        ax.tick_params(labelsize=font_pt)
        ax.set_xlabel("step $t$", fontsize=max(font_pt, 10))
        data = figures.png_bytes(fig, dpi=100)
        plt.close(fig)
    path = folder / name
    path.write_bytes(data)
    return path


GOOD_ALT = "Loss against step: the curve falls geometrically"


@pytest.fixture(scope="module")
def mathjax(offline_plan) -> Path:
    from nbrun import ROOT

    # the plan names the copy relative to _static/ ("../_vendor/..."); the source is in _vendor/
    path = ROOT / "_vendor" / offline_plan.mathjax_path.split("_vendor/", 1)[-1]
    assert path.is_file(), f"MathJax not found in _vendor: {path}"
    return path


@pytest.fixture(scope="module")
def broken_pages(tmp_path_factory, mathjax):
    """One page per rule, each with exactly that defect, and a clean page."""
    folder = tmp_path_factory.mktemp("broken")
    good_png = figure_png(folder, "good.png", font_pt=10, width_in=6.0)
    tiny_png = figure_png(folder, "tiny.png", font_pt=5, width_in=13.0)
    clean = write_page(folder, "chapters/clean.html", (
        "<h1>Clean</h1><p>The rate <span class='math'>\\(\\alpha = 1\\)</span> is fine.</p>"
        "<div class='math'>\\[ \\mu_m \\le \\sigma_1 + n_{(m)} \\]</div>"
        f"<a href='../{good_png.name}'><img src='../{good_png.name}' alt='{GOOD_ALT}' "
        "style='width: 600px'></a><div class='cell_input'><pre>x = 1</pre></div>"
        + "<p>Prose. </p>" * 40
    ), mathjax)
    pages = {
        "raw-tex": write_page(folder, "raw.html", "<p>The rate is $\\alpha$ here.</p>"),
        "markdown": write_page(folder, "md.html",
                               "<p>| kappa | k = 1 | k = 2 |<br>|---|---|---|</p>"),
        "math-error": write_page(folder, "merr.html",
                                 "<div class='math'>\\[ \\frac{a}{ \\]</div>", mathjax),
        # the layout of a theme that sets display equations in a flex row with their number
        "math-narrow": write_page(folder, "narrow.html",
                                  "<style>div.flex { display: flex; flex-direction: row-reverse; "
                                  "align-items: center; gap: 0.5em; overflow: hidden } div.flex "
                                  "mjx-container { flex-grow: 1; overflow: auto }</style>"
                                  "<div class='math flex'><span class='eqno'>(1)</span>"
                                  "\\[ a + b = c + d + e = f \\]</div>", mathjax),
        "page-scroll": write_page(folder, "scroll.html",
                                  "<p>Text.</p></article><div style='width: 2400px'>wide</div><article>"),
        "too-wide": write_page(folder, "wide.html", "<pre>" + "x = 1 + " * 60 + "</pre>"),
        "alt-text": write_page(folder, "alt.html",
                               f"<a href='{good_png.name}'><img src='{good_png.name}' "
                               "alt='_build/jupyter_execute/a1b2.png'></a>"),
        "tiny-text": write_page(folder, "tiny.html",
                                f"<img src='{tiny_png.name}' alt='{GOOD_ALT}' style='width: 700px'>"),
        "code-share": write_page(folder, "chapters/code.html",
                                 "<p>Short prose.</p><div class='cell_input'><pre>"
                                 + "\n".join(f"line_{i} = {i}" for i in range(80)) + "</pre></div>"),
    }
    return folder, clean, pages


def test_rules_are_all_proved(broken_pages):
    _, _, pages = broken_pages
    assert set(pages) == set(A.RULES)


@pytest.mark.parametrize("rule", A.RULES)
def test_each_rule_catches_its_defect(rule, broken_pages, chromium):
    folder, _, pages = broken_pages
    defects, _ = A.audit_pages([pages[rule]], folder, widths=(1400, 390), chromium=chromium)
    rules = {d.rule for d in defects}
    assert rule in rules, f"rule {rule!r} missed its broken page; found {sorted(rules)}"
    assert rules <= {rule}, f"the broken page for {rule!r} tripped other rules too: {defects}"


def test_a_clean_page_passes_every_rule(broken_pages, chromium):
    folder, clean, _ = broken_pages
    defects, facts = A.audit_pages([clean], folder, widths=(1400, 390), chromium=chromium)
    assert not defects, "\n".join(map(str, defects))
    assert facts[("chapters/clean.html", 1400)]["images"], "the clean page's figure was not seen"


def test_every_page_of_the_book_reads_well(html_dir, chromium):
    pages = A.book_pages(html_dir)
    assert len(pages) >= 10, f"too few pages in {html_dir}"
    defects, facts = A.audit_pages(pages, html_dir, chromium=chromium)
    shares = {name: f["code_share"] for (name, width), f in facts.items()
              if width == A.WIDTHS[0] and A.is_chapter(html_dir / name)}
    print("visible code share per chapter (desktop):",
          ", ".join(f"{Path(n).stem} {s:.0%}" for n, s in sorted(shares.items())))
    assert not defects, f"{len(defects)} defect(s) a reader sees:\n  " + "\n  ".join(map(str, defects[:200]))
