"""Open built pages in headless Chromium without network and report how the math rendered.

Usage: ``python tools/render_offline.py [_build/html] [page.html ...]``: prints one line
per page with math and exits 1 if any page shows unrendered TeX. ``tests/html`` uses
the same functions.

Without network means: the browser runs in a new network namespace when the system
allows it (``unshare --net``, only a loopback that is down), and in every case all its
http(s) traffic goes to a proxy on the discard port, which refuses it. Pages are opened
as ``file://`` URLs, as a reader opening a downloaded copy would.

The rendered DOM (``--dump-dom``, after ``--virtual-time-budget`` so that MathJax finishes)
is read with :func:`math_report`: every Sphinx math element (``class="math"``) must hold
a MathJax output element (``mjx-container``), no TeX may be left in text outside those
outputs, and MathJax must have reported no TeX error (``mjx-merror``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--proxy-server=127.0.0.1:9",  # the discard port: every http(s) request fails
    "--proxy-bypass-list=<-loopback>",  # ... loopback included
]

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr", "param", "keygen"}
SKIP = {"script", "style", "pre", "code", "textarea", "noscript", "template"}
# TeX left as text: display/inline delimiters, environments, or a control word.
RAW_TEX_IN_MATH = re.compile(r"\\[\[\]()]|\$\$|\\begin\{|\\[A-Za-z]{2,}")
RAW_TEX_IN_PROSE = re.compile(r"\\[\[(]|\$\$|\\begin\{")


def find_chromium() -> str | None:
    """The Chromium executable: ``$CHROMIUM`` (a name or a path), else ``chromium``."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    return None


@functools.cache
def isolation_prefix() -> tuple[str, ...]:
    """``("unshare", "--net")`` when a new, empty network namespace can be made here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        ok = subprocess.run([unshare, "--net", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return (unshare, "--net") if ok else ()


def dump_dom(url: str, *, chromium: str | None = None, budget_ms: int = 30000, timeout: float = 180) -> str:
    """The DOM of ``url`` after scripts ran, as headless Chromium serialises it, offline."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium not found (make chromium installs Debian's package)")
    with tempfile.TemporaryDirectory(prefix="ribbon-chromium-") as profile:
        cmd = [*isolation_prefix(), chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               f"--virtual-time-budget={budget_ms}", "--dump-dom", url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=dict(os.environ, TZ="UTC"))
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise RuntimeError(f"chromium failed on {url} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc.stdout


@dataclass
class MathReport:
    """What the rendered DOM of one page shows of its math.

    Attributes
    ----------
    math : int
        Sphinx math elements (``class`` contains ``math``).
    rendered : int
        Of those, the ones holding a MathJax output element (``mjx-container``).
    containers : int
        MathJax output elements on the page.
    errors : list of str
        Text of MathJax TeX-error elements (``mjx-merror``).
    raw : list of str
        Snippets of TeX left as text (inside math elements, outside their MathJax output,
        or in prose).
    """

    math: int = 0
    rendered: int = 0
    containers: int = 0
    errors: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every math element rendered, no TeX left, no TeX error."""
        return self.rendered == self.math and not self.errors and not self.raw

    def summary(self) -> str:
        """One line."""
        text = f"{self.rendered}/{self.math} math elements rendered, {self.containers} MathJax outputs"
        if self.errors:
            text += f", {len(self.errors)} TeX error(s): {self.errors[:3]}"
        if self.raw:
            text += f", raw TeX left: {self.raw[:3]}"
        return text


class _MathScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.report = MathReport()
        self.stack: list[str] = []
        self.math_depth: int | None = None  # stack depth of the open math element
        self.math_has_output = False
        self.math_text: list[str] = []
        self.mjx_depth: int | None = None
        self.merror_depth: int | None = None
        self.merror_text: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        depth = len(self.stack)
        classes = (dict(attrs).get("class") or "").split()
        if tag in SKIP:
            self.skip += 1
        if tag == "mjx-container":
            self.report.containers += 1
            if self.mjx_depth is None:
                self.mjx_depth = depth
            if self.math_depth is not None:
                self.math_has_output = True
        elif tag == "mjx-merror" and self.merror_depth is None:
            self.merror_depth, self.merror_text = depth, []
        elif "math" in classes and self.math_depth is None and self.mjx_depth is None:
            self.math_depth, self.math_has_output, self.math_text = depth, False, []
            self.report.math += 1

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:  # <path/> in serialised SVG: open and close at once
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self.stack:
            return
        while self.stack:
            depth = len(self.stack)
            top = self.stack.pop()
            if top in SKIP:
                self.skip -= 1
            if self.merror_depth == depth:
                self.report.errors.append("".join(self.merror_text).strip()[:120])
                self.merror_depth = None
            if self.mjx_depth == depth:
                self.mjx_depth = None
            if self.math_depth == depth:
                self.math_depth = None
                self.report.rendered += self.math_has_output
                text = " ".join("".join(self.math_text).split())
                m = RAW_TEX_IN_MATH.search(text)
                if m:
                    self.report.raw.append(text[max(0, m.start() - 30): m.end() + 50])
            if top == tag:
                break

    def handle_data(self, data):
        if self.merror_depth is not None:
            self.merror_text.append(data)
        if self.mjx_depth is not None:
            return  # MathJax output (and its assistive MathML)
        if self.math_depth is not None:
            self.math_text.append(data)
        elif not self.skip:
            m = RAW_TEX_IN_PROSE.search(data)
            if m:
                self.report.raw.append(data[max(0, m.start() - 30): m.end() + 50].strip())


def math_report(dom: str) -> MathReport:
    """Read a rendered DOM (``--dump-dom`` output) and report on its math."""
    scanner = _MathScanner()
    scanner.feed(dom)
    scanner.close()
    return scanner.report


def pages_with_math(html_dir: Path) -> list[Path]:
    """Built pages that hold Sphinx math elements."""
    found = []
    for page in sorted(html_dir.rglob("*.html")):
        rel = page.relative_to(html_dir)
        if rel.parts[0] in ("_static", "_vendor", "_sources", "_images"):
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        if re.search(r'class="[^"]*\bmath\b', text):
            found.append(page)
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    html_dir = Path(args[0] if args else "_build/html").resolve()
    pages = [html_dir / p for p in args[1:]] or pages_with_math(html_dir)
    bad = 0
    for page in pages:
        report = math_report(dump_dom(page.as_uri()))
        bad += not report.ok
        print(f"{'ok  ' if report.ok else 'FAIL'} {page.relative_to(html_dir)}: {report.summary()}")
    print(f"network isolation: {' '.join(isolation_prefix()) or 'proxy only'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
