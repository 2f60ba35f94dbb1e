"""Build one chapter as a small book of its own, and audit its pages as a reader sees them.

Usage::

    python tools/scratch_book.py chapters/05_phase_diagram.md [--out DIR] [--no-audit]

The scratch book holds the project's configuration, extensions, static files and
bibliography, the chapter, and a one-line stub for every page the chapter links to, so
that the strict build (``-W -n``) runs exactly as for the whole book. It executes the
chapter (through the book's own execution, not a cache), writes the HTML to
``DIR/_build/html`` (default: a folder under the system's temporary directory), then runs
``tools/page_audit.py`` on the chapter's page at desktop and phone width.

The net test (``tests/test_net.py``) builds its scratch book with :func:`make`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("_config.yml", "references.bib", "references.md")
COPIED_DIRS = ("_ext", "_static", "_vendor")


def make(chapter: Path, folder: Path, extra: str = "") -> Path:
    """Write a one-chapter book into ``folder/book`` and return it.

    Parameters
    ----------
    chapter : Path
        The chapter's MyST text notebook.
    folder : Path
        Where to create the book (a ``book`` folder inside it).
    extra : str, optional
        Text appended to the chapter (e.g. a deliberately false check).
    """
    book = folder / "book"
    if book.exists():
        shutil.rmtree(book)
    (book / "chapters").mkdir(parents=True)
    for name in COPIED:
        shutil.copy(ROOT / name, book / name)
    for name in COPIED_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, book / name)
    (book / "intro.md").write_text("# Scratch book\n\nOne chapter of the book, built on its own.\n")
    text = chapter.read_text(encoding="utf-8") + extra
    (book / "chapters" / chapter.name).write_text(text, encoding="utf-8")
    pages = [(book / "chapters", text)]
    if re.search(r"\{py:(?:func|mod|class|meth|data)\}`|\{(?:func|mod|class|meth|data)\}`", text):
        # references into the API reference resolve only if that page is part of the book
        api = (ROOT / "api.md").read_text(encoding="utf-8")
        (book / "api.md").write_text(api, encoding="utf-8")
        pages.append((book, api))
    stubs = ["api"] if len(pages) > 1 else []
    targets = sorted({(base, t) for base, src in pages
                      for t in re.findall(r"\{doc\}`(?:[^`<]*<)?([^`<>]+)>?`", src)})
    for base, target in targets:
        page = (base / target).resolve().with_suffix(".md")
        rel = page.relative_to(book.resolve()).with_suffix("")
        if rel == Path("chapters") / chapter.stem or page.exists():
            continue
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# Stub {rel.name}\n\nPlaceholder.\n")
        stubs.append(str(rel))
    lines = ["format: jb-book", "root: intro", "chapters:", f"  - file: chapters/{chapter.stem}"]
    lines += [f"  - file: {s}" for s in stubs]
    lines += ["  - file: references"]
    (book / "_toc.yml").write_text("\n".join(lines) + "\n")
    return book


def build(book: Path, ledger: Path | None = None) -> subprocess.CompletedProcess:
    """The strict build of the book (``--all -W -n --keep-going``)."""
    env = dict(os.environ)
    env["RIBBONLIB_LEDGER_DIR"] = str(ledger or (book / "_build" / "ledger"))
    jb = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jb), "build", str(book), "--all", "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, env=env, timeout=1800)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-audit", action="store_true")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.gettempdir()) / f"scratch-{args.chapter.stem}"
    book = make(args.chapter.resolve(), out)
    proc = build(book)
    if proc.returncode != 0:
        print(proc.stdout[-4000:] + proc.stderr[-4000:])
        print(f"build FAILED ({book})")
        return 1
    html = book / "_build" / "html"
    print(f"built {html / 'chapters' / (args.chapter.stem + '.html')}")
    if args.no_audit:
        return 0
    sys.path.insert(0, str(ROOT / "tools"))
    import page_audit

    return page_audit.main([str(html), f"chapters/{args.chapter.stem}.html"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
