"""Every chapter as a Jupyter notebook: executed, for students and for instructors.

Usage::

    python tools/notebooks.py [--root .] [--build _build]

Reads each chapter of the table of contents (a MyST text notebook with code cells under
``chapters/``), takes its executed copy from the book's execution cache
(``_build/.jupyter_cache``, filled by ``make test`` or ``make book``; a chapter whose
source changed since it was executed is an error) and the numbers of its equations,
theorems, figures and exercises from its built page (``_build/html``), and writes

* ``_build/html/chapters/<chapter>.ipynb``: the chapter as an executed notebook, next to
  its page (the page's download button links it);
* ``_build/notebooks/instructor/<chapter>.ipynb``: the same notebook, solutions included;
* ``_build/notebooks/student/<chapter>.ipynb``: the same without the exercise solutions;
* ``_build/notebooks/solutions/<chapter>-solutions.ipynb``: the chapter's exercises,
  each followed by its solution;
* ``_build/html/notebooks/ribbon-book-{student,instructor}.zip``: the two sets (the
  instructor's with the solution files), for download from the built book.

Each notebook is readable in plain Jupyter or Colab: MyST directives and roles become
Markdown (numbered as in the book: "Exercise 2.3", "(4.7)", "Fig. 5.2"), computed numbers
(``{glue:text}``) are written in from the executed outputs, and citations and
cross-chapter links point to the book online. Its first cell installs what the chapter
needs on a bare kernel (``ribbonlib`` with the ``notebook`` extra) from the repository,
at this edition's commit, or from a local checkout named by ``RIBBON_BOOK_SOURCE``; it
does nothing where ``ribbonlib`` is already importable.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from nbformat.validator import MissingIDFieldWarning

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

import publish  # noqa: E402  (the edition: version and commit)

#: The two sets of chapter notebooks.
KINDS = ("student", "instructor")


# -- the chapters and their sources --------------------------------------------------------


def chapters(root: Path) -> list[Path]:
    """The chapters offered as notebooks, in the order of ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key) or [])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    out = []
    for name in files:
        path = root / (name if name.endswith(".md") else name + ".md")
        if (name.startswith(publish.NOTEBOOK_FOLDER) and path.exists()
                and "{code-cell}" in path.read_text(encoding="utf-8")):
            out.append(path)
    return out


def site_url(root: Path) -> str:
    """The book's address on GitHub Pages, from the repository named in ``_config.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    repo = (config.get("repository") or {}).get("url", "")
    m = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", repo)
    return f"https://{m.group(1).lower()}.github.io/{m.group(2)}/" if m else ""


def repo_url(root: Path) -> str:
    config = yaml.safe_load((root / "_config.yml").read_text())
    return ((config.get("repository") or {}).get("url", "") or "").rstrip("/")


def executed(chapter: Path, cache_dir: Path) -> nbformat.NotebookNode:
    """The chapter with the outputs of its executed copy in the execution cache."""
    import jupytext
    from jupyter_cache import get_cache
    from jupyter_cache.base import CachingError

    nb = jupytext.read(chapter)
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)  # ids are set on writing
    try:
        _, merged = get_cache(str(cache_dir)).merge_match_into_notebook(nb)
    except (CachingError, KeyError) as exc:
        raise SystemExit(
            f"{chapter.name}: no executed copy of its current source in {cache_dir} ({exc}); "
            "run `make book` (or `make test`) first") from None
    return merged


# -- numbers and names from the built page -------------------------------------------------


@dataclass
class Numbers:
    """What the built page calls each label: "(2.3)", "Exercise 2.1", "Fig. 2.4", ..."""

    eq: dict[str, str] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)  # figure, table, theorem, exercise
    titles: dict[str, str] = field(default_factory=dict)  # sections: number and title


def numbers_from_page(page: Path) -> Numbers:
    from bs4 import BeautifulSoup

    out = Numbers()
    if not page.exists():
        return out
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for eqno in soup.select("span.eqno"):
        link = eqno.find("a", href=True)
        if link and link["href"].startswith("#equation-"):
            out.eq[link["href"][len("#equation-"):]] = eqno.get_text("", strip=True).rstrip("#").strip()
    for el in soup.find_all(id=True):
        cap = el.find("span", class_="caption-number")
        if cap is None or el.name == "span":
            continue
        # the caption must belong to this element, not to a nested one
        owner = cap.find_parent(id=True)
        if owner is el:
            out.named[el["id"]] = cap.get_text(strip=True)
    for sec in soup.find_all("section", id=True):
        head = sec.find(re.compile(r"^h[1-6]$"))
        if head is not None:
            for a in head.find_all("a", class_="headerlink"):
                a.decompose()
            out.titles[sec["id"]] = head.get_text(" ", strip=True)
    return out


# -- citations -----------------------------------------------------------------------------


def citation_labels(bib: Path) -> dict[str, str]:
    """``key -> "Mao et al., 2026"`` for every entry of the bibliography."""
    try:
        from pybtex.database import parse_file
    except ImportError:  # pragma: no cover - pybtex comes with the book's environment
        return {}
    labels = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        if not names:
            who = entry.fields.get("title", key)
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        labels[key] = f"{who}, {entry.fields.get('year', 'n.d.')}"
    return labels


# -- MyST to Jupyter Markdown --------------------------------------------------------------

_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*)$")
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
_DISPLAY_MATH = re.compile(r"^\$\$[ \t]*\n(?P<body>.*?)\n\$\$[ \t]*(?:\((?P<label>[^)\s]+)\))?[ \t]*$", re.M | re.S)
PROOF_KINDS = {"theorem", "proposition", "lemma", "definition", "corollary", "remark", "example",
               "conjecture", "algorithm", "criterion", "assumption", "axiom", "observation",
               "property", "condition", "notation"}


@dataclass
class Block:
    """A MyST directive: ``name``, argument, options, body, and the text around it."""

    name: str
    arg: str
    options: dict
    body: str


@dataclass
class Converter:
    """Rewrites the MyST of one chapter as Markdown that Jupyter renders."""

    numbers: Numbers
    glue: dict
    cites: dict[str, str]
    site: str
    chapter_doc: str  # e.g. "chapters/02_gradient_descent"
    solutions: list[tuple[str, str]] = field(default_factory=list)  # (exercise md, solution md)
    exercises: dict[str, str] = field(default_factory=dict)  # label -> exercise md

    # roles ------------------------------------------------------------------------------

    def page_url(self, doc: str) -> str:
        return f"{self.site}{doc}.html" if self.site else f"{doc}.html"

    def glue_text(self, spec: str, kind: str) -> str:
        key, _, fmt = spec.partition(":")
        out = self.glue.get(key.strip())
        if out is None:
            return f"`{spec}`"
        data = out.get("data", {})
        if kind == "md" and "text/markdown" in data:
            return "".join(data["text/markdown"]).strip()
        if kind == "math" and "text/latex" in data:
            return "".join(data["text/latex"]).strip()
        text = "".join(data.get("text/plain", "")).strip()
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if fmt and isinstance(value, (int, float)):
            try:
                return format(value, fmt)
            except ValueError:
                pass
        return str(value)

    def role(self, m: re.Match) -> str:
        role, text = m.group("role"), m.group("text")
        shown, target = text, text
        explicit = re.match(r"^(?P<shown>.*?)\s*<(?P<target>[^<>]+)>$", text, re.S)
        if explicit:
            shown, target = explicit.group("shown"), explicit.group("target")
        if role == "eq":
            return self.numbers.eq.get(target, f"({target})")
        if role in ("numref", "prf:ref"):
            number = self.numbers.named.get(target)
            if number is None:
                return shown if explicit else f"`{target}`"
            if explicit:
                # {numref}`Figure %s <label>`: the number goes where %s is
                num = number.split()[-1]
                return shown.replace("%s", num).replace("{number}", num)
            return number
        if role == "ref":
            return shown if explicit else self.numbers.titles.get(target, target)
        if role == "doc":
            doc = _resolve_doc(self.chapter_doc, target)
            return f"[{shown if explicit else _doc_title(doc)}]({self.page_url(doc)})"
        if role == "cite":
            keys = [k.strip() for k in target.split(",") if k.strip()]
            refs = "; ".join(self.cites.get(k, k) for k in keys)
            return f"[{refs}]({self.page_url('references')})"
        if role in ("glue:text", "glue"):
            return self.glue_text(target, "text")
        if role == "glue:md":
            return self.glue_text(target, "md")
        if role == "glue:math":
            return f"${self.glue_text(target, 'math')}$"
        if role in ("func", "mod", "class", "meth", "data", "attr", "py:func", "py:mod", "py:class"):
            name = target.lstrip("~")
            if target.startswith("~"):
                name = name.split(".")[-1]
            return f"`{name}{'()' if role.endswith('func') or role.endswith('meth') else ''}`"
        if role in ("math",):
            return f"${text}$"
        return shown

    def inline(self, text: str) -> str:
        text = _ROLE.sub(self.role, text)
        return text

    # blocks -----------------------------------------------------------------------------

    def math(self, m: re.Match) -> str:
        body, label = m.group("body"), m.group("label")
        number = self.numbers.eq.get(label, "") if label else ""
        if number and "\\begin{align" not in body and "\\tag" not in body:
            body = f"{body}\n\\tag{{{number.strip('()')}}}"
        return f"$$\n{body}\n$$"

    def directive(self, b: Block, kind: str) -> str:
        body = self.convert(b.body, kind)
        label = b.options.get("label") or b.options.get("name") or ""
        if b.name == "exercise":
            number = self.numbers.named.get(label, "Exercise")
            text = f"**{number}** ({self.inline(b.arg)})." if b.arg else f"**{number}.**"
            md = f"{text}\n\n{body}".strip()
            self.exercises[label] = md
            return md
        if b.name == "solution":
            target = b.arg.strip()
            number = self.numbers.named.get(target, "the exercise").replace("Exercise ", "")
            md = f"**Solution to Exercise {number}.**\n\n{body}".strip()
            self.solutions.append((self.exercises.get(target, ""), md))
            return md if kind != "student" else ""
        if b.name.startswith("prf:"):
            what = b.name[4:]
            if what == "proof":
                return f"*Proof.* {body} $\\square$".strip()
            number = self.numbers.named.get(label, what.capitalize())
            title = f" ({self.inline(b.arg)})" if b.arg else ""
            return f"**{number}**{title}. {body}".strip()
        if b.name == "list-table":
            return self.list_table(b, body)
        if b.name in ("glue:", "glue:figure", "glue"):
            return self.glued_block(b.arg.strip())
        if b.name in ("note", "warning", "tip", "important", "admonition", "seealso", "hint",
                      "caution", "attention", "danger", "error"):
            title = self.inline(b.arg) if b.name == "admonition" else b.name.capitalize()
            return "\n".join("> " + line if line else ">" for line in f"**{title}.** {body}".splitlines())
        if b.name in ("math",):
            return f"$$\n{b.body.strip()}\n$$"
        # anything else: its body, as Markdown
        return body

    def list_table(self, b: Block, body: str) -> str:
        rows: list[list[str]] = []
        for line in b.body.splitlines():
            if re.match(r"^\*\s+-\s", line):
                rows.append([line.split("-", 1)[1].strip()])
            elif re.match(r"^\s+-\s", line) and rows:
                rows[-1].append(line.strip()[1:].strip())
            elif line.strip() and rows:
                rows[-1][-1] += " " + line.strip()
        if not rows:
            return body
        width = max(len(r) for r in rows)
        rows = [[self.inline(c) for c in r] + [""] * (width - len(r)) for r in rows]
        label = b.options.get("name", "")
        caption = self.inline(b.arg)
        number = self.numbers.named.get(label, "")
        out = [f"**{number}** {caption}".strip(), "", "| " + " | ".join(rows[0]) + " |",
               "|" + "---|" * width]
        out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(out)

    def glued_block(self, key: str) -> str:
        out = self.glue.get(key)
        if out is None:
            return f"*(computed output `{key}`)*"
        data = out.get("data", {})
        if "text/markdown" in data:
            return "".join(data["text/markdown"])
        if "text/html" in data:
            return "".join(data["text/html"])
        if "text/latex" in data:
            return "".join(data["text/latex"])
        if "image/png" in data:
            return f"![{key}](data:image/png;base64,{''.join(data['image/png']).strip()})"
        return "```\n" + "".join(data.get("text/plain", "")) + "\n```"

    def convert(self, text: str, kind: str) -> str:
        """The Markdown of ``text`` (a Markdown cell or a directive's body)."""
        lines = text.splitlines()
        out: list[str] = []
        i = 0
        while i < len(lines):
            m = _FENCE.match(lines[i])
            if not m:
                out.append(lines[i])
                i += 1
                continue
            fence, name, arg = m.group("fence"), m.group("name"), m.group("arg")
            j = i + 1
            depth = 1
            while j < len(lines):
                inner = _FENCE.match(lines[j])
                if inner and inner.group("fence") == fence:
                    depth += 1
                elif lines[j].strip() == fence:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            block = lines[i + 1:j]
            options: dict = {}
            if block and block[0].strip() == "---":
                end = block.index("---", 1)
                options = yaml.safe_load("\n".join(block[1:end])) or {}
                block = block[end + 1:]
            else:
                while block and re.match(r"^:[\w-]+:", block[0]):
                    key, _, value = block[0][1:].partition(":")
                    options[key] = value.strip()
                    block = block[1:]
            out.append(self.directive(Block(name, arg, options, "\n".join(block).strip("\n")), kind))
            i = j + 1
        md = "\n".join(out)
        md = _DISPLAY_MATH.sub(self.math, md)
        # labels such as "(sec-x)=" and MyST comments are not Markdown
        md = re.sub(r"^\([\w:-]+\)=[ \t]*$\n?", "", md, flags=re.M)
        md = re.sub(r"^%.*$\n?", "", md, flags=re.M)
        return self.inline(md).strip("\n")


def _resolve_doc(current: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = current.split("/")[:-1] + target.split("/")
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        elif p and p != ".":
            out.append(p)
    return "/".join(out)


def _doc_title(doc: str) -> str:
    path = ROOT / f"{doc}.md"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return doc.split("/")[-1]


# -- the notebooks -------------------------------------------------------------------------


def install_cell(edition: dict[str, str], repo: str) -> nbformat.NotebookNode:
    ref = edition["commit"] if edition["commit"] != "unknown" else f"v{edition['version']}"
    source = f"""\
# Installs what this chapter needs on a bare Jupyter or Colab kernel: ribbonlib (the
# book's library) with its notebook extra, from the repository at the commit this
# notebook was made from. To install from a local checkout instead, set the
# environment variable RIBBON_BOOK_SOURCE to its folder before starting the kernel.
# Nothing is installed where ribbonlib is already importable (the book's environment).
import importlib.util
import os
import subprocess
import sys

RIBBON_BOOK_SOURCE = os.environ.get(
    "RIBBON_BOOK_SOURCE", "git+{repo}@{ref}"
)
if importlib.util.find_spec("ribbonlib") is None:
    if os.path.isdir(RIBBON_BOOK_SOURCE):
        requirement = os.path.abspath(RIBBON_BOOK_SOURCE) + "[notebook]"
        pins = os.path.join(RIBBON_BOOK_SOURCE, "constraints.txt")
        extra = ["-c", pins] if os.path.exists(pins) else []
    else:
        requirement, extra = "ribbonlib[notebook] @ " + RIBBON_BOOK_SOURCE, []
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", requirement, *extra],
        check=True,
    )
    importlib.invalidate_caches()
"""
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["ribbon-install"]
    return cell


def chapter_notebooks(chapter: Path, root: Path, build: Path, edition: dict[str, str],
                      cites: dict[str, str]) -> dict[str, nbformat.NotebookNode]:
    """``{"instructor": ..., "student": ..., "solutions": ...}`` for one chapter."""
    doc = chapter.relative_to(root).with_suffix("").as_posix()
    nb = executed(chapter, build / ".jupyter_cache")
    numbers = numbers_from_page(build / "html" / f"{doc}.html")
    glue: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            book = out.get("metadata", {}).get("scrapbook", {})
            if book.get("name"):
                prefix = book.get("mime_prefix", "")
                glue[book["name"]] = {"data": {k[len(prefix):] if k.startswith(prefix) else k: v
                                               for k, v in out.get("data", {}).items()}}
    site = site_url(root)
    result = {}
    solutions: list[tuple[str, str]] = []
    for kind in KINDS:
        conv = Converter(numbers, glue, cites, site, doc)
        cells = [install_cell(edition, repo_url(root))]
        title = ""
        for cell in nb.cells:
            cell = copy.deepcopy(cell)
            cell.pop("id", None)
            if cell.cell_type == "markdown":
                if not title:
                    title = next((ln[2:] for ln in cell.source.splitlines() if ln.startswith("# ")), "")
                cell.source = conv.convert(cell.source, kind)
                if cell.source.strip():
                    cells.append(cell)
                continue
            if cell.cell_type != "code":
                continue
            meta = cell.metadata
            tags = list(meta.get("tags", []))
            figure = (meta.get("mystnb") or {}).get("figure") or {}
            # JupyterLab and Notebook 7 fold the source of the cells the book folds
            if "hide-input" in tags or "hide-cell" in tags:
                meta.setdefault("jupyter", {})["source_hidden"] = True
            if "remove-cell" in tags:
                continue
            cells.append(cell)
            if figure.get("caption"):
                label = figure.get("name", "")
                number = numbers.named.get(label, "Figure")
                cells.append(nbformat.v4.new_markdown_cell(
                    f"**{number}.** {conv.convert(str(figure['caption']), kind)}"))
        if kind == "instructor":
            solutions = conv.solutions
        note = nbformat.v4.new_markdown_cell(
            f"*{title}*: a chapter of [Hyper-ribbons from linear models]({site}) "
            f"(ribbon-book {edition['version']}, commit {edition['commit']}), "
            f"{'without the solutions of its exercises' if kind == 'student' else 'with the solutions of its exercises'}. "
            f"Run the first cell once on a new kernel; the outputs are those of the book's build.")
        cells.insert(1, note)
        out_nb = nbformat.v4.new_notebook(cells=cells)
        out_nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "ribbon_book": {"chapter": doc, "edition": kind, **edition},
        }
        if "widgets" in nb.metadata:
            out_nb.metadata["widgets"] = nb.metadata["widgets"]
        result[kind] = out_nb
    sol_cells = [nbformat.v4.new_markdown_cell(
        f"# Solutions: {title}\n\nThe exercises of the chapter *{title}* of "
        f"[Hyper-ribbons from linear models]({site}) (ribbon-book {edition['version']}, "
        f"commit {edition['commit']}), each followed by its solution.")]
    for exercise, solution in solutions:
        sol_cells.append(nbformat.v4.new_markdown_cell(f"{exercise}\n\n---\n\n{solution}".strip()))
    sol = nbformat.v4.new_notebook(cells=sol_cells)
    sol.metadata = {"ribbon_book": {"chapter": doc, "edition": "solutions", **edition}}
    result["solutions"] = sol
    return result


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{path.stem[:24]}-{i:03d}"
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb), encoding="utf-8")


def execute(path: Path, kernel: str, cwd: Path, timeout: int = 1800) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` from its first cell in the kernel named ``kernel``.

    Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name=kernel, allow_errors=False,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--build", type=Path, default=None, help="the build folder (default: ROOT/_build)")
    parser.add_argument("--execute", type=Path, metavar="NOTEBOOK",
                        help="instead: execute this notebook (in --kernel, from --cwd) and write it to --output")
    parser.add_argument("--kernel", default="python3")
    parser.add_argument("--cwd", type=Path, default=Path.cwd())
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.execute:
        nb = execute(args.execute, args.kernel, args.cwd)
        if args.output:
            args.output.write_text(nbformat.writes(nb), encoding="utf-8")
        return 0
    root = args.root.resolve()
    build = (args.build or root / "_build").resolve()
    if not (build / "html").is_dir():
        raise SystemExit(f"no built book in {build / 'html'}: run `make book` first")
    edition = publish.edition(root)
    cites = citation_labels(root / "references.bib")
    out = build / "notebooks"
    zips = {kind: zipfile.ZipFile(_zip_path(build, kind), "w", zipfile.ZIP_DEFLATED) for kind in KINDS}
    try:
        for chapter in chapters(root):
            doc = chapter.relative_to(root).with_suffix("")
            nbs = chapter_notebooks(chapter, root, build, edition, cites)
            write(nbs["instructor"], build / "html" / doc.with_suffix(".ipynb"))
            for kind in KINDS:
                path = out / kind / f"{chapter.stem}.ipynb"
                write(nbs[kind], path)
                zips[kind].write(path, f"ribbon-book-{kind}/{path.name}")
            sol = out / "solutions" / f"{chapter.stem}-solutions.ipynb"
            write(nbs["solutions"], sol)
            zips["instructor"].write(sol, f"ribbon-book-instructor/solutions/{sol.name}")
            print(f"{doc}: executed, student and instructor notebooks, "
                  f"{len(nbs['solutions'].cells) - 1} solutions")
    finally:
        for z in zips.values():
            z.close()
    print(f"Notebooks written to {out} and next to the chapters in {build / 'html'}")
    return 0


def _zip_path(build: Path, kind: str) -> Path:
    path = build / "html" / "notebooks" / f"ribbon-book-{kind}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
