"""The edition of the book on every page, and its downloads.

* :func:`book_version` is the one version of the book and of ``ribbonlib``
  (``ribbonlib.__version__``, read from the source without importing it);
  :func:`book_commit` the short commit the build is made from (``unknown`` outside git).
* Every page's footer says "ribbon-book <version>, commit <commit>" and links the
  citation (``CITATION.cff``, copied into the build).
* The theme's download button offers, on a chapter, the chapter's executed notebook
  (``<page>.ipynb`` next to the page, written by ``tools/notebooks.py``) and, on every
  page, the whole book as one PDF (``ribbon-book.pdf`` at the root of the build, written
  by ``tools/build_pdf.py``), instead of the browser's "print this page".
* The ``book-edition`` directive writes one sentence naming the edition (used at the top
  of the verification ledger); pages that use it are re-read on every build.
"""

from __future__ import annotations

import ast
import datetime as _dt
import html
import shutil
import subprocess
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

#: Where the whole-book PDF is served from, relative to the root of the HTML build.
PDF_NAME = "ribbon-book.pdf"
#: The citation file, copied to the root of the HTML build.
CITATION = "CITATION.cff"
#: Chapters offered as notebooks: pages under this folder that have code cells.
NOTEBOOK_FOLDER = "chapters/"


def book_version(root: Path) -> str:
    """``ribbonlib.__version__``, read from ``root/ribbonlib/__init__.py``.

    A book without the package beside it (a scratch book of one chapter) takes the
    version of the ``ribbonlib`` it imports.
    """
    source = Path(root) / "ribbonlib" / "__init__.py"
    if not source.exists():
        import ribbonlib

        return str(ribbonlib.__version__)
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise ValueError(f"{root}/ribbonlib/__init__.py sets no __version__")


def book_commit(root: Path) -> str:
    """The short hash of the commit checked out in ``root``; ``unknown`` outside git."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else "unknown"


def edition(root: Path) -> dict[str, str]:
    """Version, commit and build date of the book in ``root``."""
    return {"version": book_version(root), "commit": book_commit(root),
            "date": _dt.date.today().isoformat()}


def edition_sentence(ed: dict[str, str]) -> str:
    return (f"Edition: ribbon-book {ed['version']}, commit {ed['commit']}, "
            f"built on {ed['date']}.")


def is_notebook_page(app, pagename: str) -> bool:
    """A chapter with code cells: it is offered as an executed notebook."""
    if not pagename.startswith(NOTEBOOK_FOLDER) or pagename not in app.env.all_docs:
        return False
    path = Path(app.env.doc2path(pagename))
    return path.suffix == ".md" and "{code-cell}" in path.read_text(encoding="utf-8")


class BookEdition(SphinxDirective):
    """``{book-edition}``: one paragraph naming the version and commit of this build."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        ed = self.env.app.config.ribbon_edition or edition(Path(self.env.srcdir))
        self.env.ribbon_edition_docs = getattr(self.env, "ribbon_edition_docs", set()) | {self.env.docname}
        para = nodes.paragraph(classes=["ribbon-edition"])
        para += nodes.Text(edition_sentence(ed))
        return [para]


def _on_config_inited(app, config) -> None:
    if not config.ribbon_edition:
        config.ribbon_edition = edition(Path(app.srcdir))


def _on_outdated(app, env, added, changed, removed) -> list[str]:
    return sorted(d for d in getattr(env, "ribbon_edition_docs", set()) if d in env.all_docs)


def _on_purge(app, env, docname) -> None:
    docs = getattr(env, "ribbon_edition_docs", None)
    if docs:
        docs.discard(docname)


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    ed = app.config.ribbon_edition
    pathto = context["pathto"]
    cite = pathto(CITATION, 1)
    footer = (f'<p class="ribbon-edition">ribbon-book {html.escape(ed["version"])}, commit '
              f'<code>{html.escape(ed["commit"])}</code> · <a href="{cite}">cite this book</a> · '
              f'<a href="{pathto(PDF_NAME, 1)}">the whole book as PDF</a></p>')
    context["theme_extra_footer"] = (context.get("theme_extra_footer") or "") + footer
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        # the theme's ".ipynb" is the notebook without outputs, its ".pdf" prints one page
        buttons = [b for b in group["buttons"]
                   if b.get("label") not in ("download-pdf-button", "download-notebook-button")]
        if is_notebook_page(app, pagename):
            buttons.insert(0, {
                "type": "link", "url": pathto(pagename + ".ipynb", 1), "text": ".ipynb",
                "tooltip": "Download this chapter as an executed notebook",
                "icon": "fas fa-code", "label": "download-notebook-button"})
        buttons.append({
            "type": "link", "url": pathto(PDF_NAME, 1), "text": ".pdf",
            "tooltip": "Download the whole book as one PDF",
            "icon": "fas fa-file-pdf", "label": "download-pdf-button"})
        group["buttons"] = buttons


def _on_builder_inited(app) -> None:
    """The one-page HTML build (printed to PDF by ``tools/build_pdf.py``) renders every node
    as the HTML build does: Sphinx looks up a node's HTML visitors by builder name, and
    some extensions (myst-nb's folded code cells) register theirs for ``html`` only."""
    if app.builder.name == "singlehtml":
        handlers = app.registry.translation_handlers
        single = handlers.setdefault("singlehtml", {})
        for node, visitors in handlers.get("html", {}).items():
            single.setdefault(node, visitors)


def _on_build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        source = Path(app.srcdir) / CITATION
        if source.exists():
            shutil.copy(source, Path(app.outdir) / CITATION)


def setup(app) -> dict[str, Any]:
    app.add_config_value("ribbon_edition", None, "", types=[dict])
    app.add_directive("book-edition", BookEdition)
    app.connect("config-inited", _on_config_inited)
    app.connect("env-get-outdated", _on_outdated)
    app.connect("env-purge-doc", _on_purge)
    # after the theme has made its header buttons (priority 501)
    app.connect("html-page-context", _on_page_context, priority=600)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _on_build_finished)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
