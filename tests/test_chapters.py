"""One test per chapter: execute the text notebook from scratch; any failing cell
(an error, or a ribbonlib.check that does not hold) fails the test with the cell and
its traceback in the message.

Environment: ``RIBBONLIB_LEDGER_DIR`` (set by the Makefile) receives the recorded check
outcomes; ``RIBBONLIB_PRIME_CACHE`` (set by ``make test``) names the book's execution
cache, into which each freshly executed chapter is stored for the build that follows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nbrun import ROOT, chapters_from_toc, execute_chapter

CHAPTERS = chapters_from_toc()


def test_toc_lists_chapters() -> None:
    assert CHAPTERS, "no executable chapter found in _toc.yml"


@pytest.mark.chapter
@pytest.mark.parametrize("path", CHAPTERS, ids=[str(p.relative_to(ROOT)) for p in CHAPTERS])
def test_chapter_executes(path, tmp_path) -> None:
    ledger = os.environ.get("RIBBONLIB_LEDGER_DIR") or str(tmp_path / "ledger")
    cache = os.environ.get("RIBBONLIB_PRIME_CACHE")
    execute_chapter(path, ledger_dir=Path(ledger), cache_dir=Path(cache) if cache else None)
