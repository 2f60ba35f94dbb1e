"""ribbonlib.certify: the enclosures behind certified checks contain the exact values.

References are independent of the Arb code paths: exact rational arithmetic
(fractions), mpmath at 60 digits (another library and another algorithm), and the
closed-form float64/mpmath cloud covariance of :mod:`ribbonlib.cloud` (a cancellation-free
series algorithm, where certify uses the plain quotient at raised precision).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flint import ctx

from ribbonlib import certify, cloud

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(finite)
def test_floats_convert_exactly_and_round_outward(x):
    a = certify.to_arb(x)
    assert a.is_exact()
    m, e = a.man_exp()
    assert Fraction(int(m)) * Fraction(2) ** int(e) == Fraction(x)
    enc = certify.enclose(np.array([x]))
    assert enc.lo[0] == enc.hi[0] == x


@given(st.integers(-10**40, 10**40), st.integers(-2000, 2000))
def test_mpf_and_balls_round_outward(man, exp):
    with mpmath.workprec(200):  # the mpf holds man exactly
        x = mpmath.mpf((man, exp))
    enc = certify.enclose(np.array([x], dtype=object))
    exact = Fraction(man) * Fraction(2) ** exp
    lo, hi = enc.lo[0], enc.hi[0]
    # outward: lo <= x <= hi (±inf or ±max beyond the float range) ...
    if math.isfinite(lo):
        assert Fraction(lo) <= exact
    if math.isfinite(hi):
        assert exact <= Fraction(hi)
    # ... and tight: the two ends are equal or adjacent floats
    if math.isfinite(lo) and math.isfinite(hi) and abs(exact) < Fraction(np.finfo(float).max):
        assert lo == hi or np.nextafter(lo, np.inf) == hi


def test_enclosure_validates():
    with pytest.raises(ValueError, match="lo <= hi"):
        certify.Enclosure(np.array([2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="same shape"):
        certify.Enclosure(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="real number"):
        certify.to_arb("abc")
    with pytest.raises(ValueError, match="finite"):
        certify.to_arb(math.inf)


spectra = st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=6)


@settings(max_examples=30)
@given(spectra, st.data())
def test_cloud_matrices_contain_the_60_digit_covariance(lam, data):
    d = len(lam)
    lam = np.array(lam)
    b = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d)))
    frac = data.draw(st.floats(1e-6, 1.999))
    eta = frac / lam.max()
    T = data.draw(st.sampled_from([0, 1, 2, 7, 100, 10**4, 10**6]))
    s = data.draw(st.sampled_from([0.0, 1e-3, 1.0]))
    C = certify.cloud_covariance(lam, b, s, eta, T)
    ref = cloud.covariance(lam, b, s, eta, T, precision=60)
    with mpmath.workdps(60):
        for k in range(d):
            for l in range(d):
                ball = C[k, l]
                x = certify.to_arb(ref[k, l])
                # the 60-digit reference lies within its own rounding (1e-55 relative) of the ball
                slack = abs(ref[k, l]) * mpmath.mpf(10) ** -55
                lo, hi = certify.enclose(ball).lo, certify.enclose(ball).hi
                assert lo - float(slack) * 2 <= float(ref[k, l]) <= hi + float(slack) * 2
                assert ball.rel_accuracy_bits() >= certify.TARGET_BITS or ball.is_exact()
                del x


@settings(max_examples=40)
@given(st.integers(1, 7), st.integers(0, 2**32 - 1), st.sampled_from([1.0, 1e-8, 1e-20]))
def test_eigenvalue_enclosures_contain_mpmath_eigenvalues(d, seed, scale):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    w = np.sort(rng.uniform(-1, 1, d) * np.logspace(0, math.log10(scale), d))[::-1]
    A = (Q * w) @ Q.T
    A = 0.5 * (A + A.T)
    enc = certify.symmetric_eigenvalues(A)
    enc60 = certify.symmetric_eigenvalues(A, digits=60, balls=True)
    with mpmath.workdps(80):
        ev = mpmath.eigsy(mpmath.matrix(A.tolist()), eigvals_only=True)
        ref = sorted((ev[i] for i in range(d)), reverse=True)
    norm = float(np.max(np.abs(w)))
    for i in range(d):
        assert enc.lo[i] <= ref[i] <= enc.hi[i]
        # the 80-digit reference is itself off by ~1e-78 ||A||: compare with that slack
        with ctx.workprec(400):
            lo, hi = enc60[i].lower(), enc60[i].upper()
            slack = certify.to_arb(1e-75 * norm)
            assert lo - slack <= certify.to_arb(ref[i]) <= hi + slack
            # 60-digit eigenvectors resolve the eigenvalues to ~1e-58 ||A||
            assert float((hi - lo).upper()) <= 1e-50 * norm
    # float64 eigenvectors resolve eigenvalues to about d·u·||A||
    assert np.all(enc.hi - enc.lo <= 64 * d * np.finfo(float).eps * norm + 1e-300)


def test_eigenvalues_of_a_diagonal_ball_matrix_and_bad_vectors():
    A = np.diag([3.0, -1.0, 2.0])
    enc = certify.symmetric_eigenvalues(A)
    assert np.all(enc.lo <= [3.0, 2.0, -1.0]) and np.all([3.0, 2.0, -1.0] <= enc.hi)
    # a ball matrix: every symmetric matrix in it is covered
    box = certify.Enclosure(A - 1e-3, A + 1e-3)
    wide = certify.symmetric_eigenvalues(box)
    assert np.all(wide.lo <= enc.lo) and np.all(wide.hi >= enc.hi)
    assert np.all(wide.hi - wide.lo >= 2e-3)
    with pytest.raises(ValueError, match="orthonormal"):
        certify.symmetric_eigenvalues(A, vectors=2 * np.eye(3))
    with pytest.raises(ValueError, match="square"):
        certify.symmetric_eigenvalues(np.zeros((2, 3)))


def test_cloud_matrices_validate():
    with pytest.raises(ValueError, match="eta"):
        certify.cloud_matrices([1.0, 0.5], [1.0, 1.0], 2.0, 3)
    with pytest.raises(ValueError, match="lam"):
        certify.cloud_matrices([1.0, -0.5], [1.0, 1.0], 0.5, 3)
    with pytest.raises(ValueError, match="b must"):
        certify.cloud_matrices([1.0, 0.5], [1.0], 0.5, 3)
    with pytest.raises(ValueError, match="steps"):
        certify.cloud_matrices([1.0, 0.5], [1.0, 1.0], 0.5, -1)
