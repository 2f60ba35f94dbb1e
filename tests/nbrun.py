"""Execute a MyST text notebook (a chapter) with nbclient and report failures clearly.

When asked to, an executed chapter is also stored in the book's execution cache
(jupyter-cache, the store myst-nb reads in ``execute_notebooks: cache`` mode). ``make
test`` uses this so that each chapter is executed once per run, by its test, and the
strict book build that follows renders exactly those fresh outputs instead of executing
every chapter a second time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
INLINE = "module://matplotlib_inline.backend_inline"


class ChapterFailed(AssertionError):
    """A cell of a chapter raised."""


def chapters_from_toc(root: Path = ROOT) -> list[Path]:
    """All executable pages listed in ``_toc.yml`` (files with code cells), in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    pages = []
    for name in files:
        path = root / (name if name.endswith((".md", ".ipynb")) else name + ".md")
        if path.suffix == ".md" and "{code-cell}" in path.read_text(encoding="utf-8"):
            pages.append(path)
    return pages


def _prime_cache(nb: nbformat.NotebookNode, path: Path, cache_dir: Path, seconds: float) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from sqlalchemy.exc import OperationalError

    for attempt in range(20):  # two test workers may write the sqlite store at once
        try:
            get_cache(str(cache_dir)).cache_notebook_bundle(
                CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            return
        except OperationalError:
            time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"could not store {path.name} in the execution cache {cache_dir}")


def execute_chapter(
    path: Path,
    timeout: int = 900,
    ledger_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> nbformat.NotebookNode:
    """Execute every cell of ``path`` from scratch, as the book build does.

    Raises :class:`ChapterFailed` naming the failing cell and its traceback. On success,
    stores the executed notebook in ``cache_dir`` (a jupyter-cache folder) if given.
    """
    nb = jupytext.read(path)
    env_backup = dict(os.environ)
    os.environ["MPLBACKEND"] = INLINE  # as in a Jupyter kernel: figures are captured
    if ledger_dir is not None:
        os.environ["RIBBONLIB_LEDGER_DIR"] = str(ledger_dir)
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            allow_errors=False,
            record_timing=False,  # keeps the notebook's hash equal to the build's
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    except CellExecutionError as exc:
        raise ChapterFailed(f"{path.name} failed:\n{exc}") from None
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    if cache_dir is not None:
        _prime_cache(nb, path, cache_dir, seconds)
    return nb
