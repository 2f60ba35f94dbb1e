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
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from flint import arb, ctx
from mpmath.ctx_mp import MPContext

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
    assert certify.to_arb(x).is_exact()  # however long the mantissa
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
    for lo, hi in (([math.nan], [1.0]), ([0.0], [math.nan])):  # NaN at either end
        with pytest.raises(ValueError, match="NaN"):
            certify.Enclosure(np.array(lo), np.array(hi))
    # a ball that is not finite encloses nothing better than the whole line
    enc = certify.enclose(arb(0, math.inf))
    assert (enc.lo, enc.hi) == (-math.inf, math.inf)
    # rationals: exact when the denominator is a power of two, enclosed otherwise
    assert certify.to_arb(Fraction(3, 4)) == arb(0.75)
    third = certify.to_arb(Fraction(1, 3))
    assert _contains(third, Fraction(1, 3)) and third.rad() < 1e-15


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
    with pytest.raises(ValueError, match="square"):
        box = certify.Enclosure(np.zeros((2, 3)), np.ones((2, 3)))
        certify.symmetric_eigenvalues(box)
    # array_like: nested lists give the same enclosures as the array
    listed = certify.symmetric_eigenvalues(A.tolist())
    assert np.array_equal(listed.lo, enc.lo) and np.array_equal(listed.hi, enc.hi)



def test_eigenvector_source_and_entries_near_the_largest_float(monkeypatch):
    """Up to 15 digits the eigenvectors are numpy's, from 16 digits mpmath's; entries
    near the largest float are resolved as any others (to about d u ||A||)."""
    calls = []
    eigsy = mpmath.eigsy
    def spy(*args, **kwargs):
        calls.append(1)
        return eigsy(*args, **kwargs)

    monkeypatch.setattr(mpmath, "eigsy", spy)
    eps = np.finfo(float).eps
    for scale, cases in ((1.0, ((None, 0), (15, 0), (16, 1))), (1e307, ((None, 0),))):
        A = scale * np.array([[10.0, 1.0], [1.0, -10.0]])
        with mpmath.workdps(40):  # the eigenvalues are +-scale sqrt(101)
            exact = [mpmath.mpf(scale) * mpmath.sqrt(101) * sgn for sgn in (1, -1)]
        for digits, used in cases:
            enc = certify.symmetric_eigenvalues(A, digits=digits)
            assert len(calls) == used
            assert all(lo <= x <= hi for lo, hi, x in zip(enc.lo, enc.hi, exact))
            assert np.all(enc.hi - enc.lo <= 16 * eps * 10 * scale)
        calls.clear()



def test_cloud_matrices_validate():
    with pytest.raises(ValueError, match="eta"):
        certify.cloud_matrices([1.0, 0.5], [1.0, 1.0], 2.0, 3)
    with pytest.raises(ValueError, match="lam"):
        certify.cloud_matrices([1.0, -0.5], [1.0, 1.0], 0.5, 3)
    with pytest.raises(ValueError, match="b must"):
        certify.cloud_matrices([1.0, 0.5], [1.0], 0.5, 3)
    with pytest.raises(ValueError, match="steps"):
        certify.cloud_matrices([1.0, 0.5], [1.0, 1.0], 0.5, -1)
    # one bit of relative accuracy is a valid request (the least one)
    S, _ = certify.cloud_matrices([1.0, 0.5], [1.0, 1.0], 0.5, 3, target_bits=1)
    G, _, _ = certify.time_averages([1.0, 0.5], 0.5, 3, bits=1)
    assert S.nrows() == G.nrows() == 2
    for call in (lambda: certify.cloud_matrices([1.0], [1.0], 0.5, 3, target_bits=0),
                 lambda: certify.time_averages([1.0], 0.5, 3, bits=0)):
        with pytest.raises(ValueError, match="bits"):
            call()
    # eta lam >= 2 exactly although the float64 product rounds below 2: an mpmath eta
    # 0.49 ulp above the float just below 2/lam (found by exact search)
    lam = 1.7637746189766141
    below = 1.1339317271502918
    assert below * lam < 2.0
    with mpmath.workprec(200):
        eta = mpmath.mpf(below) + mpmath.mpf(math.ulp(below)) * mpmath.mpf("0.49")
    assert float(eta) == below and Fraction(below) * Fraction(lam) < 2
    assert _exact_value(certify.to_arb(eta)) * Fraction(lam) >= 2
    with pytest.raises(ValueError, match="exactly"):
        certify.cloud_matrices([lam, 0.5], [1.0, 1.0], eta, 3)
    certify.cloud_matrices([lam, 0.5], [1.0, 1.0], below, 3)  # the float is stable


# ------------------------------------------------------- the ends of the float range


def _float_neighbours(exact: Fraction) -> tuple[float, float]:
    """The largest float <= exact and the smallest float >= exact (exact rationals)."""
    top = Fraction(np.finfo(float).max)
    if exact > top:
        return float(np.finfo(float).max), math.inf
    if exact < -top:
        return -math.inf, -float(np.finfo(float).max)
    f = float(exact)  # correctly rounded
    lo = f if Fraction(f) <= exact else math.nextafter(f, -math.inf)
    hi = f if Fraction(f) >= exact else math.nextafter(f, math.inf)
    return lo, hi


@settings(max_examples=80)
@given(
    st.integers(1, 2**80),
    st.sampled_from([-1, 1]),
    st.one_of(st.integers(-1160, -1000), st.integers(940, 1030)),
)
@example(3, 1, -1076)  # 0.75 * 2^-1074 rounds up to the smallest subnormal
@example(5, -1, -1077)
@example(2**53 - 1, 1, 971)  # the largest float, exactly
@example(2**53 + 1, 1, 971)  # just above it
def test_enclosures_are_the_neighbouring_floats_at_the_range_ends(man, sign, exp):
    """Subnormals and values beyond the largest float: the ends are exactly the two
    floats around the number (or the number itself), from exact rational arithmetic;
    beyond the range the outer end is infinite and the inner one the largest float."""
    exact = sign * Fraction(man) * Fraction(2) ** exp
    x = mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(sign * man, exp))  # exact
    ball = certify.to_arb(x)
    assert ball.is_exact()
    lo, hi = _float_neighbours(exact)
    for enc in (certify.enclose(ball), certify.enclose(np.array([ball], dtype=object))):
        assert (float(enc.lo.ravel()[0]), float(enc.hi.ravel()[0])) == (lo, hi)


def _exact_value(x) -> Fraction:
    m, e = x.man_exp()
    return Fraction(int(m)) * Fraction(2) ** int(e)


def _contains(ball, q: Fraction) -> bool:
    """``q`` lies in the ball (decided in exact rationals)."""
    if not ball.is_finite():
        return False
    mid, rad = _exact_value(ball.mid()), _exact_value(ball.rad())
    return mid - rad <= q <= mid + rad


@settings(max_examples=30)
@given(
    st.lists(st.floats(-45.0, 0.0), min_size=1, max_size=4),
    st.floats(-1.0, math.log10(1.99)),
    st.integers(0, 6),
    st.integers(0, 2),
    st.data(),
)
def test_time_averages_and_cloud_matrices_against_exact_sums(logs, log_top, T, c, data):
    """The balls contain the time averages summed term by term in exact rationals,
    G_kl = (1/n) sum_t (r_k r_l)^t, m_k = (1/n) sum_t r_k^t, cov = G - m m^T (and
    S = u u^T cov, noise = lam G_kk / d), to the relative accuracy asked for, also where
    G - m m^T cancels to 1e-90 of its terms (eta lam down to 1e-45) and at T = 0."""
    lam = 10.0 ** np.array(logs)
    eta = 10.0**log_top / lam.max()
    assume(eta * lam.max() < 2)
    d, n = lam.size, T + 1
    b = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d)))
    bits = (40, 80, 200)[c]
    G, m, cov = certify.time_averages(lam, eta, T, bits=bits)
    S, noise = certify.cloud_matrices(lam, b, eta, T, target_bits=bits)
    r = [1 - Fraction(eta) * Fraction(x) for x in lam]
    m_ex = [sum(rk**t for t in range(n)) / n for rk in r]
    balls = [*G.entries(), *cov.entries(), *m, *S.entries(), *noise]
    assert all(x.is_exact() or x.rel_accuracy_bits() >= bits for x in balls)
    for k in range(d):
        assert _contains(m[k], m_ex[k])
        for l in range(d):
            g = sum((r[k] * r[l]) ** t for t in range(n)) / n
            assert _contains(G[k, l], g)
            assert _contains(cov[k, l], g - m_ex[k] * m_ex[l])
            # S_kl = sqrt(lam_k lam_l) b_k b_l cov_kl: its square is rational
            s_kl = Fraction(b[k]) * Fraction(b[l]) * (g - m_ex[k] * m_ex[l])
            with ctx.workprec(2 * S[k, l].mid().bits() + 64):
                s2 = Fraction(lam[k]) * Fraction(lam[l]) * s_kl**2
                assert _contains(S[k, l] ** 2, s2)
            assert not (S[k, l] * (1 if s_kl >= 0 else -1) < 0)
        g_kk = sum(r[k] ** (2 * t) for t in range(n)) / n
        assert _contains(noise[k], Fraction(lam[k]) * g_kk / d)
    if T == 0:  # a single point: no signal spread, noise lam_k / d
        assert all(x.is_zero() for x in S.entries())


def test_vectors_are_refused_from_a_distance_one_half_from_orthonormal():
    """``V = [[1, 0], [1/2, 1]]``: ``VᵀV − I = [[1/4, 1/2], [1/2, 0]]`` has Frobenius
    norm exactly 3/4 (exact fractions), between the documented limit 1/2 and 1, so the
    vectors are refused; ``V = [[1, 0], [1/8, 1]]`` (norm below 1/2) is accepted and
    encloses the eigenvalues 3 and -1."""
    A = np.diag([3.0, -1.0])
    for c, far in ((0.5, True), (0.125, False)):
        V = np.array([[1.0, 0.0], [c, 1.0]])
        F = [[Fraction(x) for x in row] for row in (V.T @ V - np.eye(2))]
        norm2 = sum(x * x for row in F for x in row)
        assert (norm2 >= Fraction(1, 4)) == far
        if far:
            assert norm2 == Fraction(9, 16)
            with pytest.raises(ValueError, match="orthonormal"):
                certify.symmetric_eigenvalues(A, vectors=V)
        else:
            enc = certify.symmetric_eigenvalues(A, vectors=V)
            assert np.all(enc.lo <= [3.0, -1.0]) and np.all([3.0, -1.0] <= enc.hi)


def test_mpf_of_another_mpmath_context_converts_at_the_working_precision():
    """An mpmath number of a separate context (not an instance of ``mpmath.mpf``, so
    taken through its ``_mpf_``) keeps the bits of the current mpmath precision: 1/3 at
    200 bits converts to exactly its 200-bit dyadic value, not to the nearest double."""
    other = MPContext()
    other.prec = 200
    x = other.mpf(1) / 3
    assert not isinstance(x, mpmath.mpf)
    sign, man, exp, _ = x._mpf_
    with mpmath.workprec(200):
        a = certify.to_arb(x)
    assert a.is_exact()
    exact = (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
    assert certify._key(a) == exact
    assert certify._key(a) != Fraction(1 / 3)


def test_to_arb_of_a_long_mpf_is_exact():
    """An mpf with more bits than the working precision converts exactly: ``1 + 2^-250``
    (251 bits) at 53 bits is a ball of radius 0 whose difference from 1, evaluated at
    600 bits, is exactly ``2^-250``; likewise for a 400-bit odd mantissa."""
    with mpmath.workprec(400):
        x = mpmath.mpf(1) + mpmath.mpf(2) ** -250
        y = mpmath.mpf(2**399 + 12345) * mpmath.mpf(2) ** -7
    with ctx.workprec(53):
        bx, by = certify.to_arb(x), certify.to_arb(y)
    assert bx.is_exact() and by.is_exact()
    with ctx.workprec(600):
        assert bool(bx - 1 == arb(2) ** -250)
        assert bool(by * 128 == arb(2**399 + 12345))


def test_enclose_keeps_tuples_and_float_arrays_as_given():
    """``enclose((lo, hi))`` is the enclosure ``[lo, hi]`` it states; a float array is
    taken as exact, ``lo = hi = x`` entry for entry, also for infinite entries (ends of
    an enclosure may be ``±inf``) and with the sign of ``-0.0`` kept."""
    enc = certify.enclose((np.array([0.0, 1.0]), np.array([0.5, 3.0])))
    assert enc.lo.tolist() == [0.0, 1.0] and enc.hi.tolist() == [0.5, 3.0]
    x = np.array([-np.inf, -0.0, 1.5, np.inf])
    enc = certify.enclose(x)
    assert enc.lo.tolist() == x.tolist() and enc.hi.tolist() == x.tolist()
    assert np.signbit(enc.lo[1]) and np.signbit(enc.hi[1])


def test_symmetric_eigenvalues_refuses_vectors_exactly_half_from_orthonormal():
    """The documented refusal ``||VᵀV − I||_F >= 1/2`` at equality: ``V`` block
    diagonal with blocks ``[[1, 1/2], [−1/2, 1]]`` has ``VᵀV = (5/4) I_4``, so
    ``||VᵀV − I||_F = sqrt(4/16) = 1/2`` exactly (dyadic entries, no rounding)."""
    B = np.array([[1.0, 0.5], [-0.5, 1.0]])
    V = np.zeros((4, 4))
    V[:2, :2] = B
    V[2:, 2:] = B
    assert (V.T @ V == 1.25 * np.eye(4)).all()
    with pytest.raises(ValueError, match="orthonormal"):
        certify.symmetric_eigenvalues(np.eye(4), vectors=V)
