"""Tests of ribbonlib.bounds' high-precision spectra aimed at mutants that
test_bounds.py lets pass.

* ``_approx_eigenvectors``: the documented choice between Arb's vectors (refined by
  Newton--Schulz steps) and mpmath's ``eigsy``, decided by the orthonormality defect
  ``||VᵀV − I||_F`` of Arb's raw vectors against ``1/4``, and the stated quality
  ``||VᵀV − I||_F < 2^-(bits − 16)`` of what is returned, on matrices with two
  eigenvalues ``1 + g`` and ``1`` whose gap ``g`` sweeps the defect of Arb's vectors
  from ``2^-124`` up past ``1/4``; the defect is computed in exact rationals.
* ``singular_value_enclosures``: enclosures of the singular values of general,
  symmetric, nearly symmetric and one-row/one-column matrices against mpmath's SVD at
  60 digits, at the smallest admitted ``digits``; the refusals it documents.
* ``singular_values_mp``: mpmath entries taken exactly, the smallest admitted
  precision, and ``symmetric=True`` refused for a non-square matrix.
* ``_approx_eigenvectors`` at defects exactly on its thresholds, after a failing
  solver, and its fallback (``mpmath.eigsy`` at the stated digits): the solver's
  vectors are given by a stand-in for ``flint.acb_mat``.
* ``displacement_rank``: the default precision is 60 digits.
* ``displacement_singular_value_bounds``: the documented type of the result.
* ``cayley_nodes`` and ``displacement_generators``: mpmath numbers and decimal strings
  taken as they are, other numbers as float64; the generators without ``b`` at
  ``precision`` (``X = G_∞`` in exact rationals, the number of generators, the
  displacement identity).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import acb_mat, arb, arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from ribbonlib import bounds, certify

# 3 P / 3 with P below is orthogonal: P Pᵀ = 9 I
P = ((2, -1, 2), (2, 2, -1), (-1, 2, 2))


def exact(x) -> Fraction:
    """The exact value of an exact Arb ball, an mpmath number or a float.

    Parameters
    ----------
    x : flint.arb, mpmath.mpf or float
        For a ball, its midpoint is taken.

    Returns
    -------
    Fraction
    """
    if isinstance(x, arb):
        x = certify.to_mpf(x.mid())
    if isinstance(x, mpmath.mpf):
        man, exp = x.man_exp
        return (1 if x >= 0 else -1) * Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(x)


def rotated(g: Fraction) -> arb_mat:
    """``Q diag(1 + g, 1, −1) Qᵀ`` with ``Q = P/3`` orthogonal, rounded to 600 bits.

    Parameters
    ----------
    g : Fraction
        The gap between the two upper eigenvalues (0: a double eigenvalue).

    Returns
    -------
    flint.arb_mat, shape (3, 3)
        Symmetric midpoints within ``2^-600`` of the exact entries.
    """
    lam = (1 + g, Fraction(1), Fraction(-1))
    rows = []
    with ctx.workprec(600):
        for i in range(3):
            row = []
            for j in range(3):
                q = sum(P[i][k] * lam[k] * P[j][k] for k in range(3)) / 9
                row.append(arb(q.numerator) / q.denominator)
            rows.append(row)
        return arb_mat(rows)


def defect2(V) -> Fraction:
    """``||VᵀV − I||_F²`` of the midpoints of ``V``, in exact rationals.

    Parameters
    ----------
    V : array_like of flint.arb or mpmath.mpf, shape (n, n)

    Returns
    -------
    Fraction
    """
    W = [[exact(v) for v in row] for row in np.asarray(V, dtype=object)]
    n = len(W)
    total = Fraction(0)
    for i in range(n):
        for j in range(n):
            s = sum(W[k][i] * W[k][j] for k in range(n)) - (1 if i == j else 0)
            total += s * s
    return total


def arb_raw_vectors(J: arb_mat, bits: int) -> list:
    """Arb's approximate eigenvectors of ``J`` at ``bits`` bits, before any step.

    Parameters
    ----------
    J : flint.arb_mat
    bits : int

    Returns
    -------
    list of lists of flint.arb
        The midpoints of the real parts, as ``_approx_eigenvectors`` documents it
        starts from.
    """
    n = J.nrows()
    with ctx.workprec(bits):
        _, R = acb_mat(J).eig(algorithm="approx", right=True)
        return [[R[i, j].real.mid() for j in range(n)] for i in range(n)]


# (bits, gap): Arb's raw defect ||VᵀV − I||_F is about 2^-bits / gap; these reach the
# windows named in the test below
CASES = [
    (128, Fraction(1)),
    (128, Fraction(1, 2**16)),
    (128, Fraction(1, 2**64)),
    (128, Fraction(1, 2**128)),
    (65, Fraction(1, 2**65)),
    (67, Fraction(14, 2**67)),
    (64, Fraction(3, 2**64)),
    (128, Fraction(1, 2**127)),
    (128, Fraction(0)),
]


def test_approx_eigenvectors_refine_arb_vectors_or_fall_back_to_mpmath():
    """The documented rule, decided on Arb's raw vectors with their defect
    ``||VᵀV − I||_F`` computed in exact rationals: below ``1/4`` the result is Arb's
    vectors after Newton--Schulz steps (exact ``arb`` midpoints), at or above it
    mpmath's ``eigsy`` (``mpf`` entries); either way the returned columns are
    orthonormal to the stated ``2^-(bits − 16)`` (checked exactly) and ``VᵀJV`` is
    diagonal to ``2^-(bits − 20) ||J||_F`` (checked in ball arithmetic; the factor
    ``2^4`` over the orthonormality covers ``||J||_F = √3`` and the rounding of the
    600-bit ``J``). The cases reach every window a changed threshold moves: a raw
    defect in ``[2^-112, 2^-111)`` (one step needed, none if the target were
    ``2^-(bits − 17)``), in ``[1/√17, 1/4)`` (steps, not mpmath), in
    ``[1/4, 1/√8)`` and in ``[1/√8, 4)`` (mpmath, not steps)."""
    seen = set()
    for bits, g in CASES:
        J = rotated(g)
        raw = defect2(arb_raw_vectors(J, bits))
        target = Fraction(2) ** (-2 * (bits - 16))
        if target <= raw < target * 4:
            seen.add("one step")
        if Fraction(1, 17) <= raw < Fraction(1, 16):
            seen.add("just below 1/4")
        if Fraction(1, 16) <= raw < Fraction(1, 8):
            seen.add("just above 1/4")
        if Fraction(1, 8) <= raw < 16:
            seen.add("far above 1/4")
        V = bounds._approx_eigenvectors(J, bits)
        assert isinstance(V, np.ndarray) and V.shape == (3, 3)
        if raw < Fraction(1, 16):
            exact_balls = all(isinstance(v, arb) and v.is_exact() for v in V.ravel())
            assert exact_balls, (bits, g)
        else:
            assert all(isinstance(v, mpmath.mpf) for v in V.ravel()), (bits, g)
        assert defect2(V) < target, (bits, g)
        with ctx.workprec(2 * bits + 64):
            Vm = arb_mat([[certify.to_arb(v) for v in row] for row in V])
            G = Vm.transpose() * J * Vm
            tol = arb(2) ** -(bits - 20)
            for i in range(3):
                for j in range(3):
                    if i != j:
                        assert abs(G[i, j]) < tol, (bits, g, i, j)
    assert seen == {"one step", "just below 1/4", "just above 1/4", "far above 1/4"}


def mp_singular_values(X: np.ndarray) -> list:
    """Singular values of the float matrix ``X`` by mpmath's SVD at 60 digits.

    Parameters
    ----------
    X : ndarray, shape (p, q)

    Returns
    -------
    list of mpmath.mpf
        Descending; each within ``10^-50 ||X||_F`` of the exact value (a backward
        stable SVD at 60 digits of a matrix of at most 4 rows and columns).
    """
    with mpmath.workdps(60):
        s = mpmath.svd_r(mpmath.matrix(X.tolist()), compute_uv=False)
        return sorted((s[i] for i in range(len(s))), reverse=True)


@st.composite
def svd_matrices(draw):
    """General, symmetric (indefinite), symmetric but for one entry, rank-deficient,
    and one-row or one-column matrices of up to 4 x 4, entries spread over 1e-3..1e3."""
    kind = draw(st.sampled_from(["general", "symmetric", "nearly", "rank one", "line"]))
    p, q = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if kind == "line":
        p, q = (1, q) if draw(st.booleans()) else (p, 1)
    if kind in ("symmetric", "nearly"):
        q = p
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(p, q)) * 10.0 ** draw(st.floats(-3.0, 3.0))
    if kind == "rank one":
        X = np.outer(X[:, 0], rng.normal(size=q))
    if kind in ("symmetric", "nearly"):
        X = X + X.T
        if kind == "nearly" and p > 1:
            X[0, p - 1] = np.nextafter(X[0, p - 1], np.inf)
    return X


@settings(max_examples=40)
@given(svd_matrices(), st.sampled_from([16, 20]))
def test_singular_value_enclosures_contain_the_singular_values(X, digits):
    """Every ball contains the singular value of its rank (mpmath's SVD at 60 digits,
    within ``10^-50 ||X||_F``), one ball per singular value (``min(p, q)``), the
    midpoints descending, each ball resolved to ``(p + q) 10^-digits ||X||_F`` (the
    docstring's ``d 10^-digits ||X||`` with ``d`` the order ``p + q`` of the
    symmetric matrix solved, ``||X|| <= ||X||_F``); at the smallest admitted
    ``digits`` (16) too. Symmetric, nearly symmetric (the default choice of the
    eigensolver is made on exact symmetry) and one-row or one-column matrices."""
    p, q = X.shape
    sv = bounds.singular_value_enclosures(X, digits=digits)
    ref = mp_singular_values(X)
    assert isinstance(sv, np.ndarray) and len(sv) == min(p, q)
    with mpmath.workdps(60):
        fro = mpmath.sqrt(mpmath.fsum(mpmath.mpf(v) ** 2 for v in X.ravel()))
        slack = exact(mpmath.mpf(10) ** -50 * fro)
        width = exact((p + q) * mpmath.mpf(10) ** -digits * fro)
    for s, r in zip(sv, ref):
        assert isinstance(s, arb) and s.is_finite()
        mid, rad = exact(s.mid()), exact(certify.to_mpf(s.rad()))
        assert abs(mid - exact(r)) <= rad + slack
        assert rad <= width
    mids = [exact(s.mid()) for s in sv]
    assert all(mids[i] >= mids[i + 1] for i in range(len(mids) - 1))


def test_singular_value_enclosures_refuse_what_they_document():
    """``symmetric=True`` needs a square matrix, also when the shape alone (not the
    entries) would decide the default; an ``arb_mat`` with no rows or no columns is
    refused like an empty array."""
    with pytest.raises(ValueError, match="square"):
        bounds.singular_value_enclosures(np.ones((2, 3)), digits=20, symmetric=True)
    with pytest.raises(ValueError, match="square"):
        bounds.singular_value_enclosures(np.ones((3, 2)), digits=20, symmetric=True)
    for M in (arb_mat(0, 3), arb_mat(3, 0)):
        with pytest.raises(ValueError, match="non-empty"):
            bounds.singular_value_enclosures(M, digits=20)


def jordan_wielandt_balls(X, bits: int = 400) -> list:
    """Enclosures of the singular values of ``X`` (exact entries) from the eigenvalues
    of ``[[0, X], [Xᵀ, 0]]`` with 100-digit vectors, descending.

    Parameters
    ----------
    X : array_like of floats or mpmath numbers, shape (p, q)
    bits : int
        Working precision of the ball arithmetic.

    Returns
    -------
    list of flint.arb
        The ``min(p, q)`` largest eigenvalue enclosures.
    """
    X = np.asarray(X, dtype=object)
    p, q = X.shape
    with ctx.workprec(bits):
        J = arb_mat(p + q, p + q)
        for i in range(p):
            for j in range(q):
                J[i, p + j] = J[p + j, i] = certify.to_arb(X[i, j])
        ev = certify.symmetric_eigenvalues(J, digits=100, balls=True)
    return list(ev[: min(p, q)])


def test_singular_values_mp_take_mpmath_entries_exactly():
    """mpmath entries are taken at their value, not rounded to float64: for entries
    1/3, 1/7, 1/5 at 50 digits, every value lies within the stated allowance
    ``10 max(p, q) 10^-40 ||X||_F`` (about ``1e-38`` here) of the exact singular value
    (Arb enclosures), far below the ``1e-17`` a float64 entry would be off."""
    with mpmath.workdps(50):
        one = mpmath.mpf(1)
        X = np.array([[one / 3, one / 7], [0 * one, one / 5]], dtype=object)
    sv, allow = bounds.singular_values_mp(X, precision=40)
    with ctx.workprec(400):
        for s, e in zip(sv, jordan_wielandt_balls(X)):
            assert abs(certify.to_arb(s) - e) <= certify.to_arb(allow)


@settings(max_examples=10)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_singular_values_mp_at_the_smallest_precision(p, q, seed):
    """``precision = 16`` is admitted (the documented lower end): every value lies
    within the returned allowance ``10 max(p, q) 10^-16 ||X||_F`` of the exact singular
    value (Arb enclosures from 100-digit vectors)."""
    X = np.random.default_rng(seed).normal(size=(p, q))
    sv, allow = bounds.singular_values_mp(X, precision=16)
    assert len(sv) == min(p, q)
    with ctx.workprec(400):
        for s, e in zip(sv, jordan_wielandt_balls(X)):
            assert abs(certify.to_arb(s) - e) <= certify.to_arb(allow)


def test_singular_values_mp_refuse_symmetric_for_a_non_square_matrix():
    """``symmetric=True`` asks for the symmetric eigensolver, which needs a square
    matrix: refused for 2 x 3 and 3 x 2, as the docstring states."""
    for shape in ((2, 3), (3, 2)):
        with pytest.raises(ValueError, match="square"):
            bounds.singular_values_mp(np.ones(shape), precision=30, symmetric=True)


def test_displacement_rank_default_precision_is_sixty_digits():
    """The default equals ``precision=60`` bitwise, on a displacement with irrational
    singular values (``D = [[1, 1], [0, 1]]``, ``σ = (√5 ± 1)/2``) whose 61-digit
    values differ from the 60-digit ones (checked), and the values are those within
    ``10 · 2 · 10^-60 ||D||_F`` of ``(√5 ± 1)/2`` (mpmath at 100 digits)."""
    X = [[1.0, 1.0], [0.0, 1.0]]
    A, B = [1.0, 1.0], [0.0, 0.0]
    rank, sv = bounds.displacement_rank(X, A, B)
    rank60, sv60 = bounds.displacement_rank(X, A, B, precision=60)
    _, sv61 = bounds.displacement_rank(X, A, B, precision=61)
    assert rank == rank60 == 2
    assert [exact(s) for s in sv] == [exact(s) for s in sv60]
    assert [exact(s) for s in sv61] != [exact(s) for s in sv60]
    with mpmath.workdps(100):
        ref = [(mpmath.sqrt(5) + 1) / 2, (mpmath.sqrt(5) - 1) / 2]
        for s, r in zip(sv, ref):
            assert abs(s - r) <= 20 * mpmath.mpf(10) ** -60 * mpmath.sqrt(3)


class _Solver:
    """Stands in for ``flint.acb_mat`` in ``bounds``: its ``eig`` returns the given
    vectors (or raises ``ValueError``), so that the documented rule can be tested at
    its exact boundaries.

    Parameters
    ----------
    vectors : list of lists of Fraction, or None
        The "approximate eigenvectors" (columns) to return; ``None``: raise
        ``ValueError`` as a failing solver would.
    """

    def __init__(self, vectors):
        self.vectors = vectors

    def __call__(self, J):
        return self

    def eig(self, **kwargs):
        if self.vectors is None:
            raise ValueError("failed")
        rows = [[arb(q.numerator) / q.denominator for q in row] for row in self.vectors]
        return [], acb_mat(arb_mat(rows))


def _block(a: Fraction, b: Fraction) -> list:
    """``[[a, b], [−b, a]] ⊕ [[a, b], [−b, a]]``, whose ``VᵀV`` is ``(a² + b²) I₄``.

    Parameters
    ----------
    a, b : Fraction

    Returns
    -------
    list of lists of Fraction, shape (4, 4)
    """
    z = Fraction(0)
    return [[a, b, z, z], [-b, a, z, z], [z, z, a, b], [z, z, -b, a]]


def _mpmath_eigenvectors_check(V, J: arb_mat, bits: int) -> None:
    """Assert that ``V`` holds ``mpmath.mpf`` eigenvectors of ``J``: orthonormal to
    ``2^-(bits − 16)`` (exactly) and ``VᵀJV`` diagonal to ``2^-(bits − 20) ||J||_F``.

    Parameters
    ----------
    V : ndarray, shape (n, n)
    J : flint.arb_mat
        Symmetric with exact entries.
    bits : int
    """
    n = J.nrows()
    assert isinstance(V, np.ndarray) and V.shape == (n, n)
    assert all(isinstance(v, mpmath.mpf) for v in V.ravel())
    assert defect2(V) < Fraction(2) ** (-2 * (bits - 16))
    with ctx.workprec(2 * bits + 64):
        Vm = arb_mat([[certify.to_arb(v) for v in row] for row in V])
        G = Vm.transpose() * J * Vm
        fro = sum((J[i, j] ** 2 for i in range(n) for j in range(n)), arb(0)).sqrt()
        tol = arb(2) ** -(bits - 20) * fro
        assert all(abs(G[i, j]) < tol for i in range(n) for j in range(n) if i != j)


def test_approx_eigenvectors_at_the_exact_thresholds(monkeypatch):
    """The two thresholds of the docstring are strict for the steps and inclusive for
    the fallback, checked at solver vectors whose defect lands exactly on them
    (``VᵀV = (a² + b²) I₄`` with dyadic ``a, b``: the defect is computed exactly at
    ``bits`` bits): ``||VᵀV − I||_F = 2^-(bits − 16)`` exactly (``a = 1``,
    ``b = 2^-56``, ``bits = 127``) is not yet good enough, so a step follows and the
    result is strictly below it; ``||VᵀV − I||_F = 1/4`` exactly (``a = b = 3/4``)
    takes mpmath's vectors. A solver that raises ``ValueError`` (the ``except``
    branch) also leads to mpmath's vectors."""
    J = arb_mat([[4, 1, 0, 0], [1, 3, 0, 0], [0, 0, 2, 1], [0, 0, 1, -1]])
    bits = 127
    V0 = _block(Fraction(1), Fraction(1, 2**56))
    assert defect2(V0) == Fraction(2) ** (-2 * (bits - 16))
    monkeypatch.setattr(bounds, "acb_mat", _Solver(V0))
    V = bounds._approx_eigenvectors(J, bits)
    assert all(isinstance(v, arb) and v.is_exact() for v in V.ravel())
    assert defect2(V) < Fraction(2) ** (-2 * (bits - 16))
    V0 = _block(Fraction(3, 4), Fraction(3, 4))
    assert defect2(V0) == Fraction(1, 16)
    monkeypatch.setattr(bounds, "acb_mat", _Solver(V0))
    _mpmath_eigenvectors_check(bounds._approx_eigenvectors(J, 128), J, 128)
    monkeypatch.setattr(bounds, "acb_mat", _Solver(None))
    _mpmath_eigenvectors_check(bounds._approx_eigenvectors(J, 128), J, 128)


def test_approx_eigenvectors_fallback_works_at_the_stated_digits():
    """The fallback runs ``mpmath.eigsy`` at ``⌊bits/log2(10)⌋ + 1`` digits, as the
    docstring states: at ``bits = 128`` that is 39 digits, mpmath's 133 bits, and
    the entries of the returned (irrational) eigenvectors of a matrix with a double
    eigenvalue are numbers of exactly that width (at most 133 bits, and some entry
    uses all of them), so neither fewer digits (cruder vectors) nor more (slower)
    are used; and they are eigenvectors to the stated quality."""
    bits = 128
    J = rotated(Fraction(0))
    V = bounds._approx_eigenvectors(J, bits)
    _mpmath_eigenvectors_check(V, J, bits)
    width = mpmath.libmp.dps_to_prec(int(bits / np.log2(10.0)) + 1)
    assert width == 133
    assert max(int(v.man_exp[0]).bit_length() for v in V.ravel()) == width


@pytest.mark.parametrize("digits", [16, 20, 31])
def test_singular_value_enclosures_solve_at_digits_and_32_guard_bits(
    digits, record_calls
):
    """The approximate eigenvectors are computed at ``⌈digits·log2(10)⌉ + 32`` bits, as
    the docstring states (the guard bits are what resolves each ball well below
    ``10^-digits``): the bits passed on are the least ``b`` with ``2^b >= 10^digits``
    (exact integers) plus 32, on both routes (symmetric and ``[[0, X], [Xᵀ, 0]]``)."""
    calls = record_calls(bounds, "_approx_eigenvectors")
    least = next(b for b in range(4 * digits) if 2**b >= 10**digits)
    X = np.array([[2.0, 1.0], [1.0, -3.0]])
    bounds.singular_value_enclosures(X, digits=digits)
    bounds.singular_value_enclosures(X[:, :1], digits=digits)
    assert [c["bits"] for c in calls] == [least + 32, least + 32]


def test_approx_eigenvectors_fallback_is_eigsy_of_the_midpoints(monkeypatch):
    """The fallback's vectors are those of ``mpmath.eigsy`` of the midpoint matrix at
    ``⌊bits/log2(10)⌋ + 1`` digits, as the docstring states, bitwise: for a symmetric
    ball matrix with integer midpoints (exact at any precision, so symmetrising them
    changes nothing) and irrational eigenvectors, reached through a solver that
    raises ``ValueError``."""
    monkeypatch.setattr(bounds, "acb_mat", _Solver(None))
    rows = [[4, 1, 2], [1, 3, -1], [2, -1, -2]]
    J = arb_mat(rows)
    for bits in (64, 128):
        V = bounds._approx_eigenvectors(J, bits)
        floor = max(k for k in range(bits) if 10**k <= 2**bits)  # ⌊bits/log2(10)⌋
        digits = floor + 1
        with mpmath.workdps(digits):
            _, Q = mpmath.eigsy(mpmath.matrix(rows))
        assert [[exact(v) for v in row] for row in V] == [
            [exact(Q[i, j]) for j in range(3)] for i in range(3)
        ]


def test_displacement_singular_value_bounds_float_unless_an_mpmath_bound_is_used():
    """The documented type of the result: a ``Z_k >= 1`` is replaced by the number 1,
    so mpmath entries ``Z = [1, 2]`` (both capped, ``Z_0`` exactly at the cap) with a
    float ``scale`` give float64 bounds ``scale``; an mpmath entry below 1 that is
    used gives mpmath numbers (``0.5 · 0.5``, exact)."""
    out = bounds.displacement_singular_value_bounds(
        [mpmath.mpf(1), mpmath.mpf(2)], 1, 3, scale=0.5
    )
    assert out.dtype == np.float64 and list(out) == [0.5, 0.5, 0.5]
    out = bounds.displacement_singular_value_bounds(
        [mpmath.mpf(1), 0.5], 1, 2, scale=0.5
    )
    assert out.dtype == np.float64 and list(out) == [0.5, 0.25]
    out = bounds.displacement_singular_value_bounds([mpmath.mpf(0.5)], 1, 1, scale=0.5)
    assert out.dtype == object and out[0] == mpmath.mpf(0.25)


def exact_nodes(lam, eta) -> list:
    """``h_k = (2 − ηλ_k)/(ηλ_k)`` in exact rationals.

    Parameters
    ----------
    lam : sequence of Fraction
    eta : Fraction

    Returns
    -------
    list of Fraction
    """
    return [(2 - eta * x) / (eta * x) for x in lam]


def assert_close(got, ref: Fraction, digits: int) -> None:
    """``|got − ref| <= 10^-(digits − 1) |ref|``: a value at ``digits`` digits (rounded
    once from a computation with guard digits) that is ``ref``.

    Parameters
    ----------
    got : mpmath.mpf
    ref : Fraction
    digits : int
    """
    assert abs(exact(got) - ref) <= Fraction(1, 10 ** (digits - 1)) * abs(ref)


def test_cayley_nodes_take_inputs_as_documented():
    """At 50 digits: mpmath eigenvalues (1/3 at 60 digits) and decimal strings in an
    object array are taken as they are (a float64 1/3 would be off by 1e-17);
    ``Fraction``, numpy ``float32`` and ``int64`` entries, and a ``Fraction`` learning
    rate, as the float64 they round to. The reference is the exact rational
    ``(2 − ηλ)/(ηλ)`` of those values, and a value at 50 digits is within
    ``10^-49`` of it relatively."""
    with mpmath.workdps(60):
        third = mpmath.mpf(1) / 3
    lam = np.array([third, "0.1"], dtype=object)
    h = bounds.cayley_nodes(lam, 0.5, precision=50)
    ref = exact_nodes([exact(third), Fraction(1, 10)], Fraction(1, 2))
    for got, r in zip(h, ref):
        assert_close(got, r, 50)
    lam = np.array([Fraction(1, 3), np.float32(0.7), np.int64(2)], dtype=object)
    h = bounds.cayley_nodes(lam, Fraction(1, 5), precision=50)
    vals = [Fraction(float(v)) for v in lam]
    ref = exact_nodes(vals, Fraction(float(Fraction(1, 5))))
    for got, r in zip(h, ref):
        assert_close(got, r, 50)


@pytest.mark.parametrize("form", ["sylvester", "lyapunov"])
def test_displacement_generators_without_b_at_precision(form):
    """With ``b`` omitted (``U = I``) at 30 digits: ``which="G_inf"`` gives
    ``X_kl = 1/(1 − r_k r_l)`` (exact rationals from the float inputs, within
    ``10^-29`` relatively) with one generator, ``which="G"`` two, and
    ``diag(A) X − X diag(B) = M Nᵀ`` holds to ``10^-25`` of the size of its terms (each
    returned number is rounded at 30 digits). ``b`` given as ``Fraction`` entries is
    taken as its float64 values (the same result as the floats). The float64 path
    has one generator for ``G_inf`` too."""
    lam, eta = [1.0, 0.3, 0.05], 0.9
    r = [1 - Fraction(eta) * Fraction(x) for x in lam]
    X, A, B, M, N = bounds.displacement_generators(
        lam, eta, 5, which="G_inf", form=form, precision=30
    )
    assert M.shape == N.shape == (3, 1)
    for k in range(3):
        for j in range(3):
            assert_close(X[k, j], 1 / (1 - r[k] * r[j]), 30)
    for which, nu in (("G_inf", 1), ("G", 2)):
        X, A, B, M, N = bounds.displacement_generators(
            lam, eta, 5, which=which, form=form, precision=30
        )
        assert M.shape == N.shape == (3, nu)
        for k in range(3):
            for j in range(3):
                lhs = exact(A[k]) * exact(X[k, j]) - exact(X[k, j]) * exact(B[j])
                rhs = sum(exact(M[k, i]) * exact(N[j, i]) for i in range(nu))
                size = abs(exact(A[k]) * exact(X[k, j])) + abs(
                    exact(X[k, j]) * exact(B[j])
                )
                assert abs(lhs - rhs) <= Fraction(1, 10**25) * size
    X, A, B, M, N = bounds.displacement_generators(
        lam, eta, 5, which="G_inf", form=form
    )
    assert M.shape == N.shape == (3, 1)
    b = [Fraction(1, 3), Fraction(-2, 7), Fraction(5)]
    got = bounds.displacement_generators(
        lam, eta, 5, b=np.array(b, dtype=object), form=form, precision=30
    )
    want = bounds.displacement_generators(
        lam, eta, 5, b=[float(v) for v in b], form=form, precision=30
    )
    for g, w in zip(got, want):
        assert [exact(v) for v in g.ravel()] == [exact(v) for v in w.ravel()]
