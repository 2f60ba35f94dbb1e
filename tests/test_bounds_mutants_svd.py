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
* ``displacement_rank``: the default precision is 60 digits.
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
    ``[1/4, 1/√8)`` and in ``[1/4, 4)`` (mpmath, not steps)."""
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
            assert all(isinstance(v, arb) and v.is_exact() for v in V.ravel()), (bits, g)
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
