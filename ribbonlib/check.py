"""Checks that raise: the verification net of the book.

Every claim in a chapter goes through one of five checks, named by the kind of
evidence they give (the *kind* shown in the verification ledger):

* :func:`certified_less_equal` -- **certified**: an inequality between exact numbers,
  decided with rigorous interval enclosures (:mod:`ribbonlib.certify`); a pass is a
  proof for the parameters at hand;
* :func:`symbolic` -- **symbolic**: an identity, decided by exact simplification of
  ``lhs − rhs`` to zero (or exact evaluation at rational points);
* :func:`close` and :func:`less_equal` on mpmath numbers -- **high precision**: the
  comparison runs at the digits of the inputs, far below float64 round-off;
* :func:`close` and :func:`less_equal` on float64 -- **floating point**: the tolerance is a
  stated round-off (or truncation) bound;
* :func:`statistical` -- **statistical**: Monte-Carlo against exact expectations, in
  standard errors, with a stated false-alarm probability; the ledger adds the
  false-alarm probabilities of the whole book (a union bound).

A check that fails raises :class:`CheckFailed`, an :class:`AssertionError` whose
message names the check, the measured error and the tolerance; this fails the
chapter's cell, hence the chapter test and the book build.

Every outcome, passed or failed, is recorded as an :class:`Outcome`. The outcomes of
the current process are returned by :func:`outcomes`. When the environment variable
``RIBBONLIB_LEDGER_DIR`` names a folder, each outcome is also appended as one JSON line
to ``<folder>/<chapter>.jsonl``, so that a later page of the book (the verification
ledger) can list the checks of every chapter; :func:`set_chapter` starts that file
afresh when a chapter begins to execute.

Both checks accept float64 arrays and arrays of :class:`mpmath.mpf` (object dtype),
so that identities can be verified far below double precision. The comparison runs at
a working precision that keeps every digit of the inputs and resolves the tolerance
(whatever mpmath's global precision is), so a 60-digit check really compares 60 digits.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

__all__ = [
    "CheckFailed",
    "Outcome",
    "KINDS",
    "close",
    "less_equal",
    "certified_less_equal",
    "statistical",
    "z_limit",
    "symbolic",
    "outcomes",
    "set_chapter",
    "anchor",
    "cell_summary",
    "measure_text",
    "current_chapter",
    "clear",
    "summary",
]

LEDGER_ENV = "RIBBONLIB_LEDGER_DIR"
CHAPTER_ENV = "RIBBONLIB_CHAPTER"

#: The kinds of evidence a check can give, strongest first.
KINDS = ("certified", "symbolic", "high precision", "floating point", "statistical")
#: Default false-alarm probability of one :func:`statistical` check (all its entries together).
DEFAULT_ALPHA = 1e-5


class CheckFailed(AssertionError):
    """A numerical check of the book did not hold."""


@dataclass(frozen=True)
class Outcome:
    """One recorded check.

    Attributes
    ----------
    name : str
        The claim being checked, as the chapter states it.
    chapter : str
        The chapter that ran the check ("" outside a chapter).
    kind : str
        The kind of evidence, one of :data:`KINDS`.
    comparison : str
        ``"close"`` (an equality within a tolerance), ``"less_equal"`` (an inequality),
        ``"z-score"`` (statistical) or ``"identity"`` (symbolic).
    method : str
        How the independent value was computed (simulation, quadrature, ...).
    error : float
        ``close``: the largest relative error ``|a - e| / |e|`` (absolute error where
        ``e == 0``). ``less_equal``: the largest ratio ``value / bound`` over entries
        with a positive bound (``nan`` when there is none).
    tolerance : float
        ``close``: ``rtol`` (``atol`` is recorded separately). ``less_equal``: 1.0,
        the ratio a value may reach.
    atol : float
        Absolute tolerance of a ``close`` check (0 for ``less_equal``).
    worst : float
        The largest ``|a - e| / (atol + rtol |e|)`` (``close``) or the largest
        ``value - bound`` (``less_equal``); the check passes when it is ``<= 1``
        (``close``) or ``<= 0`` (``less_equal``).
    size : int
        Number of compared entries.
    passed : bool
        Whether the check held.
    digits : int
        Decimal digits of the comparison (high precision; 0 otherwise).
    alpha : float
        False-alarm probability of a statistical check (0 otherwise).
    index : int
        Position of the check in its chapter (1, 2, ...); with the chapter it names the
        anchor ``check-<chapter>-<index>`` under the cell that ran it and the row
        ``ledger-<chapter>-<index>`` of the verification ledger.
    """

    name: str
    chapter: str
    kind: str
    comparison: str
    method: str
    error: float
    tolerance: float
    atol: float
    worst: float
    size: int
    passed: bool
    digits: int = 0
    alpha: float = 0.0
    index: int = 0

    def _ipython_display_(self) -> None:
        # Under a chapter, the cell's summary (with anchors and ledger links) shows it.
        if not _HOOKED[0]:
            print(repr(self))

    def __repr__(self) -> str:  # short and readable
        status = "passed" if self.passed else "FAILED"
        return f"check {status} ({self.kind}): {self.name} | {_measure_text(self)}"


_OUTCOMES: list[Outcome] = []
_COUNT = [0]
_CHAPTER: list[str] = [os.environ.get(CHAPTER_ENV, "")]


def measure_text(record: Any) -> str:
    """What a check measured, against what it allows, in words (numbers typeset).

    Equalities give their largest error against the tolerance, bounds their *slack* (the
    smallest factor by which the bound exceeds the value), statistical checks their
    largest ``|z|`` against its limit.

    Parameters
    ----------
    record : Outcome or mapping
        An outcome, or its fields as a dict (a line of a ledger file).

    Returns
    -------
    str
    """
    from .typeset import sci

    rec = asdict(record) if isinstance(record, Outcome) else dict(record)
    n = int(rec.get("size", 1) or 1)
    over = f" over {n} entries" if n > 1 else ""
    comp = rec["comparison"]
    passed = bool(rec.get("passed", True))

    def num(x: Any) -> float:
        try:
            return float(x)
        except (TypeError, ValueError):
            return math.nan

    if comp == "identity":
        return f"reduces exactly to 0{over}" if passed else "does not reduce to 0"
    if comp == "z-score":
        return (f"largest |z| {num(rec['error']):.2f}{over}, limit {num(rec['tolerance']):.2f} "
                f"(false-alarm probability {sci(num(rec.get('alpha', 0)), 1)})")
    if comp == "close":
        rtol, atol = num(rec["tolerance"]), num(rec.get("atol", 0.0) or 0.0)
        if rtol == 0 and atol > 0:
            return (f"largest absolute error {sci(num(rec['worst']) * atol)}{over}, "
                    f"tolerance {sci(atol)}")
        tol = f"tolerance {sci(rtol)}" + (f" (+ {sci(atol)} absolute)" if atol > 0 else "")
        return f"largest relative error {sci(num(rec['error']))}{over}, {tol}"
    ratio = num(rec["error"])
    if not passed:
        return f"FAILS{over}: largest value/bound {ratio:.6g}" if not math.isnan(ratio) else f"FAILS{over}"
    if math.isnan(ratio):
        return f"holds{over} (no positive bound to measure slack against)"
    if ratio <= 0:
        return f"holds{over}, value <= 0 < bound"
    slack = 1.0 / ratio
    if slack >= 1e3:
        return f"holds{over}, tightest slack {math.log10(slack):.1f} decades"
    if slack >= 1.0005:
        return f"holds{over}, tightest slack ×{slack:.3g}"
    return f"holds{over}, tight (value/bound {ratio:.6g})"


def _measure_text(o: Outcome) -> str:
    return measure_text(o)


def _ledger_file(chapter: str) -> Path | None:
    folder = os.environ.get(LEDGER_ENV, "")
    if not folder:
        return None
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in chapter) or "unnamed"
    return Path(folder) / f"{safe}.jsonl"


def set_chapter(chapter: str) -> None:
    """Declare the chapter whose checks follow, and start its ledger file afresh.

    Parameters
    ----------
    chapter : str
        A short, stable identifier, e.g. ``"01_distributions"``.
    """
    if not isinstance(chapter, str) or not chapter.strip():
        raise ValueError("chapter must be a non-empty string")
    _CHAPTER[0] = chapter
    _COUNT[0] = 0
    path = _ledger_file(chapter)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    _install_cell_summaries()


def anchor(chapter: str, index: int, where: str = "check") -> str:
    """HTML id of check ``index`` of ``chapter``: ``where`` is ``"check"`` (under its cell)
    or ``"ledger"`` (its row in the verification ledger)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in chapter)
    return f"{where}-{safe}-{index}"


#: Where the ledger page is, relative to a chapter page (chapters live in ``chapters/``).
LEDGER_HREF = "../ledger.html"


def _html_text(text: str) -> str:
    """Escape ``text`` for HTML, turning ``$...$`` into inline math for MathJax."""
    import html

    parts = text.split("$")
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            out.append('<span class="math notranslate nohighlight">\\(' + html.escape(part) + "\\)</span>")
        else:
            out.append(html.escape(part if i % 2 == 0 else "$" + part))
    return "".join(out)


def cell_summary(outcomes_: list[Outcome]) -> dict[str, str]:
    """A display bundle (HTML and plain text) summarising the checks of one cell.

    Each check gets the anchor :func:`anchor` ``(chapter, index)`` and a link to its row of
    the verification ledger.
    """
    import html

    n_ok = sum(o.passed for o in outcomes_)
    kinds: dict[str, int] = {}
    for o in outcomes_:
        kinds[o.kind] = kinds.get(o.kind, 0) + 1
    kind_text = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: KINDS.index(kv[0])))
    plural = "s" if len(outcomes_) != 1 else ""
    if n_ok == len(outcomes_):
        head = f"✓ {len(outcomes_)} check{plural} passed ({kind_text})"
    else:
        head = f"✗ {len(outcomes_) - n_ok} of {len(outcomes_)} check{plural} FAILED ({kind_text})"
    items = []
    for o in outcomes_:
        status = "passed" if o.passed else "FAILED"
        items.append(
            f'<li id="{anchor(o.chapter, o.index)}"><a href="{LEDGER_HREF}#{anchor(o.chapter, o.index, "ledger")}">'
            f"#{o.index}</a> {status}, {html.escape(o.kind)}: {_html_text(o.name)} "
            f'<span class="ribbon-check-measure">({html.escape(_measure_text(o))})</span></li>'
        )
    body = (f'<details class="ribbon-checks"><summary>{html.escape(head)}</summary>'
            f'<ul>{"".join(items)}</ul></details>')
    plain = head + "".join(f"\n  #{o.index} {o.name}: {_measure_text(o)}" for o in outcomes_)
    return {"text/html": body, "text/plain": plain}


_CELL_MARK = [0]
_HOOKED = [False]


def _install_cell_summaries() -> None:
    """Inside IPython: show, under every cell that ran checks, a summary with anchors."""
    if _HOOKED[0]:
        return
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - checks also run outside IPython
        return
    ip = get_ipython()
    if ip is None:
        return

    def before(*_args) -> None:
        _CELL_MARK[0] = len(_OUTCOMES)

    def after(*_args) -> None:
        new = [o for o in _OUTCOMES[_CELL_MARK[0]:] if o.chapter]
        _CELL_MARK[0] = len(_OUTCOMES)
        if new:
            from IPython.display import display

            display(cell_summary(new), raw=True)

    ip.events.register("pre_run_cell", before)
    ip.events.register("post_run_cell", after)
    _HOOKED[0] = True


def current_chapter() -> str:
    """Return the chapter identifier set by :func:`set_chapter` (or ``""``)."""
    return _CHAPTER[0]


def outcomes() -> list[Outcome]:
    """Return the outcomes recorded in this process, in order."""
    return list(_OUTCOMES)


def clear() -> None:
    """Forget the outcomes recorded in this process (ledger files are kept)."""
    _OUTCOMES.clear()


def summary() -> str:
    """One line per recorded check: status, name, error and tolerance."""
    lines = []
    for o in _OUTCOMES:
        status = "ok  " if o.passed else "FAIL"
        lines.append(f"{status} [{o.kind}] {o.name}: {_measure_text(o)}")
    n_ok = sum(o.passed for o in _OUTCOMES)
    lines.append(f"{n_ok} of {len(_OUTCOMES)} checks passed")
    return "\n".join(lines)


def _record(outcome: Outcome) -> Outcome:
    _COUNT[0] += 1
    outcome = replace(outcome, index=_COUNT[0])
    _OUTCOMES.append(outcome)
    path = _ledger_file(outcome.chapter) if outcome.chapter else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(outcome)) + "\n")
    return outcome


def _as_array(name: str, arg: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object:
        try:
            return np.vectorize(mpmath.mpf, otypes=[object])(arr) if arr.size else arr
        except (TypeError, ValueError) as exc:
            raise ValueError(f"check {name!r}: {arg} must hold real numbers") from exc
    if arr.dtype.kind == "c":
        raise ValueError(f"check {name!r}: {arg} must be real, got complex values")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"check {name!r}: {arg} must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _is_nan(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object:
        return np.vectorize(mpmath.isnan, otypes=[bool])(arr) if arr.size else np.zeros(arr.shape, bool)
    return np.isnan(arr)


def _to_float(x: Any) -> float:
    try:
        return float(x)
    except (OverflowError, ValueError):
        return math.inf


def _validate_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name must be a non-empty string describing the claim")


def _digits() -> int:
    """Decimal digits of the current working precision (inside :func:`_working_bits`' context)."""
    return int(mpmath.mp.dps)


def _working_bits(*values: Any, rtol: Any = 0.0) -> int:
    """Binary precision for comparing ``values``: none of their digits is rounded away.

    mpmath rounds every operation (and every ``mpf(x)`` conversion) to the current
    working precision, 53 bits by default; a comparison of 60-digit numbers done there
    would only see their first 16 digits. This returns the largest mantissa length of
    the mpmath entries, the bits a relative tolerance ``rtol`` resolves, or the current
    precision, whichever is largest, plus 64 guard bits.
    """
    bits = mpmath.mp.prec
    for value in values:
        arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
        if arr.dtype != object:
            continue
        for x in arr.ravel():
            if isinstance(x, mpmath.mpf):
                bits = max(bits, int(x._mpf_[3]))
            elif isinstance(x, int):
                bits = max(bits, x.bit_length())
    try:
        tol = float(rtol)
    except (TypeError, ValueError, OverflowError):
        tol = 0.0
    if 0.0 < tol < 1.0:
        bits = max(bits, int(math.ceil(-math.log2(tol))))
    return bits + 64


def close(
    name: str,
    actual: Any,
    expected: Any,
    *,
    rtol: float,
    atol: float = 0.0,
    method: str = "",
) -> Outcome:
    """Check ``|actual - expected| <= atol + rtol * |expected|`` elementwise.

    Parameters
    ----------
    name : str
        The claim, in words; it appears in the failure message and in the ledger.
    actual, expected : array_like
        The derived value and the independently computed one; broadcastable.
        float64 or mpmath numbers.
    rtol : float
        Relative tolerance, ``>= 0``; state in the chapter why it is the right one.
    atol : float, optional
        Absolute tolerance, ``>= 0``.
    method : str, optional
        How ``expected`` was computed, for the ledger.

    Returns
    -------
    Outcome
        The recorded outcome (when the check passed).

    Raises
    ------
    CheckFailed
        If any entry is off by more than the tolerance, or either side holds a NaN.
    ValueError
        For a bad tolerance, non-numeric input or shapes that do not broadcast.
    """
    with mpmath.workprec(_working_bits(actual, expected, rtol=rtol)):
        return _close(name, actual, expected, rtol=rtol, atol=atol, method=method)


def _close(name: str, actual: Any, expected: Any, *, rtol: Any, atol: Any, method: str) -> Outcome:
    _validate_name(name)
    for arg, tol in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(tol, (int, float, np.floating, np.integer)) or isinstance(tol, mpmath.mpf)):
            raise ValueError(f"check {name!r}: {arg} must be a real number >= 0, got {tol!r}")
        if not (float(tol) >= 0 and math.isfinite(float(tol))):
            raise ValueError(f"check {name!r}: {arg} must be finite and >= 0, got {tol!r}")
    a = _as_array(name, "actual", actual)
    e = _as_array(name, "expected", expected)
    try:
        a, e = (np.atleast_1d(x) for x in np.broadcast_arrays(a, e))  # 0-d object arithmetic gives bare mpf
    except ValueError as exc:
        raise ValueError(
            f"check {name!r}: actual shape {np.shape(a)} and expected shape {np.shape(e)} do not broadcast"
        ) from exc
    high = a.dtype == object or e.dtype == object
    if high:
        a = np.vectorize(mpmath.mpf, otypes=[object])(a) if a.size else a.astype(object)
        e = np.vectorize(mpmath.mpf, otypes=[object])(e) if e.size else e.astype(object)
        rt, at = mpmath.mpf(rtol), mpmath.mpf(atol)
    else:
        rt, at = float(rtol), float(atol)
    nan = bool(np.any(_is_nan(a)) or np.any(_is_nan(e)))
    size = int(a.size)
    if size == 0:
        raise ValueError(f"check {name!r}: nothing to compare (empty arrays)")
    diff = np.abs(a - e)
    scale = np.abs(e)
    allowed = at + rt * scale
    if nan:
        rel_err, worst, passed = math.nan, math.inf, False
    else:
        if high:
            rel = [d / s if s != 0 else d for d, s in zip(diff.ravel(), scale.ravel())]
            ratio = [
                (d / t if t != 0 else (mpmath.mpf(0) if d == 0 else mpmath.inf))
                for d, t in zip(diff.ravel(), allowed.ravel())
            ]
            rel_err = _to_float(max(rel))
            worst = _to_float(max(ratio))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
                ratio = np.where(allowed > 0, diff / np.where(allowed > 0, allowed, 1.0), np.where(diff == 0, 0.0, np.inf))
            rel_err = float(np.max(rel))
            worst = float(np.max(ratio))
        passed = worst <= 1.0
    outcome = Outcome(
        name=name,
        chapter=current_chapter(),
        kind="high precision" if high else "floating point",
        comparison="close",
        method=method,
        error=rel_err,
        tolerance=float(rtol),
        atol=float(atol),
        worst=worst,
        size=size,
        passed=passed,
        digits=_digits() if high else 0,
    )
    outcome = _record(outcome)
    if not passed:
        if nan:
            detail = "a NaN appeared in the compared values"
        else:
            idx = int(np.argmax([_to_float(x) for x in np.ravel(diff / np.where(allowed != 0, allowed, 1))]))
            detail = (
                f"largest relative error {rel_err:.3e} > rtol {float(rtol):.3e} (atol {float(atol):.3e}); "
                f"worst entry #{idx}: actual {_to_float(a.ravel()[idx]):.17g}, "
                f"expected {_to_float(e.ravel()[idx]):.17g}"
            )
        raise CheckFailed(f"check {name!r} failed: {detail}")
    return outcome


def less_equal(name: str, value: Any, bound: Any, *, method: str = "") -> Outcome:
    """Check ``value <= bound`` elementwise, e.g. that a proved bound holds.

    Parameters
    ----------
    name : str
        The claim, in words.
    value, bound : array_like
        Broadcastable arrays of float64 or mpmath numbers.
    method : str, optional
        How the two sides were computed, for the ledger.

    Returns
    -------
    Outcome
        The recorded outcome; its ``error`` is the largest ratio ``value / bound``
        over entries with ``bound > 0`` (how close the bound is to being violated;
        its reciprocal is the slack).

    Raises
    ------
    CheckFailed
        If some entry exceeds its bound or a NaN appears.
    """
    with mpmath.workprec(_working_bits(value, bound)):
        return _less_equal(name, value, bound, method=method)


def _less_equal(name: str, value: Any, bound: Any, *, method: str) -> Outcome:
    _validate_name(name)
    v = _as_array(name, "value", value)
    b = _as_array(name, "bound", bound)
    try:
        v, b = (np.atleast_1d(x) for x in np.broadcast_arrays(v, b))
    except ValueError as exc:
        raise ValueError(
            f"check {name!r}: value shape {np.shape(v)} and bound shape {np.shape(b)} do not broadcast"
        ) from exc
    if v.size == 0:
        raise ValueError(f"check {name!r}: nothing to compare (empty arrays)")
    nan = bool(np.any(_is_nan(v)) or np.any(_is_nan(b)))
    if nan:
        passed, ratio_max, worst, idx = False, math.nan, math.inf, 0
    else:
        excess = v - b
        ok = excess <= 0
        passed = bool(np.all(ok))
        flat_ex = excess.ravel()
        idx = int(np.argmax([_to_float(x) for x in flat_ex]))
        worst = _to_float(flat_ex[idx])
        ratios = [x / y for x, y in zip(v.ravel(), b.ravel()) if y > 0]
        ratio_max = _to_float(max(ratios)) if ratios else math.nan
    high = v.dtype == object or b.dtype == object
    outcome = Outcome(
        name=name,
        chapter=current_chapter(),
        kind="high precision" if high else "floating point",
        comparison="less_equal",
        method=method,
        error=ratio_max,
        tolerance=1.0,
        atol=0.0,
        worst=worst,
        size=int(v.size),
        passed=passed,
        digits=_digits() if high else 0,
    )
    outcome = _record(outcome)
    if not passed:
        if nan:
            detail = "a NaN appeared in the compared values"
        else:
            n_bad = int(np.sum(~ok))
            detail = (
                f"{n_bad} of {v.size} entries exceed their bound; worst entry #{idx}: "
                f"value {_to_float(v.ravel()[idx]):.17g} > bound {_to_float(b.ravel()[idx]):.17g}"
            )
        raise CheckFailed(f"check {name!r} failed: {detail}")
    return outcome


# ------------------------------------------------------------------ certified checks


def _is_high(x: Any) -> bool:
    from flint import arb, arb_mat

    if isinstance(x, (arb, arb_mat, mpmath.mpf)):
        return True
    return isinstance(x, np.ndarray) and x.dtype == object or isinstance(x, (list, tuple)) and any(
        isinstance(v, (arb, mpmath.mpf)) for v in np.ravel(np.asarray(x, dtype=object)))


def certified_less_equal(name: str, value: Any, bound: Any, *, method: str = "") -> Outcome:
    """Prove ``value <= bound`` elementwise from rigorous enclosures of both sides.

    The check passes when the upper end of every enclosure of ``value`` is at most the
    lower end of the enclosure of ``bound``: then the inequality holds for the exact
    numbers, whatever the round-off of the computations that produced the enclosures.

    Parameters
    ----------
    name : str
        The claim, in words.
    value, bound : Enclosure, float array, mpmath numbers or Arb balls
        Enclosures of the two sides. Floats are exact numbers (a bound that the library
        computed in float64 is certified as the number it is); mpmath numbers are exact
        too and Arb balls are taken as they are, and when either side holds them the
        comparison runs in Arb at their full precision. Broadcastable.
    method : str, optional
        How the enclosures were obtained, for the ledger.

    Returns
    -------
    Outcome
        Kind ``"certified"``; ``error`` is the largest ratio ``value_hi / bound_lo`` over
        entries with ``bound_lo > 0`` (its reciprocal is the smallest certified slack).

    Raises
    ------
    CheckFailed
        If some entry is not proved (the enclosures overlap, or the inequality is false).
    """
    from . import certify

    _validate_name(name)
    if _is_high(value) or _is_high(bound):
        v_b, b_b = certify.balls(value), certify.balls(bound)
        try:
            v_b, b_b = (np.atleast_1d(x) for x in np.broadcast_arrays(v_b, b_b))
        except ValueError as exc:
            raise ValueError(f"check {name!r}: value shape {np.shape(v_b)} and bound shape "
                             f"{np.shape(b_b)} do not broadcast") from exc
        ok = np.array([bool(x <= y) for x, y in zip(v_b.ravel(), b_b.ravel())]).reshape(v_b.shape)
        refuted_mask = np.array([bool(x > y) for x, y in zip(v_b.ravel(), b_b.ravel())]).reshape(v_b.shape)
        v = certify.enclose(v_b)
        b = certify.enclose(b_b)
    else:
        v = certify.enclose(value)
        b = certify.enclose(bound)
        try:
            v_hi, b_lo = np.broadcast_arrays(v.hi, b.lo)
            v_lo, b_hi = np.broadcast_arrays(v.lo, b.hi)
        except ValueError as exc:
            raise ValueError(
                f"check {name!r}: value shape {v.shape} and bound shape {b.shape} do not broadcast"
            ) from exc
        ok = np.atleast_1d(v_hi <= b_lo)
        refuted_mask = np.atleast_1d(v_lo > b_hi)
    v_hi, b_lo = (np.atleast_1d(x) for x in np.broadcast_arrays(v.hi, b.lo))
    v_lo, b_hi = (np.atleast_1d(x) for x in np.broadcast_arrays(v.lo, b.hi))
    if v_hi.size == 0:
        raise ValueError(f"check {name!r}: nothing to compare (empty arrays)")
    passed = bool(np.all(ok))
    with np.errstate(invalid="ignore", over="ignore"):
        excess = v_hi - b_lo
        idx = int(np.argmax(np.where(ok, -np.inf, 0.0) + np.where(np.isnan(excess), 0.0, excess))) \
            if not passed else int(np.nanargmax(np.where(np.isnan(excess), -np.inf, excess)))
    pos = b_lo > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = float(np.max(v_hi[pos] / b_lo[pos])) if np.any(pos) else math.nan
    outcome = Outcome(
        name=name, chapter=current_chapter(), kind="certified", comparison="less_equal",
        method=method, error=ratio, tolerance=1.0, atol=0.0, worst=float(excess.ravel()[idx]),
        size=int(v_hi.size), passed=passed,
    )
    outcome = _record(outcome)
    if not passed:
        n_bad = int(np.sum(~ok))
        refuted = bool(np.any(refuted_mask))
        detail = (
            f"{n_bad} of {v_hi.size} entries not proved ({'some are false' if refuted else 'enclosures overlap'}); "
            f"worst entry #{idx}: value in [{v_lo.ravel()[idx]:.17g}, {v_hi.ravel()[idx]:.17g}], "
            f"bound in [{b_lo.ravel()[idx]:.17g}, {b_hi.ravel()[idx]:.17g}]"
        )
        raise CheckFailed(f"check {name!r} failed: {detail}")
    return outcome


# ---------------------------------------------------------------- statistical checks


def z_limit(alpha: float, size: int) -> float:
    """Largest ``|z|`` a statistical check of ``size`` entries allows at false-alarm ``alpha``.

    Each entry is a standard normal under the claim; by the union bound the probability
    that any of ``size`` entries exceeds ``z_limit`` is at most ``alpha``:
    ``z_limit = Φ⁻¹(1 − alpha / (2 size))``.
    """
    from scipy.special import ndtri

    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if int(size) < 1:
        raise ValueError(f"size must be >= 1, got {size!r}")
    return float(-ndtri(float(alpha) / (2.0 * int(size))))


def statistical(name: str, actual: Any, expected: Any, se: Any, *,
                alpha: float = DEFAULT_ALPHA, method: str = "") -> Outcome:
    """Check Monte-Carlo estimates against exact expectations, in standard errors.

    Passes when every ``|z| = |actual − expected| / se`` is at most
    :func:`z_limit` ``(alpha, size)``, so that a correct claim fails with probability at
    most ``alpha`` (Gaussian errors, union bound over the entries, correlated or not).

    Parameters
    ----------
    name : str
        The claim, in words.
    actual, expected : array_like
        The estimates and the exact values; broadcastable.
    se : array_like
        Standard errors of ``actual`` (exact, or estimated from many replicates), ``> 0``.
    alpha : float, optional
        False-alarm probability of the whole check, in ``(0, 1)``.
    method : str, optional
        How ``actual`` was sampled, for the ledger.

    Returns
    -------
    Outcome
        Kind ``"statistical"``; ``error`` is the largest ``|z|``, ``tolerance`` the limit.
    """
    _validate_name(name)
    a = _as_array(name, "actual", actual).astype(float)
    e = _as_array(name, "expected", expected).astype(float)
    sd = _as_array(name, "se", se).astype(float)
    try:
        a, e, sd = (np.atleast_1d(x) for x in np.broadcast_arrays(a, e, sd))
    except ValueError as exc:
        raise ValueError(f"check {name!r}: actual, expected and se do not broadcast") from exc
    if a.size == 0:
        raise ValueError(f"check {name!r}: nothing to compare (empty arrays)")
    if not (np.all(np.isfinite(sd)) and np.all(sd > 0)):
        raise ValueError(f"check {name!r}: se must be finite and > 0")
    limit = z_limit(alpha, a.size)
    nan = bool(np.any(np.isnan(a)) or np.any(np.isnan(e)))
    z = np.abs(a - e) / sd
    zmax = math.nan if nan else float(np.max(z))
    passed = (not nan) and zmax <= limit
    outcome = Outcome(
        name=name, chapter=current_chapter(), kind="statistical", comparison="z-score",
        method=method, error=zmax, tolerance=limit, atol=0.0,
        worst=math.inf if nan else zmax / limit, size=int(a.size), passed=passed, alpha=float(alpha),
    )
    outcome = _record(outcome)
    if not passed:
        if nan:
            detail = "a NaN appeared in the compared values"
        else:
            idx = int(np.argmax(z))
            detail = (f"largest |z| {zmax:.3f} > limit {limit:.3f} (false-alarm probability {alpha:.1e}); "
                      f"worst entry #{idx}: actual {a.ravel()[idx]:.17g}, expected {e.ravel()[idx]:.17g}, "
                      f"se {sd.ravel()[idx]:.3g}")
        raise CheckFailed(f"check {name!r} failed: {detail}")
    return outcome


# ------------------------------------------------------------------- symbolic checks


def symbolic(name: str, lhs: Any, rhs: Any = 0, *, at: Any = None, simplify: Any = None,
             method: str = "") -> Outcome:
    """Check an identity ``lhs = rhs`` exactly (SymPy), never at a float point.

    Parameters
    ----------
    name : str
        The claim, in words.
    lhs, rhs : sympy expressions or matrices
        The two sides (``rhs`` defaults to 0).
    at : dict or list of dict, optional
        Exact evaluation instead of simplification: substitutions of symbols by exact
        rationals (``sympy.Rational``/``Integer`` or Python ``int``/``Fraction``; floats are
        refused). The check passes when ``lhs − rhs`` is exactly 0 at every point. Use it
        only where finitely many points prove the identity (e.g. polynomials of known
        degree), and say so.
    simplify : callable, optional
        The simplifier applied to ``lhs − rhs`` (default :func:`sympy.simplify`).
    method : str, optional
        Shown in the ledger; by default it says which exact method decided.

    Returns
    -------
    Outcome
        Kind ``"symbolic"``.
    """
    import sympy as sp

    _validate_name(name)
    diff = sp.sympify(lhs) - sp.sympify(rhs)
    fn = sp.simplify if simplify is None else simplify
    if at is None:
        points = None
        reduced = [fn(x) for x in (diff if isinstance(diff, sp.MatrixBase) else [diff])]
        size = len(reduced)
        how = method or "exact simplification of lhs - rhs to 0 (SymPy)"
    else:
        points = [at] if isinstance(at, dict) else list(at)
        if not points:
            raise ValueError(f"check {name!r}: at must hold at least one point")
        reduced = []
        for pt in points:
            subs = {}
            for k, v in pt.items():
                if isinstance(v, (float, np.floating)) or (isinstance(v, sp.Basic) and v.is_Float):
                    raise ValueError(f"check {name!r}: evaluation points must be exact rationals, got {v!r}")
                subs[k] = sp.Rational(v.numerator, v.denominator) if hasattr(v, "denominator") and not isinstance(v, sp.Basic) else sp.sympify(v)
                if not subs[k].is_Rational:
                    raise ValueError(f"check {name!r}: evaluation points must be exact rationals, got {v!r}")
            val = diff.subs(subs)
            reduced.extend(fn(x) for x in (val if isinstance(val, sp.MatrixBase) else [val]))
        size = len(reduced)
        how = method or f"exact evaluation of lhs - rhs at {len(points)} rational point(s)"
    bad = [x for x in reduced if not (x == 0)]
    passed = not bad
    outcome = Outcome(
        name=name, chapter=current_chapter(), kind="symbolic", comparison="identity",
        method=how, error=0.0 if passed else math.nan, tolerance=0.0, atol=0.0,
        worst=0.0 if passed else math.inf, size=size, passed=passed,
    )
    outcome = _record(outcome)
    if not passed:
        raise CheckFailed(f"check {name!r} failed: lhs - rhs reduces to {bad[0]} (not 0)")
    return outcome
