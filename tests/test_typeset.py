"""ribbonlib.typeset: numbers for prose."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ribbonlib.typeset import latex, sci


@pytest.mark.parametrize("x, text", [
    (0.5, "0.50"), (700, "700"), (1.23e-8, "1.2×10⁻⁸"), (1e5, "10⁵"), (-3e-9, "−3×10⁻⁹"),
    (9.96e-5, "10⁻⁴"), (0.0, "0"), (math.inf, "∞"), (math.nan, "n/a"), (12345.0, "1.2×10⁴"),
])
def test_sci_examples(x, text):
    assert sci(x) == text


def test_latex_and_validation():
    assert latex(1.23e-8) == r"1.2\times 10^{-8}" and latex(-1e5) == "-10^{5}" and latex(0.25) == "0.25"
    with pytest.raises(ValueError, match="digits"):
        sci(1.0, 0)


@given(st.floats(-1e300, 1e300).filter(lambda v: v != 0), st.integers(1, 6))
def test_sci_round_trips_to_its_digits(x, digits):
    text = sci(x, digits).replace("−", "-")
    sup = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    if "×10" in text:
        mant, exp = text.split("×10")
        text = f"{mant}e{exp.translate(sup)}"
    elif any(c in text for c in "⁰¹²³⁴⁵⁶⁷⁸⁹"):  # a bare power of ten
        sign = "-" if text.startswith("-") else ""
        text = f"{sign}1e{text.lstrip('-')[2:].translate(sup)}"
    value = float(text)
    assert math.isclose(value, x, rel_tol=10 ** (1 - digits))
