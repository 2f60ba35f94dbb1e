"""Audit the built book as a reader sees it: rendered pages in headless Chromium.

Usage::

    python tools/page_audit.py [_build/html] [page.html ...] [--width 390] [--json]

Each page is opened from disk (``file://``) with every network request refused, at the
widths a reader uses (desktop 1400 px and phone 390 px by default). After MathJax has
typeset the page, the rendered DOM is inspected and every defect is reported with the
rule it breaks, where it is and what it shows. Rules (see :data:`RULES`):

``raw-tex``        TeX or a ``$`` left as text outside code and rendered math
``markdown``       Markdown table rows (``| a | b |``, ``|---|``) or emphasis markers left as text
``math-error``     a math element MathJax did not render, or a MathJax error
``math-narrow``    a display equation that MathJax laid out for a width much smaller than
                   its box (it breaks equations that fit: the symptom of a layout that hides
                   the column's width from MathJax)
``page-scroll``    the page scrolls sideways (the document is wider than the window)
``too-wide``       an element (code, output, display math, table, figure) wider than the
                   text column, or scrolling inside itself
``alt-text``       an image without meaningful alt text (missing, too short, a file name)
``tiny-text``      a figure whose smallest text (from the figure's own metadata: font size
                   in points and DPI, written by :func:`ribbonlib.figures.show`) is displayed
                   below :data:`MIN_TEXT_PX` (or an image that does not load); at phone
                   width a figure that opens at full size on a tap is exempt
``code-share``     visible code taller than :data:`MAX_CODE_SHARE` of a chapter page

The same functions are used by ``tests/html/test_rendered_pages.py``, which also proves
that every rule catches its defect on a small broken page.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Widths (CSS px) of the reader's window: a desktop and a phone.
WIDTHS = (1400, 390)
#: Smallest acceptable displayed size (CSS px, the em size) of text in a figure.
MIN_TEXT_PX = 9.0
#: Largest share of a chapter's height that visible code may take.
MAX_CODE_SHARE = 0.15
#: PNG text keys written by ribbonlib.figures: smallest font size (pt) and resolution (dpi).
FONT_KEY = "ribbon:min-font-pt"
DPI_KEY = "ribbon:dpi"

RULES = ("raw-tex", "markdown", "math-error", "math-narrow", "page-scroll", "too-wide", "alt-text",
         "tiny-text", "code-share")

#: Pages that are not the book's text (Sphinx's generated index and search pages).
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}

LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Defect:
    """One thing a reader would see wrong on a page."""

    page: str
    width: int
    rule: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.page} @ {self.width}px [{self.rule}] {self.where}: {self.what}"


# JavaScript run in the rendered page; returns a list of [rule, where, what] and facts.
_INSPECT = r"""
() => {
  const out = [];
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const sec = el.closest('section[id]');
    if (sec) s += ' in #' + sec.id;
    return s;
  };
  const clip = (t) => t.replace(/\s+/g, ' ').trim().slice(0, 120);
  const vw = window.innerWidth;
  const art = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const col = art.getBoundingClientRect();
  const SKIP = 'pre, code, script, style, textarea, mjx-container, mjx-assistive-mml, svg, kbd, noscript, template, .highlight, .math';
  // --- text left unrendered
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tex = /\$|\\[()\[\]]|\\begin\{|\\[A-Za-z]{2,}/;
  const table = /(^|\n)\s*\|.*\|\s*($|\n)|\|\s*[-\u2014\u2013:]{2,}\s*\|/;
  const emph = /(^|\s)(\*\*|__)\S|\S(\*\*|__)($|\s)/;
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || el.closest(SKIP)) continue;
    const t = node.nodeValue;
    if (tex.test(t)) out.push(['raw-tex', describe(el), clip(t)]);
    if (table.test(t)) out.push(['markdown', describe(el), clip(t)]);
    else if (emph.test(t)) out.push(['markdown', describe(el), clip(t)]);
  }
  // --- math
  document.querySelectorAll('.math').forEach((m) => {
    if (!m.querySelector('mjx-container') && !m.closest('mjx-container'))
      out.push(['math-error', describe(m), 'not rendered: ' + clip(m.textContent)]);
  });
  document.querySelectorAll('mjx-merror').forEach((m) => {
    out.push(['math-error', describe(m), 'MathJax error: ' + clip(m.getAttribute('data-mjx-error') || m.textContent)]);
  });
  // --- MathJax's idea of the width available to each display equation
  if (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.document.math) {
    for (const m of MathJax.startup.document.math) {
      const c = m.typesetRoot;
      if (!m.display || !c || !c.parentElement || !m.metrics) continue;
      const p = c.parentElement, cs = getComputedStyle(p);
      const eq = p.querySelector(':scope > .eqno');
      const box = p.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)
        - (eq && getComputedStyle(eq).position !== 'absolute' && getComputedStyle(eq).display !== 'block' ? eq.offsetWidth : 0);
      if (box > 0 && m.metrics.containerWidth < 0.75 * box)
        out.push(['math-narrow', describe(c), `laid out for ${Math.round(m.metrics.containerWidth)}px in a ${Math.round(box)}px box: ` + clip(c.textContent || '')]);
    }
  }
  // --- width
  const docw = document.documentElement.scrollWidth;
  if (docw > vw + 1) out.push(['page-scroll', 'document', `document is ${docw}px wide in a ${vw}px window`]);
  // checkVisibility: also false inside a closed <details> (its content is skipped, not removed)
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
    && (!el.checkVisibility || el.checkVisibility());
  const WIDE = 'pre, table, img, mjx-container[display="true"], div.cell_output, div.output, figure, div.math, .table-wrapper, .sd-card, iframe, .widget-subarea';
  const seen = new Set();
  art.querySelectorAll(WIDE).forEach((el) => {
    if (!visible(el)) return;
    const r = el.getBoundingClientRect();
    if (r.width === 0) return;
    const over = r.right - col.right, under = col.left - r.left;
    let msg = null;
    if (over > 2 || under > 2) msg = `${Math.round(r.width)}px wide, column ${Math.round(col.width)}px`;
    else if (el.scrollWidth > el.clientWidth + 2 && getComputedStyle(el).overflowX !== 'visible')
      msg = `content ${el.scrollWidth}px in a ${el.clientWidth}px box (scrolls or is clipped)`;
    if (msg) {
      // report the innermost offender once
      for (const s of seen) if (el.contains(s)) return;
      seen.add(el);
      out.push(['too-wide', describe(el), msg + ': ' + clip(el.textContent || el.getAttribute('alt') || '')]);
    }
  });
  // --- images
  const images = [];
  art.querySelectorAll('img').forEach((img) => {
    const alt = (img.getAttribute('alt') || '').trim();
    const src = img.getAttribute('src') || '';
    if (alt.split(/\s+/).filter(Boolean).length < 4 || /\.(png|svg|jpe?g|gif)\b|_build|jupyter_execute|^image$/i.test(alt))
      out.push(['alt-text', describe(img), `alt "${alt}" for ${src}`]);
    if (!visible(img)) return;
    const r = img.getBoundingClientRect();
    const link = img.closest('a');
    images.push({src: img.currentSrc || img.src, shown: r.width, natural: img.naturalWidth,
                 enlarge: !!(link && link.getAttribute('href')), where: describe(img)});
  });
  // --- code share (chapters)
  let code = 0;
  art.querySelectorAll('div.cell_input, div.cell .cell_input').forEach((c) => {
    if (visible(c)) code += c.getBoundingClientRect().height;
  });
  const height = art.getBoundingClientRect().height;
  return {defects: out, images: images, code: code, height: height};
}
"""

_WAIT_MATH = r"""
async () => {
  const done = (async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
      if (MathJax.typesetPromise) await MathJax.typesetPromise();
    }
    return true;
  })();
  // MathJax waits for ever for a file it cannot load: give up after 30 s and say so
  const timeout = new Promise((resolve) => setTimeout(() => resolve(false), 30000));
  return await Promise.race([done, timeout]);
}
"""


def figure_text_px(path: Path, shown: float, natural: float) -> float | None:
    """Displayed em size (CSS px) of the smallest text of a figure, from its PNG metadata.

    ``None`` when the image carries no such metadata (a figure not drawn through
    :func:`ribbonlib.figures.setup`, whose legibility cannot be known).
    """
    from PIL import Image

    try:
        with Image.open(path) as im:
            info = dict(getattr(im, "text", {}) or {})
    except OSError:
        return None
    if FONT_KEY not in info or DPI_KEY not in info:
        return None
    font_pt = float(info[FONT_KEY])
    dpi = float(info[DPI_KEY])
    if natural <= 0:
        return None
    return font_pt * dpi / 72.0 * (shown / natural)


def _local_path(src: str) -> Path | None:
    parts = urlsplit(src)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


def is_chapter(page: Path) -> bool:
    """Chapters are the pages of ``chapters/``: their visible code is measured."""
    return page.parent.name == "chapters"


def audit_pages(pages: Iterable[Path], root: Path, widths: Iterable[int] = WIDTHS, *,
                chromium: str | None = None, rules: Iterable[str] = RULES) -> tuple[list[Defect], dict]:
    """Open every page at every width and return its defects, plus measured facts.

    Parameters
    ----------
    pages : iterable of Path
        HTML files to open.
    root : Path
        The folder of the built book (page names are reported relative to it).
    widths : iterable of int
        Window widths in CSS px.
    chromium : str, optional
        The browser executable (``render_offline.find_chromium()`` by default).
    rules : iterable of str
        The rules to apply.

    Returns
    -------
    defects : list of Defect
    facts : dict
        ``{(page, width): {"code_share": ..., "images": [...]}}``.
    """
    from playwright.sync_api import sync_playwright

    if chromium is None:
        from render_offline import find_chromium

        chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("chromium not found: `make chromium` installs Debian's package")
    rules = set(rules)
    defects: list[Defect] = []
    facts: dict = {}
    pages = list(pages)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            for width in widths:
                context = browser.new_context(viewport={"width": width, "height": 900})
                context.route("http://**/*", lambda route: route.abort())
                context.route("https://**/*", lambda route: route.abort())
                page = context.new_page()
                for path in pages:
                    name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
                    page.goto(path.resolve().as_uri(), wait_until="load")
                    finished = page.evaluate(_WAIT_MATH)
                    page.wait_for_timeout(50)
                    result = page.evaluate(_INSPECT)
                    if not finished and "math-error" in rules:
                        defects.append(Defect(name, width, "math-error", "page",
                                              "MathJax did not finish typesetting within 30 s"))
                    for rule, where, what in result["defects"]:
                        if rule in rules:
                            defects.append(Defect(name, width, rule, where, what))
                    share = result["code"] / result["height"] if result["height"] else 0.0
                    facts[(name, width)] = {"code_share": share, "images": result["images"]}
                    if "code-share" in rules and is_chapter(path) and share > MAX_CODE_SHARE:
                        defects.append(Defect(name, width, "code-share", "visible code",
                                              f"{share:.0%} of the page height (at most {MAX_CODE_SHARE:.0%})"))
                    if "tiny-text" in rules:
                        for img in result["images"]:
                            local = _local_path(img["src"])
                            if local is None:
                                continue
                            if img["natural"] == 0:
                                defects.append(Defect(name, width, "tiny-text", img["where"],
                                                      f"image {local.name} did not load"))
                                continue
                            px = figure_text_px(local, img["shown"], img["natural"])
                            if px is None and local.suffix.lower() == ".png":
                                defects.append(Defect(name, width, "tiny-text", img["where"],
                                                      f"{local.name} states no font size and DPI "
                                                      "(draw it through ribbonlib.figures.setup)"))
                            elif px is not None and px < MIN_TEXT_PX and not (width < 600 and img["enlarge"]):
                                defects.append(Defect(name, width, "tiny-text", img["where"],
                                                      f"smallest text {px:.1f}px (at least {MIN_TEXT_PX:g}px) "
                                                      f"in {local.name} shown {img['shown']:.0f}px wide"))
                context.close()
        finally:
            browser.close()
    return defects, facts


def book_pages(root: Path) -> list[Path]:
    """Every page of the built book that a reader reads."""
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0].startswith(("_", ".")) or rel.name in SKIP_PAGES:
            continue
        head = path.read_text(encoding="utf-8", errors="replace")[:2000].lower()
        if 'http-equiv="refresh"' in head:
            continue  # a redirect (the book's index.html points to its first page)
        pages.append(path)
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default="_build/html")
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--width", type=int, action="append")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    pages = [root / p for p in args.pages] if args.pages else book_pages(root)
    defects, facts = audit_pages(pages, root, args.width or WIDTHS)
    if args.json:
        print(json.dumps([asdict(d) for d in defects], indent=1))
    else:
        for d in defects:
            print(d)
        for (name, width), f in sorted(facts.items()):
            if is_chapter(root / name):
                print(f"{name} @ {width}px: visible code {f['code_share']:.0%} of the page")
        print(f"{len(defects)} defect(s) on {len(pages)} page(s)")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(sys.argv[1:]))
