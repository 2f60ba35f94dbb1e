"""One test per chapter: execute the text notebook from scratch; any failing cell
(an error, or a ribbonlib.check that does not hold) fails the test with the cell and
its traceback in the message."""

from __future__ import annotations

import pytest

from nbrun import ROOT, chapters_from_toc, execute_chapter

CHAPTERS = chapters_from_toc()


def test_toc_lists_chapters() -> None:
    assert CHAPTERS, "no executable chapter found in _toc.yml"


@pytest.mark.chapter
@pytest.mark.parametrize("path", CHAPTERS, ids=[str(p.relative_to(ROOT)) for p in CHAPTERS])
def test_chapter_executes(path, tmp_path) -> None:
    execute_chapter(path, ledger_dir=tmp_path / "ledger")
