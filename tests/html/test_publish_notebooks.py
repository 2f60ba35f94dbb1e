"""The chapters as notebooks (``tools/notebooks.py``, run by ``make notebooks`` after the
build): one executed notebook next to each chapter's page, student notebooks without the
exercise solutions, instructor notebooks with them, a solutions file per chapter; and
every notebook executes in a fresh virtual environment that holds only a Jupyter kernel
and what the notebook's first cell installs (from this checkout instead of the network).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(ROOT / "tools"))
import notebooks as NB  # noqa: E402

CHAPTERS = NB.chapters(ROOT)
SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}[^\n]*\n(?P<body>.*?)^\1[ \t]*$", re.M | re.S)


def build_dir(html_dir: Path) -> Path:
    return html_dir.parent


def read(path: Path) -> nbformat.NotebookNode:
    assert path.is_file(), f"{path} is missing: `make notebooks` writes it"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def text_of(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells)


ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")


def solution_lines(chapter: Path) -> list[str]:
    """The longest stretch of text from each solution of the chapter's source that the
    conversion to Jupyter Markdown leaves as it is (between roles; math is kept as is)."""
    out = []
    for m in SOLUTION.finditer(chapter.read_text(encoding="utf-8")):
        pieces = []
        in_math = False
        for line in m.group("body").splitlines():
            if line.strip().startswith("$$"):
                in_math = not in_math
                continue
            if in_math or re.match(r"^\s*(:[\w-]+:|```|:::)", line):
                continue
            pieces += [p.strip() for p in ROLE.split(line)]
        pieces = [p for p in pieces if len(p) >= 20]
        assert pieces, f"{chapter.name}: a solution with no text to look for:\n{m.group(0)[:300]}"
        out.append(max(pieces, key=len))
    return out


def test_chapters_are_offered_as_notebooks() -> None:
    assert len(CHAPTERS) >= 8, [c.name for c in CHAPTERS]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_notebooks_of_a_chapter(chapter: Path, html_dir: Path) -> None:
    doc = chapter.relative_to(ROOT).with_suffix("")
    build = build_dir(html_dir)
    executed = read(html_dir / doc.with_suffix(".ipynb"))
    instructor = read(build / "notebooks" / "instructor" / f"{chapter.stem}.ipynb")
    student = read(build / "notebooks" / "student" / f"{chapter.stem}.ipynb")
    solutions = read(build / "notebooks" / "solutions" / f"{chapter.stem}-solutions.ipynb")
    # the page's download button links the executed notebook next to it
    page = (html_dir / doc.with_suffix(".html")).read_text(encoding="utf-8")
    assert f'href="{chapter.stem}.ipynb"' in page, "the download button does not offer the notebook"
    for nb in (executed, instructor, student):
        first = nb.cells[0]
        assert first.cell_type == "code" and "RIBBON_BOOK_SOURCE" in first.source
        assert "pip" in first.source and "[notebook]" in first.source
        assert nb.metadata["ribbon_book"]["version"] == NB.publish.book_version(ROOT)
        # executed: the outputs of the book's build are there
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
        text = text_of(nb)
        # MyST that Jupyter does not render has been rewritten
        for leftover in ("{glue:text}", "{eq}`", "{numref}`", "{prf:ref}`", "{cite}`", "```{exercise}",
                         "```{solution}", "```{prf:"):
            assert leftover not in text, f"{leftover} left in a notebook of {chapter.name}"
    assert text_of(executed) == text_of(instructor)
    # the same code in both sets: executing the student notebook executes the instructor's
    code = [[c.source for c in nb.cells if c.cell_type == "code"] for nb in (student, instructor)]
    assert code[0] == code[1]
    expected = solution_lines(chapter)
    n = len(expected)
    assert text_of(instructor).count("**Solution to Exercise") == n
    assert text_of(student).count("**Solution to Exercise") == 0
    assert len(solutions.cells) - 1 == n
    for line in expected:
        assert line in text_of(instructor), f"solution text missing from the instructor notebook: {line!r}"
        assert line in text_of(solutions), f"solution text missing from the solutions file: {line!r}"
        assert line not in text_of(student), f"solution text in the student notebook: {line!r}"
        assert all(line not in "".join(map(str, c.get("outputs", []))) for c in student.cells)


def test_notebook_archives(html_dir: Path) -> None:
    for kind in NB.KINDS:
        with zipfile.ZipFile(html_dir / "notebooks" / f"ribbon-book-{kind}.zip") as z:
            names = z.namelist()
        for chapter in CHAPTERS:
            assert f"ribbon-book-{kind}/{chapter.stem}.ipynb" in names
        if kind == "instructor":
            assert all(f"ribbon-book-instructor/solutions/{c.stem}-solutions.ipynb" in names for c in CHAPTERS)
        else:
            assert not any("solutions" in n for n in names)


def _checkout(tmp: Path) -> Path:
    """What a notebook installs from: the package, its metadata and the pins."""
    dest = tmp / "checkout"
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt", "LICENSE", "LICENSE-TEXT"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "ribbonlib", dest / "ribbonlib", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_notebooks_execute_in_a_fresh_environment(html_dir: Path, tmp_path: Path) -> None:
    """A bare kernel (a new virtual environment with ipykernel only) runs every student
    notebook from its first cell, which installs ribbonlib[notebook] from a copy of this
    checkout; the first notebook runs alone (it installs), the others two at a time."""
    build = build_dir(html_dir)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "RIBBONLIB_LEDGER_DIR", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                    "ipykernel"], check=True, env=env)
    jupyter = tmp_path / "jupyter"
    subprocess.run([str(py), "-m", "ipykernel", "install", "--prefix", str(jupyter), "--name", "ribbon-fresh"],
                   check=True, env=env, capture_output=True)
    env["JUPYTER_PATH"] = str(jupyter / "share" / "jupyter")
    env["RIBBON_BOOK_SOURCE"] = str(_checkout(tmp_path))
    work = tmp_path / "work"  # not the repository: ribbonlib must come from the install
    work.mkdir()
    notebooks = [build / "notebooks" / "student" / f"{c.stem}.ipynb" for c in CHAPTERS]

    def run(path: Path) -> tuple[str, int, str]:
        out = tmp_path / f"{path.stem}.out.ipynb"
        proc = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "notebooks.py"), "--execute", str(path),
             "--kernel", "ribbon-fresh", "--cwd", str(work), "--output", str(out)],
            env=env, capture_output=True, text=True, timeout=3600)
        return path.name, proc.returncode, (proc.stdout + proc.stderr)[-4000:]

    results = [run(notebooks[0])]
    jobs = max(1, min(2, os.cpu_count() or 1))
    with ThreadPoolExecutor(jobs) as pool:
        results += list(pool.map(run, notebooks[1:]))
    failed = [f"{name} (exit {rc}):\n{log}" for name, rc, log in results if rc != 0]
    assert not failed, "notebooks that fail in a fresh environment:\n" + "\n\n".join(failed)
    listed = subprocess.run([str(py), "-m", "pip", "list", "--format=freeze"], env=env,
                            capture_output=True, text=True, check=True).stdout
    assert re.search(r"^ribbonlib==", listed, re.M), "the first cell did not install ribbonlib"
    executed = nbformat.read(tmp_path / f"{notebooks[0].stem}.out.ipynb", as_version=4)
    glued = [o for c in executed.cells for o in c.get("outputs", [])
             if "scrapbook" in o.get("metadata", {})]
    assert glued, "no glue output in the executed notebook: myst_nb.glue did not run"
