"""Check the internal links of a built HTML book: every relative reference must name a
file of the build, and every ``#fragment`` an ``id`` (or ``<a name>``) of that page.

Usage: ``python tools/check_links.py [_build/html]``: prints the broken references and
exits 1 if there are any. ``tests/html/test_links.py`` runs the same check.

Checked: ``href`` of ``a``, ``area`` and ``link``, and ``src`` of ``script``, ``img``,
``iframe``, ``source``, ``audio``, ``video`` and ``embed``, on every page of the build
outside the copied asset folders. Not checked: references with a scheme (``http:``,
``https:``, ``mailto:``, ``data:``, ``javascript:``...) or a host (``//...``), which need
the network; fragments of non-HTML files (``file.pdf#page=2``); and a bare ``#``, which
is "the top of this page".
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRS = {
    "a": "href", "area": "href", "link": "href",
    "script": "src", "img": "src", "iframe": "src", "source": "src",
    "audio": "src", "video": "src", "embed": "src",
}
# <link rel=...> values that name a host or an origin, not a file of the build.
LINK_REL_SKIP = {"preconnect", "dns-prefetch"}
# Folders of the build that hold copied assets, not pages.
ASSET_DIRS = ("_static", "_vendor", "_sources", "_images", "_downloads")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class Page:
    """The anchors a page defines and the references it makes."""

    ids: set[str] = field(default_factory=set)
    refs: list[tuple[int, str, str]] = field(default_factory=list)  # (line, tag, value)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag in ("a", "map") else ("id",):
            if attrs.get(key):
                self.page.ids.add(attrs[key])
        attr = LINK_ATTRS.get(tag)
        value = attrs.get(attr) if attr else None
        if value is None:
            return
        if tag == "link" and LINK_REL_SKIP & set((attrs.get("rel") or "").lower().split()):
            return
        self.page.refs.append((self.getpos()[0], tag, value.strip()))

    handle_startendtag = handle_starttag


def scan(path: Path) -> Page:
    """Anchors and references of one HTML file."""
    scanner = _Scanner()
    scanner.feed(path.read_text(encoding="utf-8", errors="replace"))
    scanner.close()
    return scanner.page


def is_internal(value: str) -> bool:
    """A reference to the build itself (no scheme, no host)."""
    return bool(value) and not _SCHEME.match(value) and not value.startswith("//")


def pages_of(html_dir: Path) -> list[Path]:
    """The HTML pages of a build, outside the asset folders."""
    return [
        p for p in sorted(html_dir.rglob("*.html"))
        if p.relative_to(html_dir).parts[0] not in ASSET_DIRS
    ]


def broken_links(html_dir: str | Path) -> list[str]:
    """Every internal reference of the build that names no file, or no anchor.

    Parameters
    ----------
    html_dir : path
        The root of the built HTML (``_build/html``).

    Returns
    -------
    list of str
        ``"<page>:<line>: <tag> <reference>: <what is wrong>"``, empty when all resolve.
    """
    root = Path(html_dir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"no built HTML in {root}")
    cache: dict[Path, Page] = {}

    def page_at(path: Path) -> Page:
        if path not in cache:
            cache[path] = scan(path)
        return cache[path]

    problems = []
    for source in pages_of(root):
        here = source.relative_to(root).as_posix()
        for line, tag, value in page_at(source).refs:
            if not is_internal(value) or value == "#":
                continue
            parts = urlsplit(value)
            rel, fragment = unquote(parts.path), unquote(parts.fragment)
            target = (source.parent / rel).resolve() if rel else source
            where = f"{here}:{line}: <{tag}> {value}"
            if root != target and root not in target.parents:
                problems.append(f"{where}: points outside the build")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{where}: no file {target.relative_to(root).as_posix()}")
                continue
            if fragment and target.suffix == ".html" and fragment not in page_at(target).ids:
                problems.append(
                    f"{where}: no id {fragment!r} in {target.relative_to(root).as_posix()}"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    html_dir = Path(args[0] if args else "_build/html")
    problems = broken_links(html_dir)
    for p in problems:
        print(p)
    n_pages = len(pages_of(html_dir.resolve()))
    print(f"{len(problems)} broken internal link(s) in {n_pages} pages of {html_dir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
