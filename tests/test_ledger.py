"""The verification ledger (``_ext/ribbon_ledger.py``): its table builder fed with
ledger files written by ``ribbonlib.check`` itself, including a failing check, a
missing file and a damaged file; and a small Sphinx build proving that the ledger page
is read last, on every build, and that a failed record fails the build."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from pathlib import Path

import pytest

from nbrun import ROOT

sys.path.insert(0, str(ROOT / "_ext"))

import ribbon_ledger as L  # noqa: E402
from ribbonlib import check  # noqa: E402

CHAPTER_SRC = """\
```{{code-cell}} ipython3
from ribbonlib import check
check.set_chapter("{chapter}")
check.close("x", 1.0, 1.0, rtol=1e-12)
```
"""


@pytest.fixture
def ledger_dir(tmp_path, monkeypatch):
    folder = tmp_path / "ledger"
    monkeypatch.setenv(check.LEDGER_ENV, str(folder))
    yield folder
    check.clear()


def record_good(chapter: str) -> None:
    check.set_chapter(chapter)
    check.close("identity holds", [1.0, 2.0], [1.0, 2.0 + 4e-16], rtol=1e-12, method="brute force")
    check.close("absolute only", 1e-17, 0.0, rtol=0.0, atol=1e-15, method="exact zero")
    check.less_equal("bound holds", [1.0, 3.0], [2.0, 4.0], method="closed form")


def record_failing(chapter: str) -> None:
    check.set_chapter(chapter)
    check.close("good one", 1.0, 1.0, rtol=1e-12, method="trivial")
    with pytest.raises(check.CheckFailed):
        check.close("one equals two", 1.0, 2.0, rtol=1e-12, method="deliberately false")


def test_expected_chapters_reads_set_chapter() -> None:
    sources = {
        "chapters/a": CHAPTER_SRC.format(chapter="a_one"),
        "chapters/b": "```{code-cell} ipython3\nfrom ribbonlib import check\ncheck.close('y', 1, 1, rtol=0)\n```\n",
        "intro": "# Intro\n\nMentions check.close( in prose only.\n",
        "notebook": json.dumps({"cells": [{"cell_type": "code", "source": "check.set_chapter('nb')"}]}),
    }
    assert L.expected_chapters(sources) == {"chapters/a": "a_one", "chapters/b": None, "notebook": "nb"}


def test_ledger_filename_matches_ribbonlib(ledger_dir) -> None:
    for chapter in ("01_distributions", "odd name/with:chars", "ä-ü"):
        check.set_chapter(chapter)
        assert (ledger_dir / L.ledger_filename(chapter)).is_file()


def test_table_of_passed_checks(ledger_dir) -> None:
    record_good("01_a")
    record_good("02_b")
    ledger = L.load_ledger(ledger_dir, {"chapters/01_a": "01_a", "chapters/02_b": "02_b"})
    assert ledger.problems == []
    assert (ledger.total, ledger.passed, ledger.failed) == (6, 6, 0)
    rows = L.table_rows(ledger)
    assert len(rows) == 6 and all(len(r) == len(L.CHECK_COLUMNS) for r in rows)
    chapter, claim, kind, method, error, tol, status = rows[0]
    assert (chapter, claim, kind, method, status) == ("01_a", "identity holds", "floating point",
                                                      "brute force", "passed")
    e = 2.0 + 4e-16  # rounds to the float next to 2
    assert error == f"{(e - 2.0) / e:.2e} relative over 2 entries"
    assert tol == "rtol 1.0e-12"
    assert rows[1][4] == "1.00e-17 absolute" and rows[1][5] == "atol 1.0e-15"
    assert rows[2][4] == "value/bound 0.75 over 2 entries" and rows[2][5] == "value/bound <= 1"
    summary = L.summary_rows(ledger)
    # chapter, checks, certified, symbolic, high precision, floating point, statistical, failed
    assert summary[0] == ("01_a", "3", "0", "0", "0", "3", "0", "0")
    assert summary[-1] == ("total", "6", "0", "0", "0", "6", "0", "0")
    assert "6 checks recorded in 2 chapters: 6 passed, 0 failed." == ledger.totals_text()


def test_kinds_counted_and_false_alarm_added(ledger_dir) -> None:
    import mpmath
    import numpy as np
    import sympy as sp

    from ribbonlib import certify

    check.set_chapter("05_e")
    x = sp.symbols("x")
    check.symbolic("square", (x + 1) ** 2, x**2 + 2 * x + 1)
    check.certified_less_equal("proved", certify.Enclosure(np.array([1.0]), np.array([1.5])), 2.0)
    with mpmath.workdps(40):
        check.close("digits", mpmath.mpf(1) / 3, mpmath.mpf(1) / 3, rtol=1e-35)
    check.statistical("mc one", 1.0, 1.0, 0.1, alpha=1e-4)
    check.statistical("mc two", [1.0, 1.1], [1.0, 1.0], 0.1, alpha=2e-4)
    ledger = L.load_ledger(ledger_dir, {"chapters/05_e": "05_e"}, certified_chapters=("05_e",))
    assert ledger.problems == []
    assert L.summary_rows(ledger)[0] == ("05_e", "5", "1", "1", "1", "0", "2", "0")
    assert L.false_alarm_probability(ledger) == pytest.approx(3e-4)
    assert "probability at most 3.0e-04" in ledger.totals_text()
    rows = L.table_rows(ledger)
    assert rows[2][2].startswith("high precision (") and rows[0][4] == "exactly 0"
    assert rows[3][5].startswith("|z| <= ")


def test_uncertified_inequality_in_a_certified_chapter_is_a_problem(ledger_dir) -> None:
    check.set_chapter("04_d")
    check.less_equal("a float comparison", 1.0, 2.0)
    check.close("an equality is fine", 1.0, 1.0, rtol=0.0)
    ledger = L.load_ledger(ledger_dir, {"chapters/04_d": "04_d"}, certified_chapters=("04_d",))
    assert len(ledger.problems) == 1 and "must be certified" in ledger.problems[0]
    assert L.load_ledger(ledger_dir, {"chapters/04_d": "04_d"}).problems == []


def test_failing_check_is_a_problem(ledger_dir) -> None:
    record_good("01_a")
    record_failing("02_bad")
    ledger = L.load_ledger(ledger_dir, {"chapters/01_a": "01_a", "chapters/02_bad": "02_bad"})
    assert (ledger.total, ledger.passed, ledger.failed) == (5, 4, 1)
    assert len(ledger.problems) == 1
    assert "one equals two" in ledger.problems[0] and "FAILED" in ledger.problems[0]
    rows = L.table_rows(ledger)
    assert rows[-1][1] == "one equals two" and rows[-1][6] == "FAILED"
    assert rows[-1][4] == "5.00e-01 relative"
    assert L.summary_rows(ledger)[1][-1] == "1"
    assert "1 failed" in ledger.totals_text()


def test_rerun_of_a_chapter_replaces_its_records(ledger_dir) -> None:
    record_failing("01_a")
    record_good("01_a")  # set_chapter starts the file afresh
    ledger = L.load_ledger(ledger_dir, {"chapters/01_a": "01_a"})
    assert ledger.problems == [] and ledger.total == 3


def test_missing_file_and_missing_chapter_are_problems(ledger_dir) -> None:
    record_good("01_a")
    ledger = L.load_ledger(ledger_dir, {"chapters/01_a": "01_a", "chapters/03_c": "03_c", "chapters/04_d": None})
    assert ledger.total == 3
    assert len(ledger.problems) == 2
    assert "03_c" in ledger.problems[0] and "no ledger file" in ledger.problems[0]
    assert "set_chapter" in ledger.problems[1]
    assert L.load_ledger(None, {"chapters/01_a": "01_a"}).problems


def test_damaged_and_empty_files_are_problems(ledger_dir) -> None:
    record_good("01_a")
    with (ledger_dir / "01_a.jsonl").open("a") as fh:
        fh.write("{not json\n")
        fh.write(json.dumps({"name": "partial"}) + "\n")
    (ledger_dir / "02_b.jsonl").write_text("")
    ledger = L.load_ledger(ledger_dir, {"chapters/01_a": "01_a", "chapters/02_b": "02_b"})
    assert ledger.total == 3
    assert any("not a JSON line" in p for p in ledger.problems)
    assert any("lacks" in p for p in ledger.problems)
    assert any("is empty" in p for p in ledger.problems)


def test_nan_and_inf_are_printed(ledger_dir) -> None:
    check.set_chapter("01_a")
    check.less_equal("no positive bound", [-1.0], [0.0], method="m")
    with pytest.raises(check.CheckFailed):
        check.close("nan appears", math.nan, 1.0, rtol=1e-3)
    ledger = L.load_ledger(ledger_dir, {"chapters/01_a": "01_a"})
    rows = L.table_rows(ledger)
    assert rows[0][4] == "value/bound n/a" and rows[0][3] == "m"
    assert rows[1][4] == "n/a relative" and rows[1][3] == "not stated" and rows[1][6] == "FAILED"
    assert len(ledger.problems) == 1


# ------------------------------------------------------------- through Sphinx itself


def small_project(src: Path, chapters: dict[str, str]) -> None:
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / '_ext')!r})
        extensions = ["myst_parser", "ribbon_ledger"]
        project = "ledger test"
        exclude_patterns = ["_build"]
        """))
    names = "\n".join(sorted(chapters))
    (src / "index.md").write_text(f"# Index\n\n```{{toctree}}\n{names}\nledger\n```\n")
    for name, chapter in chapters.items():
        (src / f"{name}.md").write_text(f"# Chapter {name}\n\n" + CHAPTER_SRC.format(chapter=chapter))
    (src / "ledger.md").write_text(
        "# Ledger\n\n## Summary\n\n```{verification-ledger}\n:table: summary\n```\n\n"
        + "".join(f"## {c}\n\n```{{verification-ledger}}\n:chapter: {c}\n```\n\n"
                  for c in sorted(chapters.values()))
    )


def sphinx_build(src: Path, out: Path):
    from sphinx.application import Sphinx

    app = Sphinx(str(src), str(src), str(out / "html"), str(out / "doctrees"), "html",
                 status=None, warning=None, freshenv=False, warningiserror=False)
    order: list[str] = []
    app.connect("source-read", lambda _app, docname, _source: order.append(docname))
    app.build()
    return app, order


def test_sphinx_build_reads_ledger_last_and_fails_on_a_failed_check(tmp_path, ledger_dir) -> None:
    from sphinx.errors import SphinxError

    src = tmp_path / "src"
    src.mkdir()
    small_project(src, {"a_first": "01_a", "z_last": "02_b"})
    record_good("01_a")
    record_good("02_b")

    app, order = sphinx_build(src, tmp_path / "out")
    assert order[-1] == "ledger" and set(order) == {"index", "a_first", "z_last", "ledger"}
    html = (tmp_path / "out" / "html" / "ledger.html").read_text()
    assert "identity holds" in html and "6 checks recorded in 2 chapters" in html
    assert 'href="z_last.html"' in html  # chapter cells link to the chapter
    # each entry has its anchor and links to the cell that ran the check
    assert 'id="ledger-02_b-3"' in html and 'href="z_last.html#check-02_b-3"' in html
    assert "tightest slack ×1.33" in html  # bounds are shown by their slack

    # Nothing changed: the ledger page alone is read again.
    app, order = sphinx_build(src, tmp_path / "out")
    assert order == ["ledger"]

    # A failed record (as left by a failing execution) fails the build, naming the check.
    record_failing("02_b")
    with pytest.raises(SphinxError, match="one equals two"):
        sphinx_build(src, tmp_path / "out")

    # A chapter whose checks are not listed on the ledger page fails the build.
    record_good("02_b")
    text = (src / "ledger.md").read_text()
    (src / "ledger.md").write_text(text.replace("```{verification-ledger}\n:chapter: 02_b\n```", ""))
    with pytest.raises(SphinxError, match="no `verification-ledger` list"):
        sphinx_build(src, tmp_path / "out")
    (src / "ledger.md").write_text(text)

    # A chapter with checks but no ledger file fails the build too.
    record_good("02_b")
    (ledger_dir / "01_a.jsonl").unlink()
    with pytest.raises(SphinxError, match="no ledger file"):
        sphinx_build(src, tmp_path / "out")
