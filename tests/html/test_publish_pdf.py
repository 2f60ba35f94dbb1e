"""The whole book as one PDF (``make pdf``: ``tools/build_pdf.py``), read back with
poppler's ``pdfinfo``, ``pdftotext`` and ``pdffonts`` (Debian's ``poppler-utils``, which
``make pdf`` installs when missing): a plausible page count, the title page with the
edition, every chapter title, the numbers of the HTML book's figures, tables,
theorems, exercises and equations, the solutions collected at the end of each chapter,
no ``??`` or MyST left unresolved, no TeX left as text outside code, no character
without a glyph, every font embedded; and every page of the HTML links the PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402
import publish  # noqa: E402

RAW_TEX = re.compile(r"\$|\\[A-Za-z]{2,}|\\[()\[\]]|\\begin\{")
UNRESOLVED = re.compile(r"\?\?|\{(eq|numref|ref|doc|cite|prf:ref|glue:text|glue)\}`")


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: `make pdf` installs Debian's poppler-utils")
    return path


@pytest.fixture(scope="module")
def pdf(html_dir: Path) -> Path:
    path = html_dir.parent / "pdf" / publish.PDF_NAME
    if not path.is_file():
        pytest.fail(f"no PDF at {path}: `make pdf` builds it (make test does)")
    return path


@cache
def _text(path: Path) -> str:
    out = subprocess.run([poppler("pdftotext"), "-enc", "UTF-8", str(path), "-"],
                         capture_output=True, text=True, check=True)
    return out.stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


FOOTER = re.compile(r'ribbon-book (\S+), commit <code>(\w+)</code>')


def built_edition(html_dir: Path) -> tuple[str, str]:
    """Version and commit named by the built book (the commit may be behind HEAD when
    someone committed since the build)."""
    m = FOOTER.search((html_dir / "intro.html").read_text(encoding="utf-8"))
    assert m, "the first page's footer names no edition"
    version, commit = m.groups()
    assert version == publish.book_version(ROOT)
    if commit != "unknown":
        known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                               capture_output=True)
        assert known.returncode == 0, f"the book names commit {commit}, which this repository does not have"
    else:
        assert publish.book_commit(ROOT) == "unknown"
    return version, commit


def test_pdf_is_served_with_the_html(pdf: Path, html_dir: Path) -> None:
    copy = html_dir / publish.PDF_NAME
    assert copy.is_file() and copy.read_bytes() == pdf.read_bytes(), (
        f"{copy} is not the built PDF: every page's download button links it")


def test_page_count_is_plausible(pdf: Path) -> None:
    info = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    n = len(notebooks.chapters(ROOT))
    assert 15 * n <= pages <= 1500, f"{pages} pages for {n} chapters"
    assert "A4" in info or re.search(r"Page size:\s+595\.\d* x 841\.\d*", info), info


def test_title_page_names_the_edition(pdf: Path) -> None:
    first = subprocess.run([poppler("pdftotext"), "-f", "1", "-l", "1", "-enc", "UTF-8", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    version, commit = built_edition(pdf.parent.parent / "html")
    assert f"Version {version}" in first, first
    assert f"commit {commit}" in flat(first), first


def chapter_titles() -> list[str]:
    titles = []
    for path in notebooks.chapters(ROOT):
        line = next(ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("# "))
        titles.append(line[2:].strip())
    return titles


def test_every_chapter_title_is_there(pdf: Path) -> None:
    text = flat(_text(pdf))
    missing = [t for t in chapter_titles() if flat(t) not in text]
    assert not missing, f"chapter titles missing from the PDF: {missing}"


def html_numbers(html_dir: Path) -> set[str]:
    """What the HTML book numbers: "Fig. 3.2", "Proposition 2.1", "Exercise 1.3", "(4.7)"."""
    found: set[str] = set()
    for chapter in notebooks.chapters(ROOT):
        page = html_dir / chapter.relative_to(ROOT).with_suffix(".html")
        nums = notebooks.numbers_from_page(page)
        found |= {v for v in nums.named.values() if re.search(r"\d", v)}
        found |= {v for v in nums.eq.values() if re.search(r"\d", v)}
    return found


def test_numbers_are_those_of_the_html(pdf: Path, html_dir: Path) -> None:
    numbers = html_numbers(html_dir)
    assert len(numbers) > 50, f"too few numbered items in the HTML book: {sorted(numbers)[:20]}"
    assert any(n.startswith("Exercise") for n in numbers) and any(n.startswith("(") for n in numbers)
    text = flat(_text(pdf))
    missing = sorted(n for n in numbers if n not in text)
    assert not missing, f"{len(missing)} numbers of the HTML book are not in the PDF: {missing[:30]}"


def test_solutions_are_collected_at_the_end_of_each_chapter(pdf: Path) -> None:
    text = flat(_text(pdf))
    log = (pdf.with_suffix(".log")).read_text(encoding="utf-8")
    n_solutions = sum(len(re.findall(r"^(`{3,}|:{3,})\{solution\}", c.read_text(encoding="utf-8"), re.M))
                      for c in notebooks.chapters(ROOT))
    assert f"solutions collected: {n_solutions}" in log, log
    positions = []
    for number, title in enumerate(chapter_titles(), start=1):
        head = text.find(f"Solutions to the exercises of chapter {number}")
        assert head >= 0, f"no collected solutions for chapter {number}"
        positions.append(head)
    assert positions == sorted(positions)


def test_nothing_unresolved(pdf: Path) -> None:
    bad = [ln for ln in _text(pdf).splitlines() if UNRESOLVED.search(ln)]
    assert not bad, f"unresolved references in the PDF: {bad[:10]}"


def test_no_tex_left_as_text(pdf: Path) -> None:
    """TeX and `$` are allowed in code and outputs, nowhere else: every word of the PDF's
    text that looks like TeX must be a word (or, broken across lines, part of a word) of
    the code and outputs of the printed page (their text is written next to the PDF)."""
    code = (pdf.with_suffix(".code.txt")).read_text(encoding="utf-8")
    code_words = set(code.split())
    bad = []
    for line in _text(pdf).splitlines():
        # a word of code may be broken across lines of the page: then it is part of a word
        words = [w for w in line.split()
                 if RAW_TEX.search(w) and w not in code_words and w not in code]
        if words:
            bad.append(f"{flat(line)}   <- {words}")
    assert not bad, f"{len(bad)} lines of the PDF show TeX or $ outside code:\n" + "\n".join(bad[:15])


def test_rendering_log_is_clean(pdf: Path) -> None:
    log = (pdf.with_suffix(".log")).read_text(encoding="utf-8")
    assert "mathjax errors: 0" in log and "math not typeset: 0" in log, log
    assert "images not loaded: 0" in log, log
    missing = [ln for ln in log.splitlines() if ln.startswith("missing glyph")]
    assert not missing, "characters that no installed font can draw:\n" + "\n".join(missing)


def test_fonts_are_embedded(pdf: Path) -> None:
    out = subprocess.run([poppler("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, "no fonts in the PDF"
    not_embedded = [r for r in rows if r.split()[-5:-4] != ["yes"]]
    assert not not_embedded, "fonts not embedded:\n" + "\n".join(not_embedded)


def test_every_page_links_the_pdf(html_dir: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import check_links

    pages = check_links.pages_of(html_dir)
    without = []
    for page in pages:
        head = page.read_text(encoding="utf-8", errors="replace")
        if 'http-equiv="Refresh"' in head[:3000] or 'http-equiv="refresh"' in head[:3000]:
            continue
        rel = Path(*([".."] * (len(page.relative_to(html_dir).parts) - 1)), publish.PDF_NAME).as_posix()
        if f'href="{rel}"' not in head:
            without.append(str(page.relative_to(html_dir)))
    assert not without, f"pages that do not link the PDF: {without[:10]}"


def test_every_page_names_its_edition(html_dir: Path) -> None:
    """The footer of every page gives the version and the commit the book was built from."""
    sys.path.insert(0, str(ROOT / "tools"))
    import check_links

    version, commit = built_edition(html_dir)
    expected = f'ribbon-book {version}, commit <code>{commit}</code>'
    without = [str(p.relative_to(html_dir)) for p in check_links.pages_of(html_dir)
               if 'http-equiv="refresh"' not in p.read_text(encoding="utf-8")[:3000].lower()
               and expected not in p.read_text(encoding="utf-8")]
    assert not without, f"pages whose footer does not name {expected!r}: {without[:10]}"
    ledger = (html_dir / "ledger.html").read_text(encoding="utf-8")
    assert f"Edition: ribbon-book {version}, commit {commit}" in ledger
