"""Round-off budgets of the explicit (Rayleigh--Ritz) route of ``analytic_bounds``.

Every certified quantity of ``_explicit_signal``, ``_explicit_cloud``,
``_affine_pieces`` and ``_ritz_block_lower`` is a float value widened by a stated
round-off budget: ``up_k(x) = x + ((2k + 2) u |x| + 2^-960)`` and ``down_k(x)``
likewise (:func:`ribbonlib.phase._up`), where ``x`` is the float value of a named
expression. The tests recompute each budget in exact rational arithmetic
(``fractions.Fraction``) from the float inputs and the float intermediates the
docstrings name, with one rounding to nearest per float operation (Python's
``float(Fraction)`` rounds correctly), and check the returned value against it.

Tolerance (:func:`near`): half an ulp of the returned value (the last rounding to
nearest of ``x ± margin``) plus ``4u`` of the margin (the float evaluation of the
margin ``|x|·c + 2^-960`` itself rounds at most twice), plus any slack passed
explicitly. A budget constant changed by one (``k → k + 1`` moves the value by
``2u|x|``, at least one ulp), a sign flipped or a term dropped falls outside it.
Inputs are built so that every float intermediate is exact or one named rounding
(dyadic entries, diagonal matrices, exact unit eigenvectors, exact cancellations).
"""

from __future__ import annotations

import math
from fractions import Fraction as Fr

import numpy as np
import pytest

from ribbonlib import phase

U = Fr(1, 2**53)
TINY = Fr(1, 2**960)


def fl(x) -> float:
    """The float nearest to the exact rational ``x`` (one rounding to nearest)."""
    return float(Fr(x))


def up(x, k) -> Fr:
    """The exact budget ``x + (2k + 2) u |x| + 2^-960`` of ``_up(x, k)``."""
    x = Fr(x)
    return x + (2 * Fr(k) + 2) * U * abs(x) + TINY


def down(x, k) -> Fr:
    """The exact budget ``x − (2k + 2) u |x| − 2^-960`` of ``_down(x, k)``."""
    x = Fr(x)
    return x - (2 * Fr(k) + 2) * U * abs(x) - TINY


def near(got, ref, slack=Fr(0)) -> bool:
    """``got`` is ``ref`` up to the rounding of its own evaluation: half an ulp of
    ``got`` plus ``2u`` of a margin ``(2k + 2) u |x| + 2^-960`` (its own two roundings;
    ``k <= 48`` here, so ``2u·100u|x|`` covers the relative part)."""
    g = Fr(float(got))
    tol = Fr(math.ulp(float(got))) / 2 + slack + 2 * U * (TINY + 100 * U * abs(Fr(ref)))
    return abs(g - Fr(ref)) <= tol


def seq_cumsum(x) -> list:
    """``np.cumsum`` as its float values: sequential sums, each rounded to nearest."""
    out, s = [], 0.0
    for v in x:
        s = fl(Fr(s) + Fr(float(v)))
        out.append(s)
    return out


# ------------------------------------------------------------------ _explicit_signal


def signal_reference(sig: dict, d: int, rank: int) -> dict:
    """The stated formulas of :func:`phase._explicit_signal` for the tails and
    ``sig_up``, from the returned ``sig_lo`` and ``trS_hi``, as exact budgets."""
    sl = [float(v) for v in sig["sig_lo"]]
    csum = seq_cumsum(sl)
    head = [0.0] + [fl(down(c, d)) for c in csum]
    rsum = seq_cumsum(sl[::-1])[::-1]
    tail_lo = [down(c, d) for c in rsum] + [Fr(0)]
    tail_up = []
    run = None
    for i in range(d + 1):
        v = max(up(fl(Fr(sig["trS_hi"]) - Fr(head[i])), 1), Fr(0))
        v = Fr(0) if i >= rank else v
        run = v if run is None else min(run, v)
        tail_up.append(run)
    return {"head": head, "tail_lo": tail_lo, "tail_up": tail_up}


def sig_up_reference(sig: dict, d: int, rank: int) -> list:
    """``sig_up[i] = min(up1(tail_up[i] − tail_lo[i+1]), min_{j<=i}
    up1(tail_up[j]/(i − j + 1)))``, clipped at 0, running minimum, 0 from ``rank``,
    from the returned (float) tails."""
    tu = [float(v) for v in sig["tail_up"]]
    tl = [float(v) for v in sig["tail_lo"]]
    out, run = [], None
    for i in range(d):
        trick = up(fl(Fr(tu[i]) - Fr(tl[i + 1])), 1)
        spread = min(up(fl(Fr(tu[j]) / (i - j + 1)), 1) for j in range(i + 1))
        v = max(min(trick, spread), Fr(0))
        run = v if run is None else min(run, v)
        out.append(Fr(0) if i >= rank else run)
    return out


@pytest.mark.parametrize(
    "diag, rank",
    [
        ([1.75, 0.75, 0.375], 3),  # tails by subtraction (Sterbenz-exact trick)
        ([1.0, 1.0, 1.0], 3),  # ties: every trick is a difference of neighbours
        ([3.0, 2.0, 0.0, 0.0], 2),  # zero from the rank on
        ([1.5e-300, 1.0e-300, 5e-301], 3),  # below 1e-280: the 2^-960 shows
        ([0.875, 0.0625, 0.0], 3),  # spread binds (a small second eigenvalue)
    ],
)
def test_explicit_signal_tails_and_upper_bounds_by_their_budget(diag, rank):
    """``tail_lo``, ``tail_up`` and ``sig_up`` of ``_explicit_signal`` are the stated
    budgets of their float expressions (see the module docstring for the tolerance),
    recomputed from the returned ``sig_lo`` and ``trS_hi`` of a diagonal ``S`` (E =
    0): every difference, quotient and running minimum of the docstring, exactly."""
    S = np.diag(np.array(diag, dtype=float))
    d = S.shape[0]
    sig = phase._explicit_signal(S, np.zeros((d, d)), rank, 8)
    ref = signal_reference(sig, d, rank)
    for i in range(d + 1):
        assert near(sig["tail_lo"][i], ref["tail_lo"][i]), i
        assert near(sig["tail_up"][i], ref["tail_up"][i]), i
    for i, v in enumerate(sig_up_reference(sig, d, rank)):
        assert near(sig["sig_up"][i], v), i
    # sound: the exact spectrum lies inside
    lam = sorted(diag, reverse=True)
    for i in range(d):
        assert sig["sig_lo"][i] <= lam[i] <= sig["sig_up"][i]


def test_explicit_signal_tail_upper_at_zero_is_the_trace_bound():
    """``tail_up[0] = up1(trS_hi − 0)``: exactly ``trS_hi (1 + 4u) + 2^-960`` up to
    its last rounding; and at a scale far below 1 the clip at zero does not lift it."""
    for scale in (1.0, 3.0, 1e-3, 1e-200):
        S = np.diag(np.array([0.75, 0.5]) * scale)
        sig = phase._explicit_signal(S, np.zeros((2, 2)), 2, 8)
        t = sig["trS_hi"]
        assert near(sig["tail_up"][0], up(t, 1))
        assert sig["tail_up"][0] < 2 * t
        assert sig["sig_up"][0] < 2 * t


def exact_quadratic(Y: np.ndarray, M: np.ndarray, i: int) -> Fr:
    """``y_iᵀ M y_i`` in exact arithmetic."""
    y = [Fr(float(v)) for v in Y[:, i]]
    n = len(y)
    return sum(y[k] * Fr(float(M[k, m])) * y[m] for k in range(n) for m in range(n))


def ritz_reference(S: np.ndarray, E: np.ndarray, sig: dict) -> dict:
    """The stated budgets of the Ritz-vector quantities of ``_explicit_signal``, from
    the returned ``Y`` (the inputs make every product of ``Y``, ``S``, ``E`` exact):
    ``q_lo_i = max(down1(y_iᵀSy_i − err_i), 0)``, ``err_i = up1(rnd_i + up_{2d+2}(|y_i|ᵀ
    E|y_i|))``, ``rnd_i = 1.01 (2d + 4) u |y_i|ᵀ|S||y_i|``, ``f = up2(F(YᵀY − I) +
    1.01 (d + 2) u F(|Y|ᵀ|Y|))`` with ``F = _frob_up``, ``yy_hi = up_{d+1}(|y_1|²)``,
    ``one_f = up1(1 + f)``, ``ray_lo = down1(q_lo_1/yy_hi)``, ``head_lo = [0,
    down_{k+2}(Σ_{i<=j} q_lo_i/one_f)]``."""
    Y = sig["Y"]
    d, k = Y.shape
    aY, aS = np.abs(Y), np.abs(S)
    q_lo, errs = [], []
    for i in range(k):
        quad = exact_quadratic(Y, S, i)
        rnd = fl(Fr(fl(Fr(1.01) * (2 * d + 4))) * U * exact_quadratic(aY, aS, i))
        err = up(fl(Fr(rnd) + Fr(fl(up(exact_quadratic(aY, E, i), 2 * d + 2)))), 1)
        errs.append(err)
        q_lo.append(fl(max(down(fl(quad - Fr(fl(err))), 1), Fr(0))))
    FY = Y.T @ Y - np.eye(k)
    G = aY.T @ aY
    f = fl(
        up(
            fl(
                Fr(float(phase._frob_up(FY)))
                + fl(Fr(fl(Fr(1.01) * (d + 2))) * U * Fr(float(phase._frob_up(G))))
            ),
            2,
        )
    )
    yy = sum(Fr(float(v)) ** 2 for v in Y[:, 0])
    yy_hi = fl(up(fl(yy), d + 1))
    one_f = fl(up(fl(1 + Fr(f)), 1))
    ray = down(fl(Fr(q_lo[0]) / Fr(yy_hi)), 1) if yy_hi > 0 else Fr(0)
    cs = seq_cumsum(q_lo)
    head = [Fr(0)] + [down(fl(Fr(c) / Fr(one_f)), k + 2) for c in cs]
    return {"q_lo": q_lo, "err": errs, "f": f, "yy_hi": up(fl(yy), d + 1),
            "one_f": up(fl(1 + Fr(f)), 1), "ray_lo": ray, "head_lo": head}


def check_ritz(S: np.ndarray, E: np.ndarray, sig: dict) -> dict:
    ref = ritz_reference(S, E, sig)
    Y = sig["Y"]
    assert np.array_equal(sig["y2"], Y[:, 0] * Y[:, 0])
    assert near(sig["yy_hi"], ref["yy_hi"])
    assert near(sig["one_f"], ref["one_f"])
    assert near(sig["ray_lo"], ref["ray_lo"])
    for j, h in enumerate(ref["head_lo"]):
        assert near(sig["head_lo"][j], h), j
    return ref


def test_explicit_signal_ritz_quantities_at_exact_unit_vectors():
    """A diagonal ``S`` (dyadic entries) has exact unit Ritz vectors: ``quad = S_ii``,
    the round-off term ``1.01 (2d + 4) u S_ii`` and the error term ``E_ii`` enter
    ``q_lo``, ``YᵀY = I`` makes ``f`` its round-off term alone. Every returned Ritz
    quantity is its stated budget (module docstring), recomputed exactly."""
    S = np.diag([1.75, 0.75, 0.375, 0.0])
    E = np.diag([2.0**-30, 2.0**-20, 0.0, 0.0])
    sig = phase._explicit_signal(S, E, 3, 8)
    Y = sig["Y"]
    assert Y.shape[1] == 3
    assert np.array_equal(np.abs(Y), np.abs(np.round(Y)))  # exact unit vectors
    ref = check_ritz(S, E, sig)
    assert ref["q_lo"][0] < 1.75


@pytest.mark.parametrize("e", [0.0, 2.0**-39 - 2.0**-45, 2.0**-42])
def test_explicit_signal_rayleigh_quotient_where_round_off_dominates(e):
    """Without pivots (``p_max = 0``) the test vector is ``sqrt(diag S) = (1, 1)``;
    ``S = [[1, −(1 − ε)], [−(1 − ε), 1]]`` (``ε = 2^-40``, PSD) gives the exact
    ``quad = 2ε`` against ``|y|ᵀ|S||y| = 4 − 2ε``, so the round-off term ``≈ 32u`` is
    a visible part of ``q_lo``; ``E = e·e_1e_1ᵀ`` then leaves ``quad − e`` small, so
    the ``(4d + 6)u e`` of the error term shows. Compared with the exact budgets."""
    eps = 2.0**-40
    S = np.array([[1.0, -(1.0 - eps)], [-(1.0 - eps), 1.0]])
    E = np.array([[e, 0.0], [0.0, 0.0]])
    sig = phase._explicit_signal(S, E, 2, 0)
    assert np.array_equal(sig["Y"], np.ones((2, 1)))
    ref = check_ritz(S, E, sig)
    assert 0 < ref["q_lo"][0] < 2 * eps - e


@pytest.mark.parametrize("d", [4, 16, 64])
def test_explicit_signal_orthonormal_test_vector_f_is_its_round_off(d):
    """``S = J/d`` (all entries ``1/d``, rank 1) without pivots: the test vector
    ``y = (1/√d)·1`` ... is ``sqrt(diag S)``, of unit length exactly for ``d = 4^j``,
    so ``YᵀY − I = 0`` and ``f = up2(2^-480-ish + 1.01 (d + 2) u)``: ``one_f`` and the
    head bounds show every constant of that round-off term."""
    S = np.full((d, d), 1.0 / d)
    sig = phase._explicit_signal(S, np.zeros((d, d)), 1, 0)
    assert float(sig["Y"][:, 0] @ sig["Y"][:, 0]) == 1.0
    check_ritz(S, np.zeros((d, d)), sig)
    assert 1 - 1e-12 < sig["head_lo"][1] < 1.0  # σ_1 = 1: below it, and tight


def test_explicit_signal_rayleigh_quotient_of_a_short_test_vector():
    """``|y_1|² < 1`` (``y = sqrt(diag S)`` of a small diagonal ``S``): ``ray_lo`` is
    still the quotient ``down1(q_lo_1/yy_hi)``, just below the exact ``y_1ᵀSy_1/|y_1|²
    = Σ S_kk²/Σ S_kk`` and so below ``σ_1``."""
    S = np.diag([0.25, 0.0625])
    sig = phase._explicit_signal(S, np.zeros((2, 2)), 2, 0)
    assert sig["yy_hi"] < 1
    check_ritz(S, np.zeros((2, 2)), sig)
    exact = (0.25**2 + 0.0625**2) / (0.25 + 0.0625)
    assert exact * (1 - 1e-14) < sig["ray_lo"] <= exact <= 0.25


# ------------------------------------------------------------------ _ritz_block_lower


def hadamard(n: int) -> np.ndarray:
    """Sylvester's Hadamard matrix of order ``n = 2^j`` (entries ±1)."""
    H = np.ones((1, 1))
    while H.shape[0] < n:
        H = np.block([[H, H], [H, -H]])
    return H


def frob(X) -> Fr:
    """``_frob_up`` of a float matrix (the helper the docstring names), exactly."""
    return Fr(float(phase._frob_up(np.asarray(X, dtype=float))))


def lowest(H: np.ndarray, eH: float) -> float:
    """``lo_p`` of :func:`phase._eig_enclosure` for one matrix and one ``eH``."""
    return float(phase._eig_enclosure(H[None], np.array([eH]))[0][0, -1])


def ritz_block_reference(sig: dict, n_lo: np.ndarray, K: int):
    """The stated budget of :func:`phase._ritz_block_lower` as an interval for each
    of ``(A, B)``.

    ``f = up2(F(WᵀW − I) + 1.01 (d + 2) u F(|W|ᵀ|W|))``, ``eA = up4((1 + f) eS +
    1.01 (2d + 4) u F(|W|ᵀ|S||W|) + 2u F(WᵀSW))``, ``eB = up2(1.01 (d + 4) u
    F(|W|ᵀ diag(n_lo) |W|))``, ``a_lo, b_lo`` the smallest lower ends of
    :func:`phase._eig_enclosure` at ``(WᵀSW, eA)`` and ``(Wᵀ diag(n_lo) W, eB)``, and
    the pieces ``down1(a_lo/one_f)``, ``down1(b_lo/one_f)``, ``one_f = up1(1 + f)``.
    The inputs are dyadic with few bits, so every matrix product is exact whatever
    its order of summation; the scalar expressions are float operations left to
    right (as Python evaluates them), each the float nearest to its exact value, and
    ``up_k`` the float nearest to its budget (the code rounds ``x`` and its margin
    separately: the same float but at a tie within ``(2k + 2) u²|x|`` of a midpoint,
    which these inputs avoid). ``a_lo``, ``b_lo`` are then those of the code, and
    each piece is exact before its last rounding."""
    W = sig["Y"][:, :K]
    d = W.shape[0]
    S, aW = sig["S"], np.abs(W)

    def prod(c, x) -> float:  # fl(c·x) for a float constant c and a float x
        return fl(Fr(c) * Fr(float(x)))

    fr = frob(W.T @ W - np.eye(K))
    f = fl(up(fl(fr + Fr(prod(1.01 * (d + 2) * 2.0**-53, frob(aW.T @ aW)))), 2))
    A = W.T @ S @ W
    t1 = prod(fl(1 + Fr(f)), sig["eS"])
    t2 = prod(1.01 * (2 * d + 4) * 2.0**-53, frob(aW.T @ np.abs(S) @ aW))
    t3 = prod(2.0 * 2.0**-53, frob(A))
    eA = fl(up(fl(Fr(fl(Fr(t1) + Fr(t2))) + Fr(t3)), 4))
    Bm = (W.T * n_lo[None, :]) @ W
    eB = fl(up(prod(1.01 * (d + 4) * 2.0**-53, frob((aW.T * n_lo[None, :]) @ aW)), 2))
    one_f = fl(up(fl(1 + Fr(f)), 1))
    out = []
    for H, e in ((A, eA), (Bm, eB)):
        x = lowest(H, e)
        out.append([down(fl(Fr(x) / Fr(one_f)), 1)] * 2)
    return f, out


def check_ritz_block(sig: dict, n_lo: np.ndarray, K: int):
    f, ((a0, a1), (b0, b1)) = ritz_block_reference(sig, n_lo, K)
    (A, B), = phase._ritz_block_lower(sig, n_lo, K)
    for got, lo, hi in ((A[0], a0, a1), (B[0], b0, b1)):
        tol = Fr(math.ulp(float(got))) / 2 + 2 * U * (TINY + 100 * U * abs(hi))
        assert lo - tol <= Fr(float(got)) <= hi + tol, (float(got), float(lo))
    return f, float(A[0]), float(B[0])


def test_ritz_block_lower_f_and_one_f_by_their_budget():
    """``W`` = 8 columns of the Hadamard matrix of order 256 over 16 (exactly
    orthonormal, dense): ``f`` is its round-off term ``1.01·258·u·F(|W|ᵀ|W|)`` (about
    ``2100u``) alone, ``S = I`` and ``n_lo = 1/4`` make ``WᵀSW = I`` and ``Wᵀ diag(n)
    W = I/4`` exact. Both pieces are their stated budgets: every constant of ``f`` and
    ``one_f`` moves them by at least one ulp."""
    d, K = 256, 8
    W = hadamard(d)[:, :K] / 16.0
    sig = {"Y": W, "S": np.eye(d), "eS": 0.0}
    f, a, b = check_ritz_block(sig, np.full(d, 0.25), K)
    assert 2000 * 2.0**-53 < f < 2200 * 2.0**-53
    assert 1 - 1e-11 < a < 1 and 0.25 * (1 - 1e-11) < b < 0.25


@pytest.mark.parametrize("eS", [0.0, 2.0**-41])
def test_ritz_block_lower_error_of_a_where_it_is_most_of_the_bound(eS):
    """``W = (e_1, e_2)`` of ``d = 32`` and ``S`` with block ``[[1, 1 − ε], [1 − ε,
    1]]`` (``ε = 2^-40``): ``λ_min(WᵀSW) = ε`` is a few hundred times ``eA``, so the
    round-off terms ``1.01 (2d + 4) u F(|W|ᵀ|S||W|)`` and ``2u F(A)`` (``eS = 0``),
    or the factor ``(1 + f)`` of ``eS`` (``eS = 2^-41``), are a visible part of the
    piece ``A``. Checked against the stated budget; sound: below ``ε``."""
    d, eps = 32, 2.0**-40
    S = np.zeros((d, d))
    S[:2, :2] = [[1.0, 1.0 - eps], [1.0 - eps, 1.0]]
    W = np.eye(d)[:, :2]
    n_lo = np.full(d, 0.5)
    _, a, b = check_ritz_block({"Y": W, "S": S, "eS": eS}, n_lo, 2)
    assert 0 < a < eps - eS
    assert 0.5 * (1 - 1e-13) < b < 0.5


@pytest.mark.parametrize("nu", [2.0**-42, 1.05e-14])
def test_ritz_block_lower_error_of_b_where_it_is_most_of_the_bound(nu):
    """``n_lo = (1, ν, 0, ...)`` (``d = 64``, ``W = (e_1, e_2)``): ``Wᵀ diag(n_lo) W =
    diag(1, ν)`` and ``b_lo ≈ ν − eB`` with ``eB = up2(1.01 (d + 4) u F(diag(1, ν)))
    ≈ 7.6e-15``, about 3% of ``ν = 2^-42``: every constant of ``eB`` shows; at ``ν =
    1.05e-14`` the bound is about a quarter of ``eB``, so even the margin ``6u eB`` of
    ``eB`` itself is several ulps of it."""
    d = 64
    n_lo = np.zeros(d)
    n_lo[:2] = [1.0, nu]
    S = np.zeros((d, d))
    S[0, 0] = S[1, 1] = 1.0
    _, a, b = check_ritz_block({"Y": np.eye(d)[:, :2], "S": S, "eS": 0.0}, n_lo, 2)
    assert 0 < b < nu


def test_ritz_block_lower_is_empty_when_vacuous():
    """No piece when ``a_lo < 0`` (``S = 0``, whatever ``b_lo``), when ``b_lo < 0``
    (``n_lo = 0``, whatever ``a_lo``), or when ``f >= 1/2`` (``W = 1.25 e_1``:
    ``f ≈ 0.5625``), nor with fewer than ``K`` Ritz vectors."""
    d = 8
    e1 = np.eye(d)[:, :1]
    one = np.diag(np.ones(d))
    assert phase._ritz_block_lower({"Y": e1, "S": np.zeros((d, d)), "eS": 0.0},
                                   np.ones(d), 1) == []
    assert phase._ritz_block_lower({"Y": e1, "S": one, "eS": 0.0}, np.zeros(d), 1) == []
    assert phase._ritz_block_lower({"Y": 1.25 * e1, "S": one, "eS": 0.0},
                                   np.ones(d), 1) == []
    assert phase._ritz_block_lower({"Y": e1, "S": one, "eS": 0.0}, np.ones(d), 2) == []
    assert len(phase._ritz_block_lower({"Y": e1, "S": one, "eS": 0.0},
                                       np.ones(d), 1)) == 1


def test_ritz_block_lower_is_empty_at_f_one_half():
    """The guard is ``f >= 1/2``: at ``W = w e_1`` with ``w = 1.2247448713915843``
    (just above ``sqrt(1.5)``, found by a scan) and ``d = 64`` the stated budget of
    ``f`` is exactly ``1/2`` (checked here in exact arithmetic), and no piece comes
    back although ``a_lo, b_lo > 0``; one ulp of ``w`` lower gives ``f < 1/2`` and a
    piece."""
    d = 64
    n_lo = np.ones(d)
    w0 = 1.2247448713915843
    for w, want in ((w0, 0), (math.nextafter(w0, 0), 1)):
        W = np.zeros((d, 1))
        W[0, 0] = w
        sig = {"Y": W, "S": np.eye(d), "eS": 0.0}
        f, _ = ritz_block_reference(sig, n_lo, 1)
        assert (f == 0.5) == (want == 0) and f <= 0.5
        assert len(phase._ritz_block_lower(sig, n_lo, 1)) == want


# ------------------------------------------------------------------ _explicit_cloud


def tails_of(x, is_up: bool) -> list:
    """``_tails``: ``t_j = Σ_{m>j} x_m`` (sequential from the end) rounded out by
    ``up_d``/``down_d``, as floats (each the float nearest to its budget)."""
    d = len(x)
    rev = seq_cumsum([float(v) for v in x][::-1])[::-1]
    return [fl(up(v, d) if is_up else down(v, d)) for v in rev] + [0.0]


def add(a, b) -> Fr:
    """The float sum ``fl(a + b)`` as an exact rational."""
    return Fr(fl(Fr(float(a)) + Fr(float(b))))


def cloud_reference(sig: dict, n: tuple, s: float) -> dict:
    """The stated budgets of :func:`phase._explicit_cloud` for one scale ``s``, every
    intermediate the float nearest to its own budget and each output left exact
    (before its last rounding): see the docstring of ``_explicit_cloud``."""
    d = sig["sig_lo"].size
    nf, nlo, nhi = (r[0] for r in phase._noise_rows(n, np.array([s])))
    los = sorted((float(v) for v in nlo), reverse=True)
    his = sorted((float(v) for v in nhi), reverse=True)
    tn_lo, tn_hi = tails_of(los, False), tails_of(his, True)
    tr_lo_x = max(down(add(sig["trS_lo"], tn_lo[0]), 1), Fr(0))
    tr_hi_x = up(add(sig["trS_hi"], tn_hi[0]), 1)
    tr_lo, tr_hi = fl(tr_lo_x), fl(tr_hi_x)
    low = [max(los[m], fl(down(add(sig["sig_lo"][m], los[-1]), 1))) for m in range(d)]
    W = phase._ritz_basis(sig["Y"], nf, phase._NOISE_AXES)
    ritz, _ = phase._poincare_lower(sig["S"], sig["eS"], nf[None], nlo[None],
                                    nhi[None], W)
    for m in range(ritz.shape[1]):
        low[m] = max(low[m], float(ritz[0, m]))
    diag = max(fl(down(add(sig["var_lo"][k], nlo[k]), 1)) for k in range(d))
    y2 = sum(Fr(float(a)) * Fr(float(b)) for a, b in zip(nlo, sig["y2"]))
    q = fl(down(fl(down(fl(y2), d + 2)) / Fr(sig["yy_hi"]), 1))
    ray = fl(down(add(sig["ray_lo"], q), 1))
    low[0] = max(low[0], diag, ray)
    low = [max(v, 0.0) for v in low]
    weyl = [
        fl(up(min(add(sig["sig_up"][i], his[m - i]) for i in range(m + 1)), 1))
        for m in range(d)
    ]
    total = fl(down(seq_cumsum(low)[-1], d))
    others = [max(fl(down(add(total, -low[m]), 1)), 0.0) for m in range(d)]
    upp = [min(weyl[m], fl(up(add(tr_hi, -others[m]), 1))) for m in range(d)]
    head_lo = [0.0] + [fl(down(c, d)) for c in seq_cumsum(low)]
    head_up = [0.0] + [fl(up(c, d)) for c in seq_cumsum(upp)]
    tu_s, tl_s = sig["tail_up"], sig["tail_lo"]
    tail_up = [
        min(
            fl(up(min(add(tu_s[i], tn_hi[m - i]) for i in range(m + 1)), 1)),
            fl(up(add(tr_hi, -head_lo[m]), 1)),
        )
        for m in range(d + 1)
    ]
    low_tails = tails_of(low, False)
    tail_lo = [
        max(
            fl(down(add(tl_s[m], tn_lo[m]), 1)),
            fl(down(add(tr_lo, -head_up[m]), 1)),
            low_tails[m],
        )
        for m in range(d + 1)
    ]
    allow = fl(up(Fr(fl(4.0 * d * U)) * Fr(tr_hi), 2))
    dallow = fl(d * Fr(allow))
    return {
        "trace_lo": tr_lo_x,
        "trace_hi": tr_hi_x,
        "lower": [Fr(fl(down(add(v, -allow), 1))) - TINY for v in low],
        "upper": [Fr(fl(up(add(v, allow), 1))) + TINY for v in upp],
        "tail_lo": [
            max(Fr(fl(down(add(v, -dallow), 2))) - TINY, Fr(0)) for v in tail_lo
        ],
        "tail_up": [Fr(fl(up(add(v, dallow), 2))) + TINY for v in tail_up],
        "pre": (low, upp, tail_lo, tail_up, allow),
    }


def check_cloud(sig: dict, n: tuple, s: float, ulps: int = 0):
    ref = cloud_reference(sig, n, s)
    lower, upper, _, tail_lo, tail_up, tr_lo, tr_hi = phase._explicit_cloud(
        sig, n, np.array([s])
    )
    assert near(tr_lo[0], ref["trace_lo"]) and near(tr_hi[0], ref["trace_hi"])
    got = {"lower": lower[0], "upper": upper[0], "tail_lo": tail_lo[0],
           "tail_up": tail_up[0]}
    for key, vals in got.items():
        for m, v in enumerate(vals):
            slack = ulps * Fr(math.ulp(float(v)))
            assert near(v, ref[key][m], slack), (key, m, float(v), float(ref[key][m]))
    return ref


def cloud_input(diag, noise, scale=1.0, rank=None):
    """A diagonal signal (``E = 0``) and the unit noise ``(n̂, n̂_lo, n̂_hi)`` with
    ``n̂_lo = n̂ − 2^-20 n̂`` and ``n̂_hi = n̂ + 2^-20 n̂`` (dyadic, exact)."""
    S = np.diag(np.array(diag, dtype=float) * scale)
    d = S.shape[0]
    sig = phase._explicit_signal(S, np.zeros((d, d)), d if rank is None else rank, 8)
    nf = np.array(noise, dtype=float) * scale
    return sig, (nf, nf - nf * 2.0**-20, nf + nf * 2.0**-20)


@pytest.mark.parametrize(
    "diag, noise, s",
    [
        ([1.75, 0.75, 0.375, 0.0], [0.5, 0.25, 0.125, 0.0625], 1.0),
        ([1.75, 0.75, 0.0, 0.0], [0.5, 0.25, 0.125, 0.0625], 0.0),
        ([0.0, 0.0, 0.0, 0.0], [0.5, 0.25, 0.125, 0.0625], 2.0),
        ([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], 0.5),
    ],
)
def test_explicit_cloud_every_output_by_its_budget(diag, noise, s):
    """``lower``, ``upper``, the tails and the trace bounds of ``_explicit_cloud`` are
    their stated budgets, recomputed from the signal summary of a diagonal ``S`` and a
    dyadic noise: pure signal, pure noise, ties (all equal)."""
    sig, n = cloud_input(diag, noise)
    check_cloud(sig, n, s)


@pytest.mark.parametrize("scale", [1e-300, 1e-295, 1e-280])
def test_explicit_cloud_budget_below_the_underflow_scale(scale):
    """At scales near ``1e-300`` the absolute ``2^-960`` of every rounding (and the
    extra ``∓2^-960`` of the eigensolver allowance) is most of each bound. Here the
    ``2^-960`` of a margin is not negligible against the ulp of the value, so every
    intermediate can be off its nearest float by one ulp: four ulps of slack, against
    ``2^-960`` ≈ 10^-289, many thousands of ulps at these scales."""
    sig, n = cloud_input([1.75, 0.75, 0.375], [0.5, 0.25, 0.125], scale)
    check_cloud(sig, n, 1.0, ulps=4)


@pytest.mark.parametrize(
    "s, noise", [(1.0, [0.5, 0.25, 0.125, 0.0625]), (0.75, [2.0, 2.0, 2.0, 1.5])]
)
def test_explicit_cloud_rayleigh_quotient_candidate_by_its_budget(s, noise):
    """For ``μ_1`` the Rayleigh quotient at the top Ritz vector, ``down1(ray_lo +
    down1(down_{d+2}(n_loᵀ y²)/yy_hi))``, binds when the signal is rank one along
    ``(1, 1, 1, 1)/2`` (so the diagonal entries are a quarter of it) and Poincaré is
    made weak by a large stated ``eS`` (a valid, loose input): ``lower[0]`` is then
    that budget minus the allowance, recomputed exactly. A near-flat noise makes its
    part ``n_loᵀy²/yy_hi`` most of the quotient, so its own margin shows."""
    S = np.full((4, 4), 0.25)
    sig = phase._explicit_signal(S, np.zeros((4, 4)), 1, 8)
    sig = dict(sig, eS=0.5)
    nf = np.array(noise)
    n = (nf, nf - nf * 2.0**-20, nf + nf * 2.0**-20)
    ref = check_cloud(sig, n, s)
    low = ref["pre"][0]
    assert low[0] > max(float(v) for v in sig["var_lo"] + n[1] * s * s)


# ------------------------------------------------------------------ _affine_pieces


def affine_reference(sig: dict, n: tuple, K: int) -> dict:
    """The stated pieces of :func:`phase._affine_pieces` (see its docstring), each
    intermediate the float nearest to its budget and each piece exact before its
    last rounding; the Ritz-block piece of ``lowK`` is :func:`phase._ritz_block_lower`
    (tested above)."""
    d = sig["sig_lo"].size
    n_lo, n_hi = n[1], n[2]
    nl = sorted((float(v) for v in n_lo), reverse=True)
    nh = sorted((float(v) for v in n_hi), reverse=True)
    t_lo, t_hi = tails_of(nl, False), tails_of(nh, True)
    tr = (sig["trS_lo"], t_lo[0], sig["trS_hi"], t_hi[0])
    sl, su = [float(v) for v in sig["sig_lo"]], [float(v) for v in sig["sig_up"]]
    ny = sum(Fr(float(a)) * Fr(float(b)) for a, b in zip(n_lo, sig["y2"]))
    ray = (sig["ray_lo"], down(fl(Fr(fl(down(fl(ny), d + 2))) / Fr(sig["yy_hi"])), 1))
    low1 = list(zip(sig["var_lo"], n_lo)) + [ray, (sl[0], nl[-1])]
    up1 = [(su[0], nh[0]), (tr[2], tr[3])]
    others = fl(down(add(seq_cumsum(sl)[-1], -sl[K - 1]), d))
    upK = [(su[i - 1], nh[K - i]) for i in range(1, K + 1)]
    upK.append(
        (
            up(add(tr[2], -others), 1),
            up(add(tr[3], -fl(down(fl((d - 1) * Fr(nl[-1])), 2))), 1),
        )
    )
    lowK = [(sl[K - 1], nl[-1]), (0.0, nl[K - 1])]
    for a, b in phase._ritz_block_lower(sig, n_lo, K):
        lowK.append((a[0], b[0]))
    tail_up = [(sig["tail_up"][K - j], t_hi[j]) for j in range(K + 1)]
    sK = seq_cumsum(sl[:K])[-1] if K else 0.0
    tail_up.append(
        (
            up(add(tr[2], -fl(down(sK, K))), 1),
            up(add(tr[3], -fl(down(K * Fr(nl[-1]), 1))), 1),
        )
    )
    tail_low = [(sig["tail_lo"][K], t_lo[K])]
    nhd = sig["head_lo"].size - 1
    if nhd >= K - 1:
        Y2 = sig["Y2"]
        cols = [sum(Fr(float(n_lo[r])) * Fr(float(Y2[r, c])) for r in range(d))
                for c in range(Y2.shape[1])]
        g = [0.0] + [fl(down(fl(Fr(c) / Fr(sig["one_f"])), d + nhd + 2))
                     for c in seq_cumsum([fl(c) for c in cols])]
        hS, hN = sig["head_lo"][K - 1], g[K - 1]
        upK.append(
            (up(add(add(tr[2], -hS), -sig["tail_lo"][K]), 2),
             up(add(add(tr[3], -hN), -t_lo[K]), 2))
        )
        if nhd >= K:
            tail_up.append(
                (up(add(tr[2], -sig["head_lo"][K]), 1), up(add(tr[3], -g[K]), 1))
            )
    return {"low1": low1, "up1": up1, "upK": upK, "lowK": lowK, "tail_up": tail_up,
            "tail_low": tail_low, "trace": tr}


def check_affine(sig: dict, n: tuple, K: int):
    got = phase._affine_pieces(sig, n, K)
    ref = affine_reference(sig, n, K)
    for key in ("low1", "up1", "upK", "lowK", "tail_up", "tail_low"):
        A, B = got[key]
        assert A.size == B.size == len(ref[key]), key
        for j, (a, b) in enumerate(ref[key]):
            assert near(A[j], a) and near(B[j], b), (key, j, A[j], B[j])
    assert tuple(got["trace"]) == tuple(ref["trace"])
    return got, ref


@pytest.mark.parametrize("K", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "diag, noise",
    [
        ([1.75, 0.75, 0.0, 0.0], [0.5, 0.25, 0.125, 0.0625]),
        ([1.0, 0.5, 0.25, 0.0], [1.0, 1.0, 1.0, 1.0]),
        ([0.75, 0.0, 0.0, 0.0], [0.0625, 0.125, 0.25, 0.5]),
    ],
)
def test_affine_pieces_by_their_budget(diag, noise, K):
    """Every ``(A, B)`` pair of ``_affine_pieces`` is its stated budget, in its stated
    order, for ``K = 1..d`` around the number of Ritz vectors (2, 3 and 1 here: the
    Ky Fan pieces exist for ``K <= k + 1`` and ``K <= k``), from the summary of a
    diagonal ``S`` (exact unit Ritz vectors, so ``n_lo Y²`` is exact) and a dyadic
    noise; flat noise makes ``tr n̂ − (d − 1) n̂_(d)`` a small difference so its
    margin shows."""
    sig, n = cloud_input(diag, noise, rank=sum(v > 0 for v in diag))
    check_affine(sig, n, K)


# ------------------------------------------------- _pivot_columns, grids, entry points


def test_pivot_columns_follow_the_largest_residual():
    """Diagonal pivoting: after mode 0 the residuals are ``(0, 1 − 0.81, 1/2)``, so
    mode 2 comes next and mode 1 last (a choice of any columns would give valid
    bounds, but the docstring fixes this one)."""
    S = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 0.5]])
    assert phase._pivot_columns(S, 3).tolist() == [0, 2, 1]
    assert phase._pivot_columns(S, 2).tolist() == [0, 2]
    assert phase._pivot_columns(S, 0).tolist() == []


def test_pivot_columns_stop_at_the_threshold():
    """Pivoting stops once every residual is at most ``2^-36 tr S``: a residual of
    ``2^-40`` (below) and one of exactly ``2^-36 tr S`` (``tr S = 1`` exactly) are not
    taken, one of ``2^-35`` is."""
    t = 2.0**-36
    for small, want in ((2.0**-40, [0]), (t, [0]), (2 * t, [0, 1])):
        S = np.diag([1.0 - small, small])
        assert float(np.trace(S)) == 1.0
        assert phase._pivot_columns(S, 4).tolist() == want, small


def test_analytic_bounds_grid_shapes():
    """``analytic_bounds_grid`` returns the documented shapes: ``(A, R, d)``,
    ``(A, R)``, ``(A, R, d + 1)``, and ``(A, 1, d)`` / ``(A, 1, d + 1)`` for the
    signal bounds (independent of ``s``); ``analytic_bounds`` the single slices."""
    lams = np.array([[1.0, 0.5, 0.25], [1.0, 0.25, 0.0625]])
    out = phase.analytic_bounds_grid(lams, [1.0, 0.5, 0.25], [0.0, 1.0], 0.5, [5, 7])
    assert out.lower.shape == out.upper.shape == (2, 2, 3)
    assert out.trace.shape == out.trace_lower.shape == out.trace_upper.shape == (2, 2)
    assert out.tail_lower.shape == out.tail_upper.shape == (2, 2, 4)
    assert out.signal_lower.shape == out.signal_upper.shape == (2, 1, 3)
    assert out.signal_tail.shape == (2, 1, 4)
    one = phase.analytic_bounds(lams[1], [1.0, 0.5, 0.25], 1.0, 0.5, 7)
    for key, v in vars(one).items():
        row = 0 if key.startswith("signal") else 1
        np.testing.assert_array_equal(v, getattr(out, key)[1, row])


def test_ritz_block_lower_piece_just_below_f_one_half():
    """At ``W = w e_1``, ``w = 1.2247448713915847``, ``d = 57`` (found by a scan) the
    stated budget ``f`` is the largest float below ``1/2`` (checked exactly): the
    piece is there, and it is its budget. A margin of ``f`` one rounding larger would
    reach ``1/2`` and drop it."""
    d = 57
    W = np.zeros((d, 1))
    W[0, 0] = 1.2247448713915847
    sig = {"Y": W, "S": np.eye(d), "eS": 0.0}
    f, _ = ritz_block_reference(sig, np.ones(d), 1)
    assert f == math.nextafter(0.5, 0)
    check_ritz_block(sig, np.ones(d), 1)
