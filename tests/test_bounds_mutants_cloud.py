"""ribbonlib.bounds: the signal-width routes and the cloud balls behind them, in detail.

The statements of :func:`~ribbonlib.bounds.signal_width_bounds` and
:func:`~ribbonlib.bounds.cloud_spectrum_bounds` (and of the helpers they are made of:
the ball enclosures of the cloud, the greedy point-set route, the split route joined by
Weyl's inequality, the exact reading of the inputs) and of
:func:`~ribbonlib.bounds.zolotarev_enclosure` at the places the tests of
``test_bounds.py`` do not reach: each route as its stated formula, not merely as some
upper bound; the types of the results in float64 and at a precision; inputs given as
mpmath numbers with more bits than a float, below the float range, or with ``η·λ``
just above 2; the stated working precisions. The references are independent:
:func:`ribbonlib.certify.cloud_matrices` for the signal, closed forms in Arb at a much
higher precision and in exact rational arithmetic (:class:`fractions.Fraction`) written
here, the greedy zeros in mpmath, and the Zolotarev numbers and Chebyshev tails of the
library's own tested public functions.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ribbonlib import bounds, certify

U = np.finfo(float).eps / 2


# ------------------------------------------------------------------------ references


def frac(x) -> Fraction:
    """The exact value of a float, an int or an mpmath number."""
    if isinstance(x, mpmath.mpf):
        sign, man, exp, _ = x._mpf_
        return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(x)


def arb_frac(ball) -> Fraction:
    """The exact value of an exact Arb ball (radius 0)."""
    assert ball.is_exact()
    man, exp = ball.mid().man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


# ------------------------------------------------------------ _accurate, _exact_inputs


def test_accurate_refuses_non_finite_and_unresolved_balls():
    """``_accurate`` is true exactly when every ball is finite and exact or resolved
    to the bits asked for (its docstring): a ball with ``rel_accuracy_bits`` equal to
    the request passes, one bit more is refused, an infinite or NaN ball is refused
    whatever the request, and exact balls pass any request."""
    with ctx.workprec(200):
        v = arb(1) / 3
        bits = v.rel_accuracy_bits()
        assert bounds._accurate([v], bits)
        assert not bounds._accurate([v], bits + 1)
        assert not bounds._accurate([arb(1), arb(1, 0.5)], 10)
        assert not bounds._accurate([arb("inf")], 0)
        assert not bounds._accurate([arb("nan")], 0)
        assert not bounds._accurate([arb(1), arb(0, "inf")], -1000)
        assert bounds._accurate([arb(0), arb(3), arb(2) ** -1000], 10**6)
        assert bounds._accurate([], 10)


def long_mpf(num: int, den: int, bits: int = 100):
    """``num/den`` rounded to an mpf of ``bits`` bits (more than a float holds)."""
    with mpmath.workprec(bits):
        return mpmath.mpf(num) / den


def frobenius_30(lam, b, eta, T) -> arb:
    """``||S||_F`` of the exact signal (:func:`ribbonlib.certify.cloud_matrices`)."""
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=300)
    with ctx.workprec(300):
        d = S.nrows()
        return sum((S[k, l] ** 2 for k in range(d) for l in range(d)), arb(0)).sqrt()


@pytest.mark.parametrize("which", ["lam", "b", "eta"])
def test_mpf_inputs_are_taken_exactly(which):
    """An mpf input with more bits than a float (``λ`` in an object array) is read
    exactly (the docstrings: the bounds are about exactly the given inputs):
    ``zolotarev_closed[0]`` is
    ``||S||_F·min(1, 4)`` rounded up to 30 digits, so it lies in
    ``[||S||_F, ||S||_F (1 + 10^-29)]`` for the exact ``S`` of the mpf input (the
    rounding to 30 digits, ``2^-100``, plus ~64-bit-resolved balls at most), while its
    float64 neighbour moves ``S`` by about ``2^-80`` relative, 10^5 times that."""
    lam, b, eta, T = [mpmath.mpf(0.75), 0.5], [1.0, -0.25], 0.5, 6
    if which == "lam":
        lam[0] = long_mpf(2**80 + 3, 2**80)
    elif which == "b":
        b[0] = long_mpf(2**80 + 3, 2**80)
    else:
        eta = long_mpf(2**80 + 3, 2**81)
    lam = np.array(lam, dtype=object)  # (a list is read as float64, as everywhere)
    got = bounds.signal_width_bounds(
        lam, b, eta, T, route="zolotarev_closed", precision=30
    )
    ref = frobenius_30(lam, b, eta, T)
    with ctx.workprec(300):
        g = certify.to_arb(got[0])
        assert g >= ref and g <= ref * (1 + arb(10) ** -29)


def test_mpf_ground_truth_below_the_float_range_is_a_mode():
    """``b_2 = 10^-400`` (an mpf, zero as a float) is a non-zero mode: the rank is 2
    and ``σ_2(S) >= det S / tr S > 0`` (proved in Arb from the exact S), so the bound
    on ``σ_2`` at 30 digits is positive and at least that."""
    lam, b, eta, T = [1.0, 0.5], [1.0, mpmath.mpf("1e-400")], 0.5, 5
    S, _ = certify.cloud_matrices(lam, b, eta, T, target_bits=300)
    with ctx.workprec(3000):
        low = (S[0, 0] * S[1, 1] - S[0, 1] ** 2) / (S[0, 0] + S[1, 1])
        assert low > 0
        for name, vals in bounds.signal_width_bounds(
            lam, b, eta, T, route="all", precision=30
        ).items():
            assert certify.to_arb(vals[1]) >= low, name


@pytest.mark.parametrize("which", ["lam", "b", "eta"])
def test_other_inputs_are_read_as_their_float64_value(which):
    """Numbers that are not mpf are read as their float64 value (``_exact_inputs``), as
    the float64 checks read them: an int that a float cannot hold (``3^40``; for ``λ``
    in an object array, which keeps it as given) gives the
    same bounds, to the last of 30 digits, as ``float(3^40)``; the two differ by
    ``2^-54`` relative, far above the 30-digit rounding."""
    big = 3**40
    assert Fraction(float(big)) != big
    lam, b, eta, T = [0.75, 0.5], [1.0, -0.25], 0.5, 6
    if which == "lam":
        lam, eta = np.array([big, big // 2], dtype=object), 2.0**-66
    elif which == "b":
        b = [big, 1.0]
    else:
        lam, eta = [2.0**-66, 2.0**-67], big
    as_float = {
        "lam": [float(v) for v in lam],
        "b": [float(v) for v in b],
        "eta": float(eta),
    }
    args = dict(lam=lam, b=b, eta=eta)
    args[which] = as_float[which]
    got = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=30)
    ref = bounds.signal_width_bounds(**args, steps=T, route="all", precision=30)
    for name in bounds.SIGNAL_ROUTES:
        assert list(got[name]) == list(ref[name]), name
    lo, up = bounds.cloud_spectrum_bounds(lam, b, 0.1, eta, T, precision=30)
    lo2, up2 = bounds.cloud_spectrum_bounds(
        args["lam"], args["b"], 0.1, args["eta"], T, precision=30
    )
    assert list(lo) == list(lo2) and list(up) == list(up2)


def test_cloud_balls_form_eta_lambda_exactly_for_long_mpf_inputs():
    """``a = ηλ`` is exact (``_cloud_balls``' docstring) also when ``η`` and ``λ`` are
    mpf with 100-bit mantissas, whose product needs up to 200 bits, more than the
    working precision (128 bits at the float64 target): each ``a_k`` is an exact ball
    equal to the rational product."""
    eta = long_mpf(1, 7)
    lam = [long_mpf(1, 3), long_mpf(2, 5), mpmath.mpf(0.25)]
    parts = bounds._cloud_balls(
        np.array(lam, dtype=object), np.array([1.0, 0.5, 2.0], dtype=object), eta, 9, 64
    )
    assert parts["wp"] < 200
    for x, a in zip(lam, parts["a"]):
        assert a.is_exact() and arb_frac(a) == frac(eta) * frac(x)


# ------------------------------------------------------------------ result types


@pytest.mark.parametrize(
    "lam,b,T",
    [
        ([1.0, 0.5, 0.25], [1.0, 0.0, -2.0], 7),  # a zero mode: padded
        ([1.0, 0.5], [1.0, 2.0], 1),  # rank one: zeros beyond it
        ([1.0, 0.5], [1.0, 2.0], 0),  # T = 0: all zero
        ([1.0, 0.5], [0.0, 0.0], 4),  # b = 0: all zero
    ],
)
def test_route_types_in_float64_and_at_a_precision(lam, b, T):
    """``signal_width_bounds`` returns float64 arrays when ``precision`` is omitted and
    object arrays of mpmath.mpf at a precision (its docstring), every entry, the zeros
    beyond the rank and of the modes with ``b_k = 0`` included, for every route."""
    rf = bounds.signal_width_bounds(lam, b, 0.5, T, route="all")
    rm = bounds.signal_width_bounds(lam, b, 0.5, T, route="all", precision=30)
    for name in bounds.SIGNAL_ROUTES:
        assert isinstance(rf[name], np.ndarray) and rf[name].dtype == np.float64, name
        assert rf[name].shape == (len(lam),)
        assert rm[name].dtype == object and rm[name].shape == (len(lam),)
        assert all(isinstance(v, mpmath.mpf) for v in rm[name]), name
        assert all(float(x) <= y for x, y in zip(rm[name], rf[name]))


# ------------------------------------------------------- the routes as their formulas


@st.composite
def problems(draw, d_max: int = 5):
    """``(lam, b, eta, T)`` with ``T >= 1``: power-law, exponential, spread (to 1e8)
    and clustered spectra with exact ties, in any order; ground truths with zeros and
    signs; ``ηλ_max`` log-uniform in [1e-6, 1.9], exactly 1 or next to 2."""
    d = draw(st.integers(1, d_max))
    kind = draw(st.sampled_from(["power", "exponential", "spread", "ties"]))
    if kind == "power":
        lam = np.arange(1, d + 1, dtype=float) ** -draw(st.floats(0.1, 3.0))
    elif kind == "exponential":
        lam = draw(st.floats(0.05, 0.99)) ** np.arange(d, dtype=float)
    elif kind == "spread":
        x = draw(st.lists(st.floats(0.0, 1.0), min_size=d, max_size=d))
        lam = 10.0 ** (-draw(st.floats(0.0, 8.0)) * np.array(x))
    else:
        lam = np.array(draw(st.lists(st.sampled_from([1.0, 0.5, 0.01]), min_size=d,
                                     max_size=d)))
    lam = lam * 10.0 ** draw(st.floats(-2.0, 2.0))
    lam = lam[draw(st.permutations(range(d)))]
    b = np.array(draw(st.lists(st.sampled_from([1.0, -0.5, 2.0, 0.0, 0.03]),
                               min_size=d, max_size=d)))
    top = lam.max()
    ek = draw(st.sampled_from(["log", "log", "one", "near two"]))
    if ek == "one":
        eta = 1.0 / top
    elif ek == "near two":
        eta = (2.0 - 10.0 ** -draw(st.floats(1.0, 12.0))) / top
    else:
        eta = 10.0 ** draw(st.floats(-6.0, math.log10(1.9))) / top
    while eta * top >= 2.0:
        eta = math.nextafter(eta, 0.0)
    T = draw(st.one_of(st.integers(1, 6), st.integers(7, 300), st.integers(301, 10**6)))
    return lam, b, eta, T


def route_reference(lam, b, eta, T) -> dict:
    """The a priori, ``"discrete"`` and ``"split"`` routes by their formulas.

    The modes with ``b_k != 0``, fastest first (stable in the given order); ``S`` from
    :func:`ribbonlib.certify.cloud_matrices`, ``U G_∞ U / n`` and the leading-block
    Frobenius norms from closed forms in Arb at 300 bits, the Zolotarev numbers of the
    leading blocks from :func:`ribbonlib.bounds.zolotarev_number` at 40 digits, the
    Chebyshev errors ``min(tail, cap)`` from :func:`ribbonlib.bounds.chebyshev_tails`
    at 30 digits and the half range of ``r^t`` in mpmath; the greedy zeros of the
    discrete route in mpmath (exactly zero at their own node).

    Returns
    -------
    dict
        ``"zolotarev_closed"``, ``"zolotarev"``, ``"uncentred"``, ``"infinite"``,
        ``"discrete"``, ``"split"``: lists of mpf, one per index below the rank
        ``min(#{b_k != 0}, T)``.
    """
    keep = [k for k in sorted(range(len(lam)), key=lambda k: -lam[k]) if b[k] != 0]
    lam_k, b_k = lam[keep], b[keep]
    d, n = len(keep), T + 1
    S, _ = certify.cloud_matrices(lam_k, b_k, eta, T, target_bits=300)
    with ctx.workprec(300):
        a = [certify.to_arb(eta) * certify.to_arb(x) for x in lam_k]
        u = [certify.to_arb(x).sqrt() * certify.to_arb(y) for x, y in zip(lam_k, b_k)]
        Gi = [[u[k] * u[l] / (n * (a[k] + a[l] - a[k] * a[l])) for l in range(d)]
              for k in range(d)]

        def lead(X, s):
            sq = (X[k][l] ** 2 for k in range(s) for l in range(s))
            return sum(sq, arb(0)).sqrt()

        Sl = [[S[k, l] for l in range(d)] for k in range(d)]
        mu = [u[k] * (1 - (1 - a[k]) ** n) / (n * a[k]) for k in range(d)]
        UGU = [[Sl[k][l] + mu[k] * mu[l] for l in range(d)] for k in range(d)]
        balls = dict(
            fU=[lead(UGU, d)],
            fS=[lead(Sl, s) for s in range(1, d + 1)],
            fG=[lead(Gi, s) for s in range(1, d + 1)],
            h=[(2 - x) / x for x in a],
            dS=[S[k, k] for k in range(d)],
            dG=[Gi[k][k] for k in range(d)],
            u2=[x * x for x in u],
        )
    mids = {key: [certify.to_mpf(x) for x in v] for key, v in balls.items()}  # exact
    with mpmath.workdps(50):
        return _reference_rest(lam_k, eta, T, **mids)


def _reference_rest(lam_k, eta, T, fS, fG, fU, h, dS, dG, u2) -> dict:
    """The rest of :func:`route_reference`, in the current mpmath context."""
    d = len(lam_k)
    rank = min(d, T)
    ks = list(range(d + 1))
    Z = []
    for s in range(1, d + 1):
        if lam_k[0] == lam_k[s - 1]:
            Z.append([mpmath.mpf(1)] + [mpmath.mpf(0)] * d)
        else:
            E, F = (h[0], h[s - 1]), (-h[s - 1], -h[0])
            Zs = bounds.zolotarev_number(E, F, ks, precision=40)
            Z.append([mpmath.mpf(z) for z in Zs])
    if lam_k[0] == lam_k[-1]:
        Zc = Z[-1]
    else:  # 4 exp(-pi^2 k / log(16 gamma)), gamma the cross-ratio of [h_1, h_d], -[...]
        g = (h[0] + h[-1]) ** 2 / (4 * h[0] * h[-1])
        Zc = [4 * mpmath.exp(-mpmath.pi**2 * k / mpmath.log(16 * g)) for k in ks]
    Zd = Z[-1]
    a_priori = {
        "zolotarev_closed": [fS[-1] * min(1, Zc[i // 2]) for i in range(rank)],
        "zolotarev": [fS[-1] * min(1, Zd[i // 2]) for i in range(rank)],
        "uncentred": [fU[0] * min(1, Zd[i // 2]) for i in range(rank)],
        "infinite": [fG[-1] * min(1, Zd[i]) for i in range(rank)],
    }
    xs = [mpmath.mpf(eta) * mpmath.mpf(x) for x in lam_k]  # exact products (106 bits)
    betas = [-T * mpmath.log1p(-x) / 2 if x < 1 else mpmath.mpf(0) for x in xs]
    tails = bounds.chebyshev_tails(betas, d - 1, precision=30)
    eps = []
    for k, x in enumerate(xs):
        cap = -mpmath.expm1(T * mpmath.log1p(-x)) / 2 if x < 1 else x / 2
        eps.append(
            [min(cap, mpmath.mpf(tails[k, m])) if x < 1 else cap for m in range(d)]
        )
    terms = [[u2[k] * eps[k][m] ** 2 for m in range(d)] for k in range(d)]

    def greedy(diag, nu):
        r2, best, cur = [mpmath.mpf(1)] * d, [], None
        for _ in range((d - 1) // nu + 1):
            t = [diag[j] * r2[j] for j in range(d)]
            cur = mpmath.fsum(t) if cur is None else min(cur, mpmath.fsum(t))
            best.append(cur)
            j = max(range(d), key=lambda i: t[i])
            if t[j] > 0:
                z = xs[j]
                r2 = [r2[i] * ((z - xs[i]) / (xs[i] + z - xs[i] * z)) ** 2
                      for i in range(d)]
        return [best[i // nu] for i in range(d)]

    disc = [min(x, y) for x, y in zip(greedy(dS, 2), greedy(dG, 1))]
    split = []
    for l in range(rank):
        cands = []
        for s in range(d + 1):
            def A(i):
                if i >= s:
                    return mpmath.mpf(0)
                z2, z1 = Z[s - 1][i // 2], Z[s - 1][i]
                return min(fS[s - 1] * min(1, z2), fG[s - 1] * min(1, z1))

            def B(j):
                return mpmath.fsum(terms[k][j] for k in range(s, d))

            for i0 in range(min(s, l) + 1):
                cands.append((mpmath.sqrt(A(i0)) + mpmath.sqrt(B(l - i0))) ** 2)
        split.append(min(cands))
    return {"discrete": disc[:rank], "split": split, **a_priori}


def assert_is_formula(got, ref, prec):
    """``got`` (a route rounded up) is ``ref`` rounded up and no more.

    At 30 digits the route is the 30-digit rounding up of balls resolved to far more
    bits, and the reference is good to ~35 digits: ``|got/ref − 1| <= 10^-25``. In
    float64 each route is its exact value rounded up through at most eight float
    operations of one ulp each (conversion, sum and square, each followed by one step
    up): ``ref (1 − 10^-25) <= got <= ref (1 + 16u)``, plus the smallest subnormal for
    results below the float range.
    """
    with mpmath.workdps(60):
        for i, (g, r) in enumerate(zip(got, ref)):
            g, r = mpmath.mpf(g), mpmath.mpf(r)
            assert g >= r * (1 - mpmath.mpf(10) ** -25), (i, g, r)
            if prec is None:
                assert g <= r * (1 + 16 * U) + 2.0**-1070, (i, g, r)
            else:
                assert g <= r * (1 + mpmath.mpf(10) ** -25), (i, g, r)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(problems(d_max=7))
@example(p=(np.array([0.3, 1.0, 0.02]), np.array([1.0, 2.0, -0.5]), 0.9, 40))
@example(p=(np.array([1.0, 0.5, 1.0, 0.01]), np.array([1.0, -0.5, 2.0, 1.0]), 0.5, 9))
@example(p=(np.full(4, 0.5), np.array([1.0, -0.5, 2.0, 1.0]), 0.5, 9))  # a point
@example(p=(0.7 ** np.arange(7.0), np.ones(7), 0.3, 50))
def test_signal_width_routes_are_their_formulas(p):
    """The a priori routes are ``scale·min(1, Z_⌊(i−1)/ν⌋)`` (``||S||_F`` with the
    closed form ``4 exp(−π²k/log 16γ)`` and with the Zolotarev number, ``ν = 2``;
    ``||U G U||_F``, ``ν = 2``; ``||U G_∞ U/n||_F``, ``ν = 1``; a point spectrum has
    ``Z_k = 0`` for ``k >= 1``). The ``"split"`` route is
    ``min over s and i + j = l + 1`` of
    ``(sqrt σ̂_i(S_FF) + sqrt σ̂_j(S_SS))²``, with ``σ̂_i(S_FF)`` the better of
    ``||S_FF||_F min(1, Z_⌊(i−1)/2⌋)`` and ``||U G_∞ U/n||_F min(1, Z_{i−1})`` on the
    leading ``s x s`` block (zero for ``i > s``) and ``σ̂_j(S_SS)`` the Chebyshev sum
    over the other modes; the ``"discrete"`` route is the better of the greedy
    point-set bounds for ``S`` (``ν = 2``) and ``U G_∞ U/n`` (``ν = 1``), each the
    smallest value over the first ``k`` greedy zeros (the docstrings). All, in
    float64 and at 30 digits, are these formulas rounded up (tolerances in
    ``assert_is_formula``), zero beyond the rank."""
    lam, b, eta, T = p
    assume(np.count_nonzero(b) > 0)
    ref = route_reference(lam, b, eta, T)
    rank = len(ref["split"])
    for prec in (None, 30):
        got = bounds.signal_width_bounds(lam, b, eta, T, route="all", precision=prec)
        for name in ref:
            assert_is_formula(got[name][:rank], ref[name], prec)
            assert all(v == 0 for v in got[name][rank:])


# ------------------------------------------------------------------ the cloud balls


def contains(ball, q: Fraction) -> bool:
    """The exact rational ``q`` lies in ``ball`` (decided with a much tighter ball)."""
    with ctx.workprec(4 * max(ctx.prec, 1000)):
        return ball.contains(arb(q.numerator) / q.denominator)


@pytest.mark.parametrize(
    "lam,b,eta,T,prec",
    [
        ([1.0, 0.5, 0.25], [1.0, -2.0, 0.5], 0.5, 3, None),
        ([1.0, 0.5, 0.25], [1.0, 1.0, -0.5], 0.5, 1, None),  # n = 2
        ([1.5, 0.5], [1.0, 2.0], 1.0, 1, 30),
        ([1.5, 1.0, 0.1], [1.0, 0.3, 2.0], 1.0, 2, 30),  # r = -1/2, 0, 9/10
        ([1.0, 0.75], [1.0, 1.0], 1.9, 5, None),  # both r < 0
        ([1.0, 0.5], [1.0, 1.0], 1.0, 0, None),  # T = 0: every half range is 0
        ([1.0, 0.5], [1.0, 1.0], 1.5, 0, 30),
        ([1.0, 1e-30], [1.0, 3.0], 0.5, 10, None),  # slow: ~190 bits cancel in G − m mᵀ
        ([1.0, 1e-25], [1.0, 3.0], 0.5, 10, 30),
    ],
)
def test_cloud_balls_are_the_closed_forms(lam, b, eta, T, prec):
    """Every ball of ``_cloud_balls`` contains its closed form, written here in exact
    rationals for small ``T`` (``r^n`` expanded; the half range of ``r^t`` as the
    largest minus the smallest of ``r^0 .. r^T``, halved, by brute force; ``β`` and
    ``u = sqrt(λ) b`` through their squares and exponentials), and is resolved to the
    ``target`` bits asked for; the working precision returned is ``max(128, target +
    64)`` times a power of two (its docstring), the start itself when nothing cancels,
    a doubling of it when the slow mode's cancellation exceeds the 64 guard bits."""
    target = bounds._target_bits(prec)
    lam_o = np.array([float(x) for x in lam], dtype=object)
    parts = bounds._cloud_balls(lam_o, np.array(b, dtype=object), eta, T, target)
    wp, start = parts["wp"], max(128, target + 64)
    slow = min(lam) < 1e-20
    if slow:
        assert wp > start and wp % start == 0 and (wp // start).bit_count() == 1
    else:
        assert wp == start
    d, n = len(lam), T + 1
    a = [frac(eta) * frac(x) for x in lam]
    r = [1 - x for x in a]
    m = [(1 - x**n) / (n * y) for x, y in zip(r, a)]
    with ctx.workprec(wp):
        for k in range(d):
            assert parts["a"][k].is_exact() and arb_frac(parts["a"][k]) == a[k]
            assert parts["pos"][k] == (r[k] > 0)
            powers = [r[k] ** t for t in range(T + 1)]
            exact = {
                "h": (2 - a[k]) / a[k],
                "m": m[k],
                "cap": (max(powers) - min(powers)) / 2,
            }
            for key, q in exact.items():
                assert contains(parts[key][k], q), (key, k)
            u2 = parts["u"][k] ** 2
            assert contains(u2, frac(lam[k]) * frac(b[k]) ** 2)
            beta = parts["beta"][k]
            if r[k] > 0:  # e^(-2 beta / T) = r
                if T > 0:
                    with ctx.workprec(4 * wp):
                        assert contains((-2 * beta / T).exp(), r[k])
                else:
                    assert beta.is_zero()
            else:
                assert beta is None
            for l in range(d):
                c = a[k] + a[l] - a[k] * a[l]
                G = (1 - (r[k] * r[l]) ** n) / (n * c)
                exact = (("G", G), ("cov", G - m[k] * m[l]), ("gin", 1 / (n * c)))
                for key, q in exact:
                    assert contains(parts[key][k][l], q), (key, k, l)
        flat = (
            [x for key in ("G", "cov") for row in parts[key] for x in row]
            + [x for key in ("h", "u", "m", "cap") for x in parts[key]]
            + [x for x in parts["beta"] if x is not None]
        )
        for x in flat:
            assert x.is_exact() or x.rel_accuracy_bits() >= target


# ------------------------------------------------------------ zolotarev_enclosure

ENCLOSURE_CASES = [
    ((0.25, 1.0), (-1.0, -0.25), [0, 1, 2, 5, 9]),
    ((1.0, 3.0), (4.0, 7.5), [1, 3, 4, 7]),
    ((mpmath.mpf(1) / 3, 2.0), (-9.0, -2.5), [1, 2, 6, 11, 13]),
]


def number_ball(E, F, ks) -> list:
    """Balls around :func:`ribbonlib.bounds.zolotarev_number` at 60 digits, of the
    radius its docstring states: ``zolotarev_rtol(60)·(1 + |ln Z_k|)`` relative."""
    out = []
    with mpmath.workdps(80):
        for z in bounds.zolotarev_number(E, F, ks, precision=60):
            rad = bounds.zolotarev_rtol(60) * (1 + abs(mpmath.log(z))) * z
            out.append(arb(certify.to_arb(z).mid(), certify.to_arb(rad).mid()))
    return out


@pytest.mark.parametrize("E,F,ks", ENCLOSURE_CASES)
def test_zolotarev_enclosure_default_is_30_digits(E, F, ks):
    """``digits`` defaults to 30 (the signature's documented default): the balls are
    the same balls, midpoint and radius, as with ``digits=30``."""
    got = bounds.zolotarev_enclosure(E, F, ks)
    ref = bounds.zolotarev_enclosure(E, F, ks, digits=30)
    for x, y in zip(got, ref):
        assert x.mid() == y.mid() and x.rad() == y.rad()


@pytest.mark.parametrize("digits", [1, 7, 16, 30, 45])
@pytest.mark.parametrize("E,F,ks", ENCLOSURE_CASES)
def test_zolotarev_enclosure_works_at_its_stated_precision(E, F, ks, digits):
    """The balls are computed at ``⌈digits·log₂ 10⌉ + 48`` bits (the docstring): every
    midpoint fits in that many bits, every ball is resolved to ``digits`` (relative
    accuracy at least ``digits·log₂ 10`` bits), and each overlaps the 60-digit
    :func:`ribbonlib.bounds.zolotarev_number` widened by its stated error."""
    bits = math.ceil(digits * math.log2(10)) + 48
    got = bounds.zolotarev_enclosure(E, F, ks, digits=digits)
    for x, z in zip(got, number_ball(E, F, ks)):
        assert x.mid().bits() <= bits
        assert x.is_exact() or x.rel_accuracy_bits() >= digits * math.log2(10)
        assert x.overlaps(z)


# ------------------------------------------------------------------ cloud spectrum


@pytest.mark.parametrize(
    "lam,b,s,eta,T",
    [
        ([1.0, 0.5, 0.25], [1.0, -2.0, 0.5], 0.3, 0.5, 7),
        ([2.0, 1.0, 0.1, 0.01], [1.0, 0.0, 1.0, 3.0], 1.0, 0.9, 40),
        ([1.0, 1.0], [0.6, 0.8], 0.01, 1.9, 3),
    ],
)
def test_cloud_spectrum_bounds_resolve_to_the_working_precision(lam, b, s, eta, T):
    """With ``precision`` the eigenvectors come from mpmath at that many digits and
    resolve every eigenvalue to about ``d·u·||C||`` with ``u = 10^-precision`` (the
    docstring): at 30 digits ``upper − lower <= 10^3 d 10^-30 tr C`` (a thousandfold
    margin on the stated size; float64 eigenvectors would leave ~10^-16), and the
    float64 bounds enclose the 30-digit ones (both are proved)."""
    d = len(lam)
    lo, up = bounds.cloud_spectrum_bounds(lam, b, s, eta, T, precision=30)
    lof, upf = bounds.cloud_spectrum_bounds(lam, b, s, eta, T)
    with mpmath.workdps(40):
        tr = mpmath.fsum(up)
        for m in range(d):
            assert up[m] - lo[m] <= 1000 * d * mpmath.mpf(10) ** -30 * tr
            assert lof[m] <= lo[m] and up[m] <= upf[m]


def eta_next_to_two_over(lam: float, offset: int):
    """``2/λ + offset·2^-190`` as a 200-bit mpf (``η·λ − 2`` is ~1e-57 from 0)."""
    with mpmath.workprec(200):
        return mpmath.mpf(2) / mpmath.mpf(lam) + offset * mpmath.mpf(2) ** -190


def test_mpf_eta_is_checked_exactly():
    """An mpf ``η`` just above ``2/λ`` (``η·λ − 2 ≈ 2e-57``, in rationals) rounds
    to a float that passes the float64 check (``fl(fl(η)·λ) < 2``); it is outside the
    documented domain ``η·max(λ) < 2`` and both functions refuse it (they returned
    negative "upper bounds" of ~-1e56 before), while the mpf just below ``2/λ`` is
    accepted and gives non-negative bounds on the signal."""
    lam = 3.4660180792803144
    over, under = eta_next_to_two_over(lam, 1), eta_next_to_two_over(lam, -1)
    assert frac(over) * frac(lam) > 2 > frac(under) * frac(lam)
    assert float(over) * lam < 2.0
    with pytest.raises(ValueError, match="exactly"):
        bounds.signal_width_bounds([lam, 1.0], [1.0, 1.0], over, 5, precision=30)
    with pytest.raises(ValueError, match="exactly"):
        bounds.cloud_spectrum_bounds([lam, 1.0], [1.0, 1.0], 0.1, over, 5)
    sig = bounds.signal_width_bounds([lam, 1.0], [1.0, 1.0], under, 5, precision=30)
    lo, up = bounds.cloud_spectrum_bounds([lam, 1.0], [1.0, 1.0], 0.1, under, 5)
    assert all(v > 0 for v in sig) and all(0 < x <= y for x, y in zip(lo, up))


def test_mpf_eta_just_below_two_over_lambda_is_accepted():
    """``η = (2^191 − 4)/(49·2^190)`` (an exact 184-bit mpf) and ``λ = 49`` give
    ``η·λ = 2 − 2^-188`` exactly, inside the domain, and ``fl(fl(η)·λ) < 2``: the exact
    check must decide it from the full 190-bit product (a product rounded to fewer
    bits is 2 and would refuse it). Both functions accept it, and the bound on
    ``σ_1`` holds for the exact ``S`` (proved in Arb)."""
    N = (2**191 - 4) // 49
    assert N * 49 == 2**191 - 4
    with mpmath.workprec(400):
        eta = mpmath.mpf(N) / mpmath.mpf(2) ** 190
    assert frac(eta) * 49 == 2 - Fraction(1, 2**188) and float(eta) * 49.0 < 2.0
    sig = bounds.signal_width_bounds([49.0], [1.0], eta, 3, precision=30)
    S, _ = certify.cloud_matrices([49.0], [1.0], eta, 3, target_bits=300)
    assert certify.to_arb(sig[0]) >= S[0, 0] > 0
    lo, up = bounds.cloud_spectrum_bounds([49.0], [1.0], 0.1, eta, 3)
    assert 0 < lo[0] <= up[0]
