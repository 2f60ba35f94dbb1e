"""Input validation shared by the ribbonlib modules.

Every public function validates its arguments with these helpers, so that bad input
raises a :class:`ValueError` naming the argument and the valid range instead of
producing a silent NaN or a wrong figure.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def eigenvalues(lam: Any, name: str = "lam") -> np.ndarray:
    """Return ``lam`` as a 1-D float64 array of finite, strictly positive values."""
    arr = np.asarray(lam, dtype=float) if not _is_object(lam) else np.asarray(lam)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of eigenvalues > 0, got shape {arr.shape}")
    vals = arr.astype(float)
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"{name} must be finite (eigenvalues in (0, inf)); found non-finite entries")
    if np.any(vals <= 0):
        raise ValueError(f"{name} must be > 0 (eigenvalues in (0, inf)); smallest entry is {vals.min()!r}")
    return arr


def _is_object(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == object


def vector(x: Any, name: str, length: int) -> np.ndarray:
    """Return ``x`` as a finite 1-D float array of the given length."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f"{name} must be a 1-D array of length {length} (one entry per eigenvalue), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; found non-finite entries")
    return arr


def finite_real(x: Any, name: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return ``x`` as a float, checking it is finite and inside the stated interval."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        try:
            x = float(x)  # mpmath numbers, 0-d arrays
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a real number, got {x!r}") from None
    val = float(x)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    lo = "(" if low is None else lo
    hi = ")" if high is None else hi
    rng = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if not math.isfinite(val):
        raise ValueError(f"{name} must be finite, in {rng}; got {x!r}")
    if low is not None and (val < low or (low_open and val == low)):
        raise ValueError(f"{name} must be in {rng}; got {x!r}")
    if high is not None and (val > high or (high_open and val == high)):
        raise ValueError(f"{name} must be in {rng}; got {x!r}")
    return val


def integer(x: Any, name: str, *, low: int = 0) -> int:
    """Return ``x`` as an int ``>= low`` (bools and non-integral floats are refused)."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Integral, np.integer)):
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            x = int(x)
        else:
            raise ValueError(f"{name} must be an integer >= {low}, got {x!r}")
    if int(x) < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {x!r}")
    return int(x)


def learning_rate(eta: Any, lam: np.ndarray, name: str = "eta") -> float:
    """Check ``0 < eta`` and ``eta * max(lam) < 2`` (gradient descent converges)."""
    val = finite_real(eta, name, low=0.0, low_open=True)
    top = float(np.max(np.asarray(lam, dtype=float)))
    if val * top >= 2.0:
        raise ValueError(
            f"{name} must satisfy 0 < {name}*max(lam) < 2 for gradient descent to converge; "
            f"got {name}*max(lam) = {val * top:.6g} (so {name} must be < {2.0 / top:.6g})"
        )
    return val


def seed(x: Any, name: str = "seed") -> int | np.random.SeedSequence:
    """Accept an int >= 0 or a SeedSequence; no draw is ever unseeded."""
    if isinstance(x, np.random.SeedSequence):
        return x
    return integer(x, name, low=0)


#: Largest number of float64 entries a function materialises (2 GB).
MAX_ENTRIES = 250_000_000


def check_size(entries: int, what: str, hint: str = "use fewer steps, runs or inputs") -> None:
    """Refuse to materialise more than :data:`MAX_ENTRIES` numbers (a clear error, not a crash)."""
    if entries > MAX_ENTRIES:
        raise ValueError(f"{what} would hold {entries:,} numbers (more than {MAX_ENTRIES:,}); {hint}")


def matrix(x: Any, name: str = "X") -> np.ndarray:
    """Return ``x`` as a non-empty, finite 2-D float array (rows are samples)."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (samples, features), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; found non-finite entries")
    return arr


def symmetric_matrix(x: Any, name: str = "K", rtol: float = 1e-10) -> np.ndarray:
    """Return ``x`` as a finite, square, symmetric float array (symmetrised exactly).

    The largest ``|x − xᵀ|`` may be at most ``rtol`` times the largest ``|x|``.
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a square (N, N) kernel matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; found non-finite entries")
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > rtol * scale:
        raise ValueError(f"{name} must be symmetric; largest |{name} - {name}.T| is {asym:.3g} (relative {asym / scale:.3g})")
    return 0.5 * (arr + arr.T)
