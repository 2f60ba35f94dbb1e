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
import base64
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


_REF = re.compile(r"\{(eq|prf:ref|numref|ref)\}`(?:[^`<]*<)?([^`<>]+)>?`")
_DEFINED = re.compile(
    r":(?:label|name):[ \t]*(\S+)|^[ \t]+(?:label|name):[ \t]*(\S+)|^\(([^)\s]+)\)="
    r"|\$\$[ \t]*\(([^)\s]+)\)", re.M)
_PRF_KINDS = {"prop": "proposition", "thm": "theorem", "lem": "lemma", "def": "definition",
              "cor": "corollary"}
# a 1x1 transparent PNG, for stand-ins of figures of other chapters
_PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def stub_labels(text: str) -> str:
    """MyST source defining every label ``text`` refers to but does not define.

    References into other chapters (equations, theorems, figures, exercises, tables,
    sections) would otherwise fail the strict build of a one-chapter book.
    """
    defined = {g for m in _DEFINED.finditer(text) for g in m.groups() if g}
    parts = []
    for role, label in sorted(set(_REF.findall(text)), key=lambda x: x[1]):
        if label in defined:
            continue
        defined.add(label)
        prefix = label.split("-", 1)[0]
        if role == "eq":
            parts.append(f"$$\n0\n$$ ({label})\n")
        elif role == "prf:ref":
            kind = _PRF_KINDS.get(prefix, "proposition")
            parts.append(f"```{{prf:{kind}}} Stand-in\n:label: {label}\n\nPlaceholder.\n```\n")
        elif prefix == "fig":
            parts.append(f"```{{figure}} stub_pixel.png\n:name: {label}\n:alt: stand-in figure\n\n"
                         "Stand-in.\n```\n")
        elif prefix in ("ex", "exc"):
            parts.append(f"```{{exercise}} Stand-in (basic)\n:label: {label}\n\nPlaceholder.\n```\n")
        elif prefix == "tab":
            parts.append(f"```{{list-table}} Stand-in\n:name: {label}\n\n* - a\n```\n")
        else:
            parts.append(f"({label})=\n## Stand-in {label}\n")
    return "\n".join(parts)


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
    labels = stub_labels(text)
    if labels:
        (book / "stub_labels.md").write_text("# Stand-ins for other chapters' labels\n\n" + labels)
        (book / "stub_pixel.png").write_bytes(_PIXEL)
        stubs.append("stub_labels")
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
