"""Sphinx extension: the book's verification ledger.

While a chapter executes, every :func:`ribbonlib.check.close` and
:func:`ribbonlib.check.less_equal` appends one JSON line to
``$RIBBONLIB_LEDGER_DIR/<chapter>.jsonl`` (``check.set_chapter`` empties that file when
the chapter starts). With ``execute_notebooks: cache`` a chapter whose code did not
change is not executed again, so its file from the last execution stays valid.

This extension

* makes the page that holds the ledger (``ledger_docname``, default ``"ledger"``) be
  read on every build, and *last*, after every chapter has executed
  (``env-get-outdated`` and ``env-before-read-docs``);
* sets ``RIBBONLIB_LEDGER_DIR`` to ``<build dir>/ledger`` when it is not set, before any
  chapter executes, so that a bare ``jupyter-book build`` records outcomes too;
* provides the ``verification-ledger`` directive, which renders a summary table of the
  chapters (``:table: summary``) or the list of one chapter's checks (``:chapter: ID``):
  each claim with its maths rendered and the equations and theorems it cites linked, its
  kind, method and measure (bounds by their slack), an anchor ``ledger-<chapter>-<n>``
  and a link to the cell that ran it (``check-<chapter>-<n>``, set by ``ribbonlib.check``);
* fails the build, with an error naming the cause, when a recorded check failed, when
  a chapter that runs checks left no ledger file, when a ledger file is unreadable, when a
  chapter required to certify has an uncertified inequality, or when a chapter's checks
  are not listed on the ledger page.

The pure functions (:func:`expected_chapters`, :func:`load_ledger`, :func:`table_rows`,
:func:`summary_rows`) need no Sphinx and are unit-tested in ``tests/test_ledger.py``.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEDGER_ENV = "RIBBONLIB_LEDGER_DIR"

#: Columns of the table with one row per check.
CHECK_COLUMNS = ("Chapter", "Claim", "Kind", "Method", "Measured error", "Tolerance", "Status")
#: Columns of the summary table.
SUMMARY_COLUMNS = ("Chapter", "Checks", "Certified", "Symbolic", "High precision", "Floating point",
                   "Statistical", "Failed")
#: The kinds of evidence (as in ``ribbonlib.check.KINDS``).
KINDS = ("certified", "symbolic", "high precision", "floating point", "statistical")

_SET_CHAPTER = re.compile(r"""set_chapter\(\s*(?:chapter\s*=\s*)?["']([^"']+)["']\s*\)""")


class LedgerError(Exception):
    """The ledger cannot certify the book (a failed or missing check record)."""


# --------------------------------------------------------------------- pure helpers


def ledger_filename(chapter: str) -> str:
    """File name that :mod:`ribbonlib.check` uses for ``chapter`` (same sanitising)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in chapter) or "unnamed"
    return f"{safe}.jsonl"


def expected_chapters(sources: dict[str, str]) -> dict[str, str | None]:
    """Which documents run checks, and under which chapter identifier.

    Parameters
    ----------
    sources : dict
        ``docname -> source text`` of the pages of the book.

    Returns
    -------
    dict
        ``docname -> chapter`` for every page that declares a chapter with
        ``check.set_chapter("...")`` or calls a check; the chapter is ``None`` when the
        page checks without declaring its chapter (its outcomes are not recorded).
    """
    found: dict[str, str | None] = {}
    for docname in sorted(sources):
        text = sources[docname]
        if "{code-cell}" not in text and '"cell_type": "code"' not in text:
            continue  # only executed pages record outcomes
        match = _SET_CHAPTER.search(text)
        if match:
            found[docname] = match.group(1)
        elif re.search(r"\bcheck\.(?:close|less_equal)\(", text):
            found[docname] = None
    return found


@dataclass
class Ledger:
    """The recorded outcomes of the chapters of a book.

    Attributes
    ----------
    records : list of dict
        One dict per check (the fields of ``ribbonlib.check.Outcome``) plus
        ``docname``, in chapter order and, within a chapter, in execution order.
    chapters : list of tuple
        ``(docname, chapter, n_checks, n_passed, worst)`` per chapter, where ``worst`` is
        the largest fraction of its tolerance that a check used (``nan`` if none is defined).
    problems : list of str
        Everything that stops the ledger from certifying the book.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    chapters: list[tuple[str, str, int, int, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Number of recorded checks."""
        return len(self.records)

    @property
    def passed(self) -> int:
        """Number of recorded checks that held."""
        return sum(bool(r.get("passed")) for r in self.records)

    @property
    def failed(self) -> int:
        """Number of recorded checks that did not hold."""
        return self.total - self.passed

    def totals_text(self) -> str:
        """One sentence with the totals."""
        n_ch = len(self.chapters)
        text = (
            f"{self.total} checks recorded in {n_ch} chapter{'s' if n_ch != 1 else ''}: "
            f"{self.passed} passed, {self.failed} failed."
        )
        n_stat = sum(r["kind"] == "statistical" for r in self.records)
        if n_stat:
            text += (f" The {n_stat} statistical checks would fail by chance with probability at most "
                     f"{false_alarm_probability(self):.1e} in all (union bound).")
        if self.problems:
            text += f" {len(self.problems)} problem(s) stop this ledger from certifying the book."
        return text


_FIELDS = ("name", "chapter", "kind", "comparison", "method", "error", "tolerance", "atol", "worst",
           "size", "passed", "index")


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    records, problems = [], []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: not a JSON line ({exc.msg})")
            continue
        missing = [f for f in _FIELDS if f not in rec] if isinstance(rec, dict) else list(_FIELDS)
        if missing:
            problems.append(f"{path}:{lineno}: record lacks {', '.join(missing)}")
            continue
        records.append(rec)
    return records, problems


def _ratio(rec: dict[str, Any]) -> float:
    """Fraction of its tolerance a check used (1 = only just passed; nan if undefined).

    ``close``: the recorded ``worst``, ``max |a - e| / (atol + rtol |e|)``.
    ``less_equal``: the largest ``value / bound``. ``z-score``: ``max |z|`` / limit.
    """
    key = "worst" if rec.get("comparison") in ("close", "z-score") else "error"
    try:
        return float(rec[key])
    except (TypeError, ValueError, KeyError):
        return math.nan


def load_ledger(ledger_dir: str | os.PathLike[str] | None, expected: dict[str, str | None],
                certified_chapters: tuple[str, ...] | list[str] = ()) -> Ledger:
    """Read the ledger files of the expected chapters.

    Parameters
    ----------
    ledger_dir : path or None
        The folder ``RIBBONLIB_LEDGER_DIR``.
    expected : dict
        ``docname -> chapter`` from :func:`expected_chapters`.
    certified_chapters : sequence of str, optional
        Chapters whose inequality checks must all be certified (rigorous enclosures).

    Returns
    -------
    Ledger
        Records in order of ``docname``; ``problems`` lists every failed check, every
        missing or unreadable file, every page that checks without a chapter, every
        record of an unknown kind and every uncertified inequality of a chapter in
        ``certified_chapters``.
    """
    ledger = Ledger()
    folder = Path(ledger_dir) if ledger_dir else None
    if folder is None:
        if expected:
            ledger.problems.append(f"{LEDGER_ENV} is not set: no check outcome was recorded")
        return ledger
    for docname in sorted(expected):
        chapter = expected[docname]
        if chapter is None:
            ledger.problems.append(
                f"{docname}: runs checks but never calls check.set_chapter(...), so its "
                "outcomes are not recorded"
            )
            continue
        path = folder / ledger_filename(chapter)
        if not path.is_file():
            ledger.problems.append(
                f"{docname}: chapter {chapter!r} runs checks but left no ledger file {path} "
                "(the chapter was executed, or taken from the execution cache, without recording "
                "into this folder: `make clean && make book` executes every chapter afresh)"
            )
            continue
        records, problems = _read_jsonl(path)
        ledger.problems.extend(problems)
        if not records and not problems:
            ledger.problems.append(f"{docname}: ledger file {path} is empty although the chapter runs checks")
        n_ok = 0
        worst = math.nan
        for rec in records:
            rec = dict(rec, docname=docname)
            ledger.records.append(rec)
            if rec["kind"] not in KINDS:
                ledger.problems.append(f"{docname}: check {rec['name']!r} has an unknown kind {rec['kind']!r}")
            if (chapter in certified_chapters and rec["comparison"] == "less_equal"
                    and rec["kind"] != "certified"):
                ledger.problems.append(
                    f"{docname}: inequality {rec['name']!r} is checked in {rec['kind']}, but every "
                    "inequality of this chapter must be certified (check.certified_less_equal)")
            if rec["passed"]:
                n_ok += 1
            else:
                ledger.problems.append(
                    f"{docname}: check FAILED: {rec['name']!r} "
                    f"({format_error(rec)}; tolerance {format_tolerance(rec)})"
                )
            r = _ratio(rec)
            if not math.isnan(r) and (math.isnan(worst) or r > worst):
                worst = r
        ledger.chapters.append((docname, chapter, len(records), n_ok, worst))
    return ledger


def _num(x: Any, fmt: str) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return format(v, fmt)


def format_error(rec: dict[str, Any]) -> str:
    """The measured error of one record, in words."""
    n = int(rec.get("size", 1) or 1)
    over = f" over {n} entries" if n > 1 else ""
    if rec["comparison"] == "identity":
        return f"exactly 0{over}"
    if rec["comparison"] == "z-score":
        return f"largest |z| {_num(rec['error'], '.2f')}{over}"
    if rec["comparison"] == "close":
        rtol, atol = float(rec["tolerance"]), float(rec.get("atol", 0.0) or 0.0)
        if rtol == 0 and atol > 0:  # a purely absolute tolerance: show the absolute error
            return f"{_num(float(rec['worst']) * atol, '.2e')} absolute{over}"
        return f"{_num(rec['error'], '.2e')} relative{over}"
    return f"value/bound {_num(rec['error'], '.3g')}{over}"


def format_tolerance(rec: dict[str, Any]) -> str:
    """The tolerance of one record, in words."""
    if rec["comparison"] == "identity":
        return "exact"
    if rec["comparison"] == "z-score":
        return f"|z| <= {_num(rec['tolerance'], '.2f')} (false alarm {_num(rec.get('alpha', 0), '.0e')})"
    if rec["comparison"] == "close":
        parts = []
        if float(rec["tolerance"]) > 0 or not float(rec.get("atol", 0.0) or 0.0) > 0:
            parts.append(f"rtol {_num(rec['tolerance'], '.1e')}")
        if float(rec.get("atol", 0.0) or 0.0) > 0:
            parts.append(f"atol {_num(rec['atol'], '.1e')}")
        return ", ".join(parts)
    return "value/bound <= 1"


def sci(x: Any, digits: int = 2) -> str:
    """A number typeset for prose (``ribbonlib.typeset.sci``): ``7×10²``, ``1.2×10⁻⁸``."""
    from ribbonlib.typeset import sci as _sci

    try:
        return _sci(float(x), digits)
    except (TypeError, ValueError):
        return str(x)


def measure_text(rec: dict[str, Any]) -> str:
    """What a check measured, against what it allows (``ribbonlib.check.measure_text``)."""
    from ribbonlib.check import measure_text as _measure

    return _measure(rec)


def _kind_text(rec: dict[str, Any]) -> str:
    digits = int(rec.get("digits", 0) or 0)
    if rec["kind"] == "high precision" and digits:
        return f"high precision ({digits} digits)"
    return str(rec["kind"])


def table_rows(ledger: Ledger) -> list[tuple[str, str, str, str, str, str, str]]:
    """Rows of the per-check table: chapter, claim, kind, method, error, tolerance, status."""
    return [
        (
            r["chapter"],
            r["name"],
            _kind_text(r),
            r["method"] or "not stated",
            format_error(r),
            format_tolerance(r),
            "passed" if r["passed"] else "FAILED",
        )
        for r in ledger.records
    ]


def ledger_anchor(chapter: str, index: int, where: str = "ledger") -> str:
    """HTML id of a check: its ledger row (``where="ledger"``) or its cell (``"check"``);
    the same as ``ribbonlib.check.anchor``."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in chapter)
    return f"{where}-{safe}-{index}"


def chapter_records(ledger: Ledger, chapter: str) -> list[dict[str, Any]]:
    """The records of one chapter, in execution order."""
    return [r for r in ledger.records if r["chapter"] == chapter]


def kind_summary(records: list[dict[str, Any]]) -> str:
    """``"12 certified · 3 symbolic"``: the checks of each kind, strongest first."""
    parts = [f"{n} {k}" for k in KINDS if (n := sum(r["kind"] == k for r in records))]
    return " · ".join(parts) if parts else "none"


_TOKEN = re.compile(r"\$[^$]+\$|\b(?:eq|prop|thm|lem|cor|def|ex|exc|fig|sec)-[A-Za-z0-9-]+\b")


def claim_pieces(name: str) -> list[tuple[str, str]]:
    """Split a claim into ``("text", s)``, ``("math", tex)`` and ``("label", label)`` pieces."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _TOKEN.finditer(name):
        if m.start() > pos:
            out.append(("text", name[pos:m.start()]))
        tok = m.group(0)
        out.append(("math", tok[1:-1]) if tok.startswith("$") else ("label", tok))
        pos = m.end()
    if pos < len(name):
        out.append(("text", name[pos:]))
    # an equation reference renders with its own parentheses, "(1.4)": drop the author's
    for i, (kind, value) in enumerate(out):
        if kind != "label" or not value.startswith("eq-") or not 0 < i < len(out) - 1:
            continue
        (k0, before), (k1, after) = out[i - 1], out[i + 1]
        if k0 == "text" and k1 == "text" and before.endswith("(") and after.startswith(")"):
            out[i - 1] = ("text", before[:-1])
            out[i + 1] = ("text", after[1:])
    return [(k, v) for k, v in out if not (k == "text" and v == "")]


def _kind_counts(records: list[dict[str, Any]]) -> list[str]:
    return [str(sum(r["kind"] == k for r in records)) for k in KINDS]


def summary_rows(ledger: Ledger) -> list[tuple[str, ...]]:
    """Rows of the summary table (checks of each kind per chapter), then a totals row."""
    rows = []
    for _doc, chapter, n, n_ok, _worst in ledger.chapters:
        recs = [r for r in ledger.records if r["chapter"] == chapter]
        rows.append((chapter, str(n), *_kind_counts(recs), str(n - n_ok)))
    rows.append(("total", str(ledger.total), *_kind_counts(ledger.records), str(ledger.failed)))
    return rows


def false_alarm_probability(ledger: Ledger) -> float:
    """Union bound on the probability that some statistical check of the book fails by chance."""
    return float(sum(float(r.get("alpha", 0.0) or 0.0) for r in ledger.records if r["kind"] == "statistical"))


# --------------------------------------------------------------------- Sphinx part


def _sphinx_setup(app):  # noqa: C901 - all Sphinx glue in one place
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx import addnodes
    from sphinx.errors import SphinxError
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    logger = logging.getLogger(__name__)

    class LedgerBuildError(SphinxError):
        category = "Verification ledger"

    def ledger_dir(app_) -> str | None:
        return os.environ.get(LEDGER_ENV) or None

    def on_config_inited(app_, config) -> None:
        if not os.environ.get(LEDGER_ENV):
            # Before any chapter executes: kernels inherit this environment.
            folder = Path(app_.outdir).parent / "ledger"
            os.environ[LEDGER_ENV] = str(folder)
            logger.info(f"[ledger] {LEDGER_ENV} not set; recording check outcomes in {folder}")

    def on_outdated(app_, env, added, changed, removed):
        name = app_.config.ledger_docname
        if name in env.found_docs and name not in added and name not in changed:
            return [name]  # the ledger is read on every build
        return []

    def on_before_read(app_, env, docnames: list[str]) -> None:
        name = app_.config.ledger_docname
        if name in docnames:
            docnames.remove(name)
            docnames.append(name)  # after every chapter has executed

    def current_ledger(env) -> Ledger:
        cached = env.temp_data.get("ribbon_ledger")
        if cached is None:
            sources = {}
            for doc in sorted(env.found_docs):
                if doc == env.config.ledger_docname:
                    continue
                path = Path(env.doc2path(doc))
                if path.suffix in (".md", ".ipynb") and path.is_file():
                    sources[doc] = path.read_text(encoding="utf-8")
            cached = load_ledger(ledger_dir(None), expected_chapters(sources),
                                 tuple(env.config.ledger_certified_chapters))
            env.temp_data["ribbon_ledger"] = cached
        return cached

    def claim_nodes(env, name: str) -> list:
        """Text, inline math and links to the labels (equations, theorems) a claim cites."""
        out = []
        math_objects = env.get_domain("math").data.get("objects", {})
        prf = env.domains.get("prf") if hasattr(env, "domains") else None
        prf_labels = set()
        if prf is not None:
            prf_labels = {lab for lab in getattr(prf, "data", {}).get("objects", {})} if isinstance(
                getattr(prf, "data", {}).get("objects", {}), dict) else set()
        std_labels = env.get_domain("std").data.get("labels", {})
        for kind, value in claim_pieces(name):
            if kind == "math":
                out.append(nodes.math(value, value))
            elif kind == "label" and value in math_objects:
                out.append(addnodes.pending_xref("", nodes.Text(value), refdomain="math", reftype="eq",
                                                 reftarget=value, refexplicit=False, refwarn=True,
                                                 refdoc=env.docname))
            elif kind == "label" and value in std_labels:
                out.append(addnodes.pending_xref("", nodes.inline(text=value), refdomain="std",
                                                 reftype="ref", reftarget=value, refexplicit=False,
                                                 refwarn=True, refdoc=env.docname))
            elif kind == "label" and value in prf_labels:
                out.append(addnodes.pending_xref("", nodes.inline(text=value), refdomain="prf",
                                                 reftype="ref", reftarget=value, refexplicit=False,
                                                 refwarn=True, refdoc=env.docname))
            else:
                out.append(nodes.Text(value))
        return out

    def doc_link(env, docname: str, label, anchor_id: str = ""):
        ref = nodes.reference("", "", internal=True,
                              refuri=app.builder.get_relative_uri(env.docname, docname)
                              + (f"#{anchor_id}" if anchor_id else ""))
        ref += label if isinstance(label, nodes.Node) else nodes.Text(label)
        return ref

    class VerificationLedger(SphinxDirective):
        has_content = False
        option_spec = {
            "table": lambda arg: directives.choice(arg, ("summary",)),
            "chapter": directives.unchanged_required,
        }

        def run(self):
            env = self.env
            ledger = current_ledger(env)
            out: list[nodes.Node] = []
            if not env.temp_data.get("ribbon_ledger_reported"):
                env.temp_data["ribbon_ledger_reported"] = True
                for problem in ledger.problems:
                    logger.error(f"[ledger] {problem}", location=self.get_location())
                store = getattr(env, "ribbon_ledger_problems", {})
                store[env.docname] = list(ledger.problems)
                env.ribbon_ledger_problems = store
                logger.info(f"[ledger] {ledger.totals_text()}")
            shown = env.temp_data.setdefault("ribbon_ledger_shown", set())
            if "chapter" in self.options:
                chapter = self.options["chapter"].strip()
                known = {c for _d, c, *_ in ledger.chapters}
                if chapter not in known:
                    raise self.error(f"verification-ledger: no recorded checks for chapter {chapter!r} "
                                     f"(known: {', '.join(sorted(known))})")
                shown.add(chapter)
                out.append(self.chapter_list(ledger, chapter))
                return out
            # summary: one row per chapter (its title, linked), the kinds of its checks
            out.append(nodes.paragraph(text=ledger.totals_text()))
            table = nodes.table(classes=["ribbon-ledger", "ledger-summary"])
            group = nodes.tgroup(cols=3)
            table += group
            for w in (40, 12, 48):
                group += nodes.colspec(colwidth=w)
            head = nodes.thead()
            hrow = nodes.row()
            for c in ("Chapter", "Checks", "Kinds of evidence"):
                entry = nodes.entry()
                entry += nodes.paragraph(text=c)
                hrow += entry
            head += hrow
            group += head
            body = nodes.tbody()
            for docname, chapter, n, n_ok, _w in ledger.chapters:
                recs = chapter_records(ledger, chapter)
                row = nodes.row()
                title = env.titles.get(docname)
                label = nodes.Text(title.astext() if title is not None else chapter)
                for content in (doc_link(env, docname, label), nodes.Text(f"{n}" + ("" if n_ok == n else f" ({n - n_ok} FAILED)")),
                                nodes.Text(kind_summary(recs))):
                    entry = nodes.entry()
                    para = nodes.paragraph()
                    para += content
                    entry += para
                    row += entry
                body += row
            group += body
            out.append(table)
            return out

        def chapter_list(self, ledger, chapter):
            env = self.env
            recs = chapter_records(ledger, chapter)
            docname = next(d for d, c, *_ in ledger.chapters if c == chapter)
            container = nodes.container(classes=["ribbon-ledger-chapter"])
            intro = nodes.paragraph()
            intro += nodes.Text(f"{len(recs)} checks: {kind_summary(recs)}. ")
            intro += doc_link(env, docname, "Read the chapter.")
            container += intro
            items = nodes.bullet_list(classes=["ribbon-ledger-checks"])
            for r in recs:
                item = nodes.list_item(ids=[ledger_anchor(chapter, r.get("index", 0), "ledger")])
                claim = nodes.paragraph(classes=["ledger-claim"])
                claim += nodes.strong(text=f"#{r.get('index', 0)} ")
                for node in claim_nodes(env, r["name"]):
                    claim += node
                if not r["passed"]:
                    claim += nodes.strong(text="  FAILED")
                item += claim
                detail = nodes.paragraph(classes=["ledger-detail"])
                detail += nodes.emphasis(text=_kind_text(r))
                detail += nodes.Text(f" · {r['method'] or 'method not stated'} · {measure_text(r)} · ")
                detail += doc_link(env, docname, "see the check",
                                   ledger_anchor(chapter, r.get("index", 0), "check"))
                item += detail
                items += item
            container += items
            return container

    def on_doctree_read(app_, doctree) -> None:
        env = app_.env
        ledger = env.temp_data.get("ribbon_ledger")
        if env.docname != app_.config.ledger_docname or ledger is None:
            return
        shown = env.temp_data.get("ribbon_ledger_shown", set())
        missing = [f"chapter {c!r} has checks but no `verification-ledger` list with `:chapter: {c}` "
                   "on the ledger page" for _d, c, *_ in ledger.chapters if c not in shown]
        if missing:
            store = getattr(env, "ribbon_ledger_problems", {})
            store.setdefault(env.docname, []).extend(missing)
            env.ribbon_ledger_problems = store
            for problem in missing:
                logger.error(f"[ledger] {problem}")

    def on_purge(app_, env, docname):
        store = getattr(env, "ribbon_ledger_problems", None)
        if store:
            store.pop(docname, None)

    def on_merge(app_, env, docnames, other):  # parallel read support
        store = getattr(env, "ribbon_ledger_problems", {})
        store.update(getattr(other, "ribbon_ledger_problems", {}))
        env.ribbon_ledger_problems = store

    def on_finished(app_, exception):
        if exception is not None or app_.builder is None:
            return
        store = getattr(app_.env, "ribbon_ledger_problems", {}) or {}
        problems = [p for doc in sorted(store) for p in store[doc]]
        if problems:
            raise LedgerBuildError(
                "the book is not verified:\n  " + "\n  ".join(problems)
            )

    app.add_config_value("ledger_docname", "ledger", "env")
    # chapters whose inequality checks must all be certified (interval enclosures)
    app.add_config_value("ledger_certified_chapters", [], "env")
    app.add_directive("verification-ledger", VerificationLedger)
    app.connect("config-inited", on_config_inited)
    app.connect("env-get-outdated", on_outdated)
    app.connect("env-before-read-docs", on_before_read)
    app.connect("env-purge-doc", on_purge)
    app.connect("doctree-read", on_doctree_read)
    app.connect("env-merge-info", on_merge)
    app.connect("build-finished", on_finished)


def setup(app) -> dict[str, Any]:
    """Register the ledger directive and the build hooks."""
    _sphinx_setup(app)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
