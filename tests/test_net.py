"""The net can catch: a false claim added to a chapter must fail both the chapter test
and the strict book build, and the failure must name the check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbrun import ROOT, ChapterFailed, execute_chapter

sys.path.insert(0, str(ROOT / "tools"))
import scratch_book as scratch  # noqa: E402

CHAPTER = ROOT / "chapters" / "01_distributions.md"
FALSE_CLAIM = "net test: one equals two"
BROKEN_CELL = f"""
```{{code-cell}} ipython3
check.close("{FALSE_CLAIM}", 1.0, 2.0, rtol=1e-12, method="deliberately false")
```
"""


def scratch_book(tmp: Path) -> Path:
    """A one-chapter book: the project's configuration, the chapter plus a false claim,
    and stub pages for the documents the chapter links to."""
    return scratch.make(CHAPTER, tmp, extra=BROKEN_CELL)


@pytest.mark.slow
def test_false_claim_fails_chapter_test_and_book_build(tmp_path):
    book = scratch_book(tmp_path)
    broken = book / "chapters" / CHAPTER.name

    with pytest.raises(ChapterFailed) as info:
        execute_chapter(broken, ledger_dir=tmp_path / "ledger")
    assert "CheckFailed" in str(info.value) and FALSE_CLAIM in str(info.value)

    env = dict(os.environ, RIBBONLIB_LEDGER_DIR=str(tmp_path / "ledger-build"))
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(book), "--all", "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=env, timeout=900,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, "the book build passed although a check failed"
    assert FALSE_CLAIM in log, f"the build failure does not name the check:\n{log[-3000:]}"
    assert "CheckFailed" in log
