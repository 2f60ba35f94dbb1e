"""Numbers typeset for prose: ``7×10²``, ``1.2×10⁻⁸`` instead of ``7e+02``, ``1.2e-08``.

Chapters glue computed numbers into their text; :func:`sci` formats them as a reader
expects to see them (Unicode superscripts, a true minus sign), and :func:`latex` as
LaTeX for use inside math.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["sci", "latex"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _parts(x: Any, digits: int) -> tuple[str, str, int | None]:
    """Sign, mantissa text and decimal exponent (``None`` for plain notation)."""
    v = float(x)
    if math.isnan(v):
        return "", "n/a", None
    if math.isinf(v):
        return ("−" if v < 0 else ""), "∞", None
    if v == 0:
        return "", "0", None
    sign = "−" if v < 0 else ""
    a = abs(v)
    exp = int(math.floor(math.log10(a)))
    if -2 <= exp <= 3:
        text = f"{a:.{max(digits - 1 - exp, 0)}f}" if exp < digits else f"{a:.0f}"
        return sign, text, None
    mant_text, exp_text = f"{a:.{digits - 1}e}".split("e")  # correctly rounded, even for subnormals
    m = mant_text.rstrip("0").rstrip(".") if "." in mant_text else mant_text
    return sign, m, int(exp_text)


def sci(x: Any, digits: int = 2) -> str:
    """``x`` with ``digits`` significant digits, in scientific notation when it is small or large.

    Parameters
    ----------
    x : float
    digits : int, optional
        Significant digits, ``>= 1``.

    Returns
    -------
    str
        ``"0.50"``, ``"700"``, ``"1.2×10⁻⁸"``, ``"10⁵"``, ``"−3×10⁻⁹"``, ``"∞"``, ``"n/a"`` (NaN).

    Examples
    --------
    >>> sci(1.23e-8)
    '1.2×10⁻⁸'
    """
    if int(digits) < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    sign, mant, exp = _parts(x, int(digits))
    if exp is None:
        return sign + mant
    head = "" if mant == "1" else mant + "×"
    return f"{sign}{head}10{str(exp).translate(_SUPERSCRIPT)}"


def latex(x: Any, digits: int = 2) -> str:
    """As :func:`sci`, as LaTeX (``1.2\\times 10^{-8}``) for use inside math."""
    if int(digits) < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    sign, mant, exp = _parts(x, int(digits))
    sign = "-" if sign else ""
    mant = {"∞": r"\infty", "n/a": r"\text{n/a}"}.get(mant, mant)
    if exp is None:
        return sign + mant
    head = "" if mant == "1" else mant + r"\times "
    return f"{sign}{head}10^{{{exp}}}"
