"""The whole book as one PDF, printed by Chromium from a one-page HTML build.

Usage::

    python tools/build_pdf.py [--root .] [--build _build] [--skip-html]

1. ``jupyter-book build --builder singlehtml`` renders every page of the book into one
   HTML page (``_build/singlehtml``) from the same sources, the same execution cache and
   the same Sphinx numbering as the HTML book: chapters, sections, equations, figures,
   tables, theorems and exercises carry the numbers they carry online, citations and
   cross-references are resolved by Sphinx, and every figure is the executed one.
2. Debian's Chromium, driven by Playwright with every network request refused, opens
   that page, lets MathJax typeset it (the same MathJax, served from the build, as the
   HTML book: the mathematics is identical), then prepares it for paper: a title page
   with the edition (version, commit, date), a table of contents, each chapter on a new
   page, the folded code cells left out (their outputs and the check summaries stay),
   the solutions of each chapter's exercises collected at the end of that chapter, and
   the page furniture (sidebars, buttons) removed.
3. ``page.pdf()`` prints it to ``_build/pdf/ribbon-book.pdf`` (A4, page numbers in the
   footer, a PDF outline of the chapters and sections), and a copy goes to
   ``_build/html/ribbon-book.pdf``, which every page's download button links.

Why not LaTeX: the book's mathematics is written for MathJax (its configuration, macros
and line breaking), its pages hold HTML outputs, glued tables and widgets, and its
numbering of theorems and exercises comes from Sphinx extensions whose LaTeX output
numbers differently; printing the HTML keeps all of it identical, with the browser the
tests already use, and needs no TeX installation.

The log ``_build/pdf/ribbon-book.log`` lists what the checks of the PDF read: the
characters of the text that no installed font can draw (``missing glyph`` lines: these
would print as empty boxes), the MathJax errors, the images that did not load, and the
page count. ``tests/html/test_publish_pdf.py`` checks the PDF and this log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import publish  # noqa: E402

PDF_NAME = publish.PDF_NAME

LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]

PRINT_CSS = r"""
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-size: 10.5pt !important; }
body { background: white !important; }
.bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .skip-link, #pst-back-to-top,
.search-button-field, .headerlink, .toggle-button, button.toggle-button, .copybtn,
.sidebar-toggle, .pst-scrollable-table-container::-webkit-scrollbar, .bd-search,
.header-article-items, .theme-switch-button, .ribbon-edition, #jb-print-docs-body,
.onlyprint { display: none !important; }
.bd-container, .bd-container__inner, .bd-page-width, .bd-main, .bd-content,
.bd-article-container, .bd-article { max-width: none !important; width: 100% !important;
  margin: 0 !important; padding: 0 !important; display: block !important; }
section.ribbon-chapter { break-before: page; }
/* the theme hides the first h1 on paper (it prints its own title page); ours is a div */
.bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
figure, table, .math-wrapper, div.math, mjx-container[display="true"], .cell_output img,
.admonition-title, .proof .admonition-title, h1, h2, h3, h4 { break-inside: avoid; }
h1, h2, h3, h4, .admonition-title { break-after: avoid; }
div.cell_input, div.cell_output { break-inside: avoid; }
img { max-width: 100% !important; height: auto !important; }
pre, .highlight pre, .output pre { white-space: pre-wrap !important; word-break: break-word;
  overflow: visible !important; }
.pst-scrollable-table-container, .table-wrapper { overflow: visible !important; }
a { color: inherit; text-decoration: none; }
details.ribbon-checks > :not(summary) { display: none; }
.ribbon-title-page { break-after: page; text-align: center; padding-top: 30mm; }
.ribbon-title-page .title { font-size: 2.4rem; font-weight: 600; margin-bottom: 1rem; }
.ribbon-title-page .subtitle { font-size: 1.2rem; margin-bottom: 3rem; }
.ribbon-title-page .edition { margin-top: 4rem; font-size: 1rem; }
.ribbon-title-page .fine { margin-top: 2rem; font-size: 0.85rem; color: #444; }
.ribbon-contents { break-after: page; }
.ribbon-contents ol { list-style: none; padding-left: 0; }
.ribbon-contents ol ol { padding-left: 1.5em; }
.ribbon-contents li { margin: 0.15em 0; }
.ribbon-solutions { break-before: page; }
.ribbon-solutions .solution { display: block !important; }
.ribbon-solutions .solution > * { display: block !important; }
"""

# Waits for MathJax (served from the build) to finish typesetting the whole page.
WAIT_MATH = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) await MathJax.typesetPromise();
  }
  await document.fonts.ready;
  return true;
}
"""

# Prepares the one-page book for paper; returns facts for the log.
PREPARE = r"""
(ed) => {
  const doc = document;
  const article = doc.querySelector('article.bd-article') || doc.querySelector('main') || doc.body;
  // folded code cells: the source stays online, the outputs stay on paper
  for (const d of article.querySelectorAll('details.hide.above-input')) d.remove();
  // one section per page of the book: singlehtml marks where each begins with an empty
  // <span id="document-<page>">; chapters are those whose heading is numbered "N."
  const docs = [];
  for (const mark of article.querySelectorAll('span[id^="document-"]')) {
    let s = mark.nextElementSibling;
    while (s && s.tagName !== 'SECTION') s = s.nextElementSibling;
    if (s) { s.classList.add('ribbon-chapter'); docs.push(s); }
  }
  const heading = (s) => s.querySelector(':scope > h1, :scope > h2, :scope > h3');
  const chapters = docs.filter(s => {
    const num = heading(s) && heading(s).querySelector('.section-number');
    return num && /^\s*\d+\.\s*$/.test(num.textContent);
  });
  // solutions: collected at the end of their chapter, open
  let nSolutions = 0;
  for (const ch of chapters) {
    const sols = [...ch.querySelectorAll('.solution')];
    if (!sols.length) continue;
    const box = doc.createElement('section');
    box.className = 'ribbon-solutions';
    const h = doc.createElement('h2');
    const num = heading(ch).querySelector('.section-number').textContent.trim().replace(/\.$/, '');
    h.textContent = `Solutions to the exercises of chapter ${num}`;
    box.appendChild(h);
    for (const s of sols) {
      s.classList.remove('dropdown', 'toggle-hidden');
      for (const b of s.querySelectorAll('button.toggle-button')) b.remove();
      for (const x of s.querySelectorAll('.toggle-hidden')) x.classList.remove('toggle-hidden');
      box.appendChild(s);
      nSolutions++;
    }
    ch.appendChild(box);
  }
  // the title page and the contents
  const title = doc.createElement('div');
  title.className = 'ribbon-title-page';
  title.innerHTML = `<div class="title">${ed.title}</div><div class="subtitle">${ed.subtitle}</div>
    <div class="author">${ed.author}</div>
    <div class="edition">Version ${ed.version} &middot; commit <code>${ed.commit}</code> &middot; ${ed.date}</div>
    <div class="fine">${ed.fine}</div>`;
  const toc = doc.createElement('nav');
  toc.className = 'ribbon-contents';
  let items = '';
  for (const ch of docs) {
    const h = heading(ch);
    if (!h) continue;
    const subs = !chapters.includes(ch) ? '' : [...ch.querySelectorAll(':scope > section')].map(s => {
      const sh = s.querySelector(':scope > h2, :scope > h3, :scope > h4');
      return sh && s.id ? `<li><a href="#${s.id}">${sh.textContent.replace('#', '').trim()}</a></li>` : '';
    }).join('');
    items += `<li><a href="#${ch.id}"><b>${h.textContent.replace('#', '').trim()}</b></a><ol>${subs}</ol></li>`;
  }
  toc.innerHTML = `<h2>Contents</h2><ol>${items}</ol>`;
  article.prepend(toc);
  article.prepend(title);
  // what the checks read
  const errors = article.querySelectorAll('mjx-merror, [data-mjx-error]').length;
  const unrendered = [...article.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container') && !m.closest('mjx-container')).length;
  const broken = [...article.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
  // every character of the text that will be printed (MathJax draws its own glyphs)
  const chars = {};
  const walker = doc.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: (n) => {
    const p = n.parentElement;
    if (!p || p.closest('script, style, mjx-container, mjx-assistive-mml, noscript')) return NodeFilter.FILTER_REJECT;
    const st = getComputedStyle(p);
    if (st.display === 'none' || st.visibility === 'hidden') return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_ACCEPT;
  }});
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (const c of n.nodeValue) if (c.trim()) chars[c] = (chars[c] || 0) + 1;
  }
  // the text of code and outputs (the checks of the PDF allow TeX and `$` there)
  const code = [...article.querySelectorAll('pre, code, kbd, samp')].filter(p => p.offsetParent !== null)
    .map(p => p.textContent).join('\n');
  return {code: code, chapters: chapters.map(c => heading(c).textContent.replace('#', '').trim()),
          solutions: nSolutions, mathErrors: errors, unrendered: unrendered, brokenImages: broken,
          chars: chars};
}
"""


def installed_font_coverage() -> set[int]:
    """Every code point that some installed font (fontconfig) can draw."""
    from fontTools.ttLib import TTCollection, TTFont

    files = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True,
                           check=False).stdout.split()
    covered: set[int] = set()
    for name in sorted(set(files)):
        try:
            fonts = TTCollection(name).fonts if name.lower().endswith((".ttc", ".otc")) else [TTFont(name, lazy=True)]
            for font in fonts:
                cmap = font.getBestCmap() or {}
                covered.update(cmap)
        except Exception:  # noqa: BLE001 - a font fontTools cannot read covers nothing
            continue
    return covered


def build_singlehtml(root: Path, build: Path) -> Path:
    """The whole book as one HTML page, from the execution cache (nothing is executed
    that the cache does not hold)."""
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--builder", "singlehtml",
           "--path-output", str(build.parent), "--keep-going"]
    env = dict(os.environ)
    env.setdefault("RIBBONLIB_LEDGER_DIR", str(build / "ledger"))
    subprocess.run(cmd, check=True, env=env)
    page = build / "singlehtml" / "intro.html"
    if not page.exists():
        candidates = [p for p in (build / "singlehtml").glob("*.html") if p.name != "index.html"]
        if not candidates:
            raise SystemExit(f"the one-page build wrote no page in {build / 'singlehtml'}")
        page = candidates[0]
    return page


def print_pdf(page: Path, out: Path, ed: dict, chromium: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1400})
            context.route("http://**/*", lambda route: route.abort())
            context.route("https://**/*", lambda route: route.abort())
            pg = context.new_page()
            pg.set_default_timeout(0)
            pg.goto(page.resolve().as_uri(), wait_until="load", timeout=0)
            pg.evaluate(WAIT_MATH)
            pg.add_style_tag(content=PRINT_CSS)
            pg.emulate_media(media="print")
            facts = pg.evaluate(PREPARE, ed)
            pg.evaluate(WAIT_MATH)
            footer = ("<div style='font-size:7.5pt;width:100%;padding:0 15mm;color:#555;"
                      "font-family:sans-serif;display:flex;justify-content:space-between'>"
                      f"<span>{ed['title']} &middot; ribbon-book {ed['version']}</span>"
                      "<span><span class='pageNumber'></span> / <span class='totalPages'></span></span></div>")
            out.parent.mkdir(parents=True, exist_ok=True)
            pg.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                   header_template="<span></span>", footer_template=footer,
                   margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                   outline=True, tagged=True, prefer_css_page_size=True)
        finally:
            browser.close()
    return facts


def pdf_pages(pdf: Path) -> int | None:
    if shutil.which("pdfinfo") is None:
        return None
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--build", type=Path, default=None, help="the build folder (default: ROOT/_build)")
    parser.add_argument("--skip-html", action="store_true", help="print the existing one-page build")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    build = (args.build or root / "_build").resolve()
    from render_offline import find_chromium

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("chromium not found: `make chromium` installs Debian's package")
    start = time.perf_counter()
    page = build / "singlehtml" / "intro.html" if args.skip_html else build_singlehtml(root, build)
    built = time.perf_counter()
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text())
    edition = publish.edition(root)
    ed = {
        "title": config.get("title", "ribbon-book"),
        "subtitle": "An executable book: every result derived, computed and checked each time it is built",
        "author": config.get("author", ""),
        **edition,
        "fine": (f"{config.get('copyright', '')}. Online: {publish_site(root)}. "
                 "Cite it with the version and commit above (CITATION.cff in the repository)."),
    }
    pdf = build / "pdf" / PDF_NAME
    facts = print_pdf(page, pdf, ed, chromium)
    printed = time.perf_counter()
    covered = installed_font_coverage()
    missing = {c: n for c, n in facts.pop("chars").items() if ord(c) not in covered}
    pages = pdf_pages(pdf)
    log = [f"ribbon-book {edition['version']} (commit {edition['commit']}), {dt.datetime.now():%Y-%m-%d %H:%M}",
           f"pages: {pages}", f"chapters: {json.dumps(facts['chapters'], ensure_ascii=False)}",
           f"solutions collected: {facts['solutions']}",
           f"mathjax errors: {facts['mathErrors']}", f"math not typeset: {facts['unrendered']}",
           f"images not loaded: {len(facts['brokenImages'])} {facts['brokenImages'][:10]}"]
    for c, n in sorted(missing.items()):
        log.append(f"missing glyph: U+{ord(c):04X} {unicodedata.name(c, '?')} ({n} times)")
    (pdf.with_suffix(".log")).write_text("\n".join(log) + "\n", encoding="utf-8")
    (pdf.with_suffix(".code.txt")).write_text(facts.pop("code"), encoding="utf-8")
    html = build / "html"
    if html.is_dir():
        shutil.copy(pdf, html / PDF_NAME)
    print("\n".join(log[:7]))
    for line in log[7:]:
        print("WARNING:", line)
    print(f"PDF written to {pdf} ({pages} pages; one-page build {built - start:.0f} s, "
          f"printing {printed - built:.0f} s)")
    return 0


def publish_site(root: Path) -> str:
    import notebooks

    return notebooks.site_url(root)


if __name__ == "__main__":
    sys.exit(main())
