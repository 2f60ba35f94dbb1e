"""ribbonlib.check: checks raise with informative messages and are recorded."""

from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest

from ribbonlib import check


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv(check.LEDGER_ENV, str(tmp_path))
    check.clear()
    check.set_chapter("unit")
    yield tmp_path
    check.clear()


def test_close_passes_and_records(fresh):
    out = check.close("one third", 1 / 3, 0.3333333333333333, rtol=1e-15, method="by hand")
    assert out.passed and out.chapter == "unit" and out.comparison == "close"
    assert out.kind == "floating point"
    rows = [json.loads(x) for x in (fresh / "unit.jsonl").read_text().splitlines()]
    assert rows[0]["name"] == "one third" and rows[0]["method"] == "by hand"


def test_close_failure_names_check_and_numbers():
    with pytest.raises(check.CheckFailed, match=r"'pi is three'.*relative error 4\.5\d+e-02"):
        check.close("pi is three", 3.0, np.pi, rtol=1e-3)
    assert not check.outcomes()[-1].passed
    assert issubclass(check.CheckFailed, AssertionError)


def test_close_nan_fails():
    with pytest.raises(check.CheckFailed, match="NaN"):
        check.close("nan", [1.0, np.nan], [1.0, 1.0], rtol=1.0)


def test_close_atol_and_zero_expected():
    check.close("zero", [0.0, 1e-20], [0.0, 0.0], rtol=0.0, atol=1e-18)
    with pytest.raises(check.CheckFailed):
        check.close("exact zero", [1e-300], [0.0], rtol=0.5)


def test_close_high_precision():
    with mpmath.workdps(60):
        a = np.array([mpmath.mpf(1) / 3])
        b = np.array([mpmath.mpf("0.33333333333333333333333333333333333333333333333")])
        out = check.close("mp", a, b, rtol=mpmath.mpf("1e-45"))
        assert out.error < 1e-45
        with pytest.raises(check.CheckFailed):
            check.close("mp fails", a, b, rtol=1e-50)


def test_less_equal_passes_fails_and_reports_ratio():
    out = check.less_equal("bound", [1.0, 2.0], [2.0, 2.0])
    assert out.error == pytest.approx(1.0)
    with pytest.raises(check.CheckFailed, match=r"1 of 2 entries exceed"):
        check.less_equal("broken bound", [1.0, 3.0], [2.0, 2.0])
    with mpmath.workdps(60):
        tiny = mpmath.mpf("1e-55")
        check.less_equal("mp bound", np.array([tiny]), np.array([2 * tiny]))
        with pytest.raises(check.CheckFailed):
            check.less_equal("mp broken", np.array([3 * tiny]), np.array([2 * tiny]))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(name="", actual=1, expected=1, rtol=0.1), "name"),
        (dict(name="x", actual=1, expected=1, rtol=-1.0), "rtol"),
        (dict(name="x", actual=1, expected=1, rtol=np.inf), "rtol"),
        (dict(name="x", actual=[1, 2], expected=[1, 2, 3], rtol=0.1), "broadcast"),
        (dict(name="x", actual=[], expected=[], rtol=0.1), "empty"),
        (dict(name="x", actual="a", expected=1, rtol=0.1), "numeric"),
    ],
)
def test_close_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check.close(**kwargs)


def test_set_chapter_starts_ledger_afresh(fresh):
    check.close("a", 1.0, 1.0, rtol=0.0)
    check.set_chapter("unit")
    assert (fresh / "unit.jsonl").read_text() == ""
    with pytest.raises(ValueError):
        check.set_chapter("  ")


def test_high_precision_checks_do_not_depend_on_global_precision():
    # Values built at 50 digits, compared at mpmath's default 15-digit precision:
    # a 1e-30 discrepancy must still be seen.
    with mpmath.workdps(50):
        a = mpmath.mpf(1) / 3
        e = a + mpmath.mpf("1e-30")
        v, b = mpmath.mpf(1) + mpmath.mpf("1e-40"), mpmath.mpf(1)
    assert mpmath.mp.dps == 15
    with pytest.raises(check.CheckFailed):
        check.close("1e-30 apart", np.array([a], dtype=object), np.array([e], dtype=object), rtol=1e-45)
    out = check.close("1e-30 apart, loose", np.array([a], dtype=object), np.array([e], dtype=object), rtol=1e-29)
    assert 1e-30 < out.error < 1e-29
    with pytest.raises(check.CheckFailed):
        check.less_equal("1 + 1e-40 <= 1", np.array([v], dtype=object), np.array([b], dtype=object))
    with pytest.raises(check.CheckFailed):
        check.close("exact", np.array([v], dtype=object), np.array([b], dtype=object), rtol=0.0)


def test_scalar_mpmath_values():
    with mpmath.workdps(40):
        one, two = mpmath.mpf(1), mpmath.mpf(2)
    assert check.less_equal("1 <= 2 (mpf scalars)", one, two).passed
    assert check.close("1 = 1 (mpf scalars)", one, one, rtol=0.0).passed
    with pytest.raises(check.CheckFailed):
        check.less_equal("2 <= 1 (mpf scalars)", two, one)


# ------------------------------------------------------------------ the new kinds


def test_certified_less_equal_proves_and_refuses():
    from ribbonlib import certify

    out = check.certified_less_equal("interval below", certify.Enclosure(np.array([0.5]), np.array([1.0])), 1.0)
    assert out.passed and out.kind == "certified" and out.error == pytest.approx(1.0)
    # touching is proved (<=), overlapping is not, a false claim says so
    with pytest.raises(check.CheckFailed, match="enclosures overlap"):
        check.certified_less_equal("overlap", certify.Enclosure(np.array([0.5]), np.array([1.5])), 1.0)
    with pytest.raises(check.CheckFailed, match="some are false"):
        check.certified_less_equal("false", 3.0, certify.Enclosure(np.array([1.0]), np.array([2.0])))
    # floats are exact: the next float above 1 is not <= 1
    with pytest.raises(check.CheckFailed):
        check.certified_less_equal("one ulp", np.nextafter(1.0, 2.0), 1.0)
    # mpmath numbers are enclosed exactly, so 1/3 at 50 digits is below 0.3333...34
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
        check.certified_less_equal("third", third, mpmath.mpf("0.33333333333333333333333333333333333333333333333334"))


def test_statistical_limit_and_failure():
    limit = check.z_limit(1e-5, 1)
    assert limit == pytest.approx(4.4172, abs=1e-3)
    assert check.z_limit(1e-5, 100) > limit  # more entries, higher limit (union bound)
    out = check.statistical("mean", [0.0, 0.1], [0.0, 0.0], 0.05, alpha=1e-3)
    assert out.kind == "statistical" and out.error == pytest.approx(2.0) and out.alpha == 1e-3
    with pytest.raises(check.CheckFailed, match="largest \\|z\\| 6"):
        check.statistical("far off", 0.6, 0.0, 0.1)
    with pytest.raises(ValueError, match="se must be"):
        check.statistical("bad se", 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        check.statistical("bad alpha", 1.0, 1.0, 1.0, alpha=1.5)


def test_symbolic_simplifies_or_evaluates_exactly():
    import sympy as sp

    x, y = sp.symbols("x y", positive=True)
    out = check.symbolic("log of a product", sp.log(x * y), sp.log(x) + sp.log(y), simplify=sp.expand_log)
    assert out.kind == "symbolic" and out.passed
    check.symbolic("matrix identity", sp.Matrix([[x, 1], [0, x]]) ** 2, sp.Matrix([[x**2, 2 * x], [0, x**2]]))
    with pytest.raises(check.CheckFailed, match="reduces to"):
        check.symbolic("false identity", sp.sin(x) ** 2, 1 - sp.cos(x) ** 2 + x)
    check.symbolic("exact points", (x + 1) ** 3, x**3 + 3 * x**2 + 3 * x + 1,
                   at=[{x: k} for k in range(4)])
    with pytest.raises(ValueError, match="exact rationals"):
        check.symbolic("float point", x, x, at={x: 0.5})
    with pytest.raises(check.CheckFailed):
        check.symbolic("wrong at a point", x**2, x, at=[{x: sp.Rational(1, 2)}])
