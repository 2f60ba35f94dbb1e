"""Execute a MyST text notebook (a chapter) with nbclient and report failures clearly."""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


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


def execute_chapter(path: Path, timeout: int = 900, ledger_dir: Path | None = None) -> None:
    """Execute every cell of ``path``; raise :class:`ChapterFailed` naming the failing cell."""
    nb = jupytext.read(path)
    env_backup = dict(os.environ)
    os.environ["MPLBACKEND"] = "Agg"
    if ledger_dir is not None:
        os.environ["RIBBONLIB_LEDGER_DIR"] = str(ledger_dir)
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            allow_errors=False,
        )
        client.execute()
    except CellExecutionError as exc:
        raise ChapterFailed(f"{path.relative_to(path.parents[1])} failed:\n{exc}") from None
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
