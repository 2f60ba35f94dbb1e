"""Sphinx extension: the indexes a reader and a lecturer need.

* ``results-index``: every definition, theorem, proposition, lemma and corollary of the
  book (``sphinx-proof`` directives), chapter by chapter, as "Proposition 2.1" (a link)
  followed by its title with the maths rendered.
* ``exercise-index``: every exercise, grouped by level, as "Exercise 2.1" (a link), its
  title and its chapter. The level is the last parenthesis of the exercise's title,
  one of :data:`LEVELS`; an exercise without one stops the build (a warning under ``-W``).

Both read the chapters' MyST sources (the directive line, its title and its ``:label:``),
so the titles are those the author wrote. The pure function :func:`scan` is unit-tested in
``tests/test_book_index.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The kinds of statement listed by ``results-index``, in the order of a chapter.
RESULT_KINDS = ("definition", "theorem", "proposition", "lemma", "corollary")
#: Exercise levels, from first reading to research.
LEVELS = ("basic", "intermediate", "advanced")

_DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>prf:\w+|exercise)\}[ \t]*(?P<title>[^\n]*)\n"
    r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)",
    re.M,
)
_LABEL = re.compile(r":label:[ \t]*(\S+)")
_LEVEL = re.compile(r"\((basic|intermediate|advanced)\)\s*$", re.I)


@dataclass(frozen=True)
class Entry:
    """One numbered statement or exercise of a chapter."""

    docname: str
    kind: str
    label: str
    title: str
    level: str = ""


def scan(docname: str, text: str) -> list[Entry]:
    """The results and exercises of one MyST source, in order.

    Parameters
    ----------
    docname : str
        The document (e.g. ``"chapters/02_gradient_descent"``).
    text : str
        Its source.

    Returns
    -------
    list of Entry
        Results of the kinds :data:`RESULT_KINDS` and exercises, each with its label;
        for exercises the level read from the title (``""`` when there is none) and the
        title without it.
    """
    out = []
    for m in _DIRECTIVE.finditer(text):
        name = m.group("name")
        label = _LABEL.search(m.group("options"))
        if label is None:
            continue
        title = m.group("title").strip()
        if name == "exercise":
            level = _LEVEL.search(title)
            lev = level.group(1).lower() if level else ""
            if level:
                title = title[: level.start()].rstrip(" —-:")
            out.append(Entry(docname, "exercise", label.group(1), title, lev))
        else:
            kind = name.split(":", 1)[1]
            if kind in RESULT_KINDS:
                out.append(Entry(docname, kind, label.group(1), title))
    return out


def _title_nodes(text: str) -> list:
    from docutils import nodes

    out = []
    parts = text.split("$")
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            out.append(nodes.math(part, part))
        elif part:
            out.append(nodes.Text(part if i % 2 == 0 else "$" + part))
    return out


def setup(app) -> dict[str, Any]:
    """Register the two index directives."""
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    logger = logging.getLogger(__name__)

    def chapters(env) -> list[tuple[str, list[Entry]]]:
        found = []
        for doc in sorted(env.found_docs):
            if not doc.startswith("chapters/"):
                continue
            path = Path(env.doc2path(doc))
            if path.suffix == ".md" and path.is_file():
                found.append((doc, scan(doc, path.read_text(encoding="utf-8"))))
        return found

    def chapter_title(env, doc: str) -> str:
        title = env.titles.get(doc)
        return title.astext() if title is not None else doc

    class ResultsIndex(SphinxDirective):
        has_content = False

        def run(self):
            out = []
            for doc, entries in chapters(self.env):
                results = [e for e in entries if e.kind != "exercise"]
                if not results:
                    continue
                self.env.note_dependency(self.env.doc2path(doc))
                out.append(nodes.rubric(text=chapter_title(self.env, doc)))
                items = nodes.bullet_list(classes=["book-index"])
                for e in results:
                    para = nodes.paragraph()
                    para += addnodes.pending_xref(
                        "", nodes.inline(text=e.label), refdomain="prf", reftype="ref",
                        reftarget=e.label, refexplicit=False, refwarn=True, refdoc=self.env.docname)
                    if e.title:
                        para += nodes.Text(": ")
                        for node in _title_nodes(e.title):
                            para += node
                    items += nodes.list_item("", para)
                out.append(items)
            return out

    class ExerciseIndex(SphinxDirective):
        has_content = False

        def run(self):
            by_level: dict[str, list[Entry]] = {lev: [] for lev in LEVELS}
            for doc, entries in chapters(self.env):
                self.env.note_dependency(self.env.doc2path(doc))
                for e in entries:
                    if e.kind != "exercise":
                        continue
                    if e.level not in by_level:
                        logger.warning(
                            f"exercise {e.label!r} of {doc} has no level: end its title with one of "
                            + ", ".join(f"({lev})" for lev in LEVELS), location=self.get_location())
                        continue
                    by_level[e.level].append(e)
            out = []
            for lev in LEVELS:
                out.append(nodes.rubric(text=f"{lev.capitalize()} ({len(by_level[lev])})"))
                items = nodes.bullet_list(classes=["book-index"])
                for e in by_level[lev]:
                    para = nodes.paragraph()
                    para += addnodes.pending_xref(
                        "", nodes.inline(text="Exercise %s"), refdomain="std", reftype="numref",
                        reftarget=e.label, refexplicit=True, refwarn=True, refdoc=self.env.docname)
                    if e.title:
                        para += nodes.Text(": ")
                        for node in _title_nodes(e.title):
                            para += node
                    para += nodes.Text(f" ({chapter_title(self.env, e.docname)})")
                    items += nodes.list_item("", para)
                out.append(items)
            return out

    app.add_directive("results-index", ResultsIndex)
    app.add_directive("exercise-index", ExerciseIndex)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
