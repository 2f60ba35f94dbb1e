"""Checks that raise: the verification net of the book.

Every numerical claim in a chapter goes through :func:`close` (equalities within a
stated tolerance) or :func:`less_equal` (inequalities, e.g. a bound that must hold).
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

__all__ = [
    "CheckFailed",
    "Outcome",
    "close",
    "less_equal",
    "outcomes",
    "set_chapter",
    "current_chapter",
    "clear",
    "summary",
]

LEDGER_ENV = "RIBBONLIB_LEDGER_DIR"
CHAPTER_ENV = "RIBBONLIB_CHAPTER"


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
        ``"close"`` or ``"less_equal"``.
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
    """

    name: str
    chapter: str
    kind: str
    method: str
    error: float
    tolerance: float
    atol: float
    worst: float
    size: int
    passed: bool

    def __repr__(self) -> str:  # shown under a chapter's cell: short and readable
        status = "passed" if self.passed else "FAILED"
        if self.kind == "close":
            tol = f"rtol {self.tolerance:.1e}" + (f", atol {self.atol:.1e}" if self.atol else "")
            return f"check {status}: {self.name} | largest relative error {self.error:.2e} ({tol})"
        return f"check {status}: {self.name} | largest value/bound {self.error:.3g} (must be <= 1)"


_OUTCOMES: list[Outcome] = []
_CHAPTER: list[str] = [os.environ.get(CHAPTER_ENV, "")]


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
    path = _ledger_file(chapter)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


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
        if o.kind == "close":
            lines.append(f"{status} {o.name}: rel. error {o.error:.2e} (rtol {o.tolerance:.1e}, atol {o.atol:.1e})")
        else:
            lines.append(f"{status} {o.name}: max value/bound {o.error:.3g} (must be <= 1)")
    n_ok = sum(o.passed for o in _OUTCOMES)
    lines.append(f"{n_ok} of {len(_OUTCOMES)} checks passed")
    return "\n".join(lines)


def _record(outcome: Outcome) -> None:
    _OUTCOMES.append(outcome)
    path = _ledger_file(outcome.chapter) if outcome.chapter else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(outcome)) + "\n")


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
        kind="close",
        method=method,
        error=rel_err,
        tolerance=float(rtol),
        atol=float(atol),
        worst=worst,
        size=size,
        passed=passed,
    )
    _record(outcome)
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
    outcome = Outcome(
        name=name,
        chapter=current_chapter(),
        kind="less_equal",
        method=method,
        error=ratio_max,
        tolerance=1.0,
        atol=0.0,
        worst=worst,
        size=int(v.size),
        passed=passed,
    )
    _record(outcome)
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
