"""ribbonlib.embedding: distances against direct evaluation, InPCA laws, validation."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ribbonlib import embedding as E


def direct(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Definition, evaluated one pair at a time."""
    return np.array([[-np.mean(np.log(np.sum(np.sqrt(p * q), axis=-1))) for q in Q] for p in P])


def dirichlet(seed: int, m: int, n: int, c: int, conc: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(c, conc), size=(m, n))


@pytest.mark.parametrize("m,mq,n,c", [(3, 4, 5, 2), (130, 7, 40, 3), (260, 129, 17, 10)])
def test_bhattacharyya_matches_definition(m, mq, n, c):
    P, Q = dirichlet(0, m, n, c), dirichlet(1, mq, n, c)
    np.testing.assert_allclose(E.bhattacharyya(P, Q), direct(P, Q), rtol=1e-12, atol=1e-14)


def test_bhattacharyya_symmetric_case_crosses_tiles():
    P = dirichlet(2, 300, 33, 4)
    D = E.bhattacharyya(P)
    np.testing.assert_allclose(D, direct(P, P) * (1 - np.eye(300)), rtol=1e-12, atol=1e-14)
    assert np.array_equal(D, D.T) and np.all(np.diag(D) == 0)


def test_bhattacharyya_tiny_coefficients_do_not_underflow():
    # Coefficients ~1e-40 per sample: a product of 16 would underflow to 0.
    n, c = 40, 2
    P = np.zeros((1, n, c)); P[..., 0] = 1 - 1e-80; P[..., 1] = 1e-80
    Q = P[:, :, ::-1].copy()
    expected = -np.log(2 * np.sqrt(1e-80 * (1 - 1e-80)))
    np.testing.assert_allclose(E.bhattacharyya(P, Q), [[expected]], rtol=1e-12)


def test_disjoint_supports_give_infinite_distance():
    P = np.zeros((2, 3, 2)); P[0, :, 0] = 1; P[1, :, 1] = 1
    D = E.bhattacharyya(P)
    assert D[0, 1] == np.inf and D[0, 0] == 0


@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 9), st.integers(2, 5))
def test_bhattacharyya_properties(seed, m, n, c):
    P = dirichlet(seed, m, n, c, conc=0.7)
    D = E.bhattacharyya(P)
    assert np.all(D >= 0) and np.array_equal(D, D.T)
    # identical models are at distance 0, and d_B <= -log(min BC) is finite for full support
    assert np.all(np.isfinite(D))


def test_gaussian_distance_formula_and_validation():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    assert E.bhattacharyya_gaussian(mu1, mu2, 0.5) == pytest.approx(np.mean((mu1 - mu2) ** 2) / (8 * 0.25))
    with pytest.raises(ValueError, match="sigma"):
        E.bhattacharyya_gaussian(mu1, mu2, 0.0)
    with pytest.raises(ValueError, match="finite"):
        E.bhattacharyya_gaussian([np.nan], [0.0], 1.0)


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.ones((2, 3)), "shape"),
        (-np.ones((1, 2, 2)), r"\[0, 1\]"),
        (np.full((1, 2, 2), np.nan), "finite"),
        (np.array([[[0.5, np.inf], [0.5, 0.5]]]), "non-finite"),  # only the max
        (np.array([[[-np.inf, 0.5], [0.5, 0.5]]]), "non-finite"),  # only the min
        (np.full((1, 2, 2), 0.4), "sum to 1"),
    ],
)
def test_bhattacharyya_rejects_bad_probabilities(bad, match):
    with pytest.raises(ValueError, match=match):
        E.bhattacharyya(bad)


def test_bhattacharyya_rejects_mismatched_samples():
    with pytest.raises(ValueError, match="share samples"):
        E.bhattacharyya(dirichlet(0, 2, 3, 2), dirichlet(0, 2, 4, 2))


def test_inpca_of_euclidean_points_is_pca():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3)) * [3.0, 1.0, 0.2]
    D = ((X[:, None] - X[None]) ** 2).sum(-1)
    res = E.inpca(D)
    bound = E.inpca_error_bounds(D, res).eigenvalues
    with mpmath.workdps(30):  # squared singular values of the exactly centred points
        Xm = mpmath.matrix(X.tolist())
        mean = [mpmath.fsum(Xm[a, k] for a in range(40)) / 40 for k in range(3)]
        Xc = mpmath.matrix([[Xm[a, k] - mean[k] for k in range(3)] for a in range(40)])
        pca = np.array(sorted((float(x**2) for x in mpmath.svd_r(Xc, compute_uv=False)), reverse=True))
    # D itself is rounded ((p + 2)u per entry), which moves W by half its norm at most;
    # the reference is rounded to float once (u relative)
    shift = 0.5 * 5 * 2.0**-53 * np.linalg.norm(D) + 2.0**-53 * pca[0]
    assert np.all(np.abs(res.eigenvalues[:3] - pca) <= bound[:3] + shift)
    assert np.all(np.abs(res.eigenvalues[3:]) <= bound[3:] + shift)
    assert res.explained_stress(3) == pytest.approx(1.0, abs=1e-12)


@given(st.integers(0, 10_000), st.integers(2, 12), st.integers(1, 8))
def test_inpca_reconstructs_distances_and_embeds_base_points(seed, m, n):
    P = dirichlet(seed, m, n, 3, conc=2.0)
    D = E.bhattacharyya(P)
    res = E.inpca(D)
    bounds = E.inpca_error_bounds(D, res)
    C = res.coords
    Drec = (res.signature * (C[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    scale = max(np.max(D), 1e-300)
    assert np.max(np.abs(Drec - D)) <= bounds.distances
    assert np.all(np.abs(res.embed(D) - C) <= bounds.embedding)
    stresses = [res.explained_stress(k) for k in range(m + 1)]
    assert stresses[0] == 0.0 and abs(stresses[-1] - 1.0) < 1e-12
    assert np.all(np.diff(stresses) >= -1e-15)
    assert np.all(np.diff(np.abs(res.eigenvalues)) <= 1e-15 * scale)


def test_explained_stress_new_equals_base_value_on_base_points():
    P = dirichlet(5, 20, 6, 4)
    D = E.bhattacharyya(P)
    res = E.inpca(D)
    for k in (1, 2, 5):
        assert res.explained_stress_new(D, D, k) == pytest.approx(res.explained_stress(k), abs=1e-10)


def test_explained_stress_formula():
    mu = np.array([3.0, -2.0, 1.0])
    assert E.explained_stress(mu, 1) == pytest.approx(1 - np.sqrt(1 - 9 / 14))
    with pytest.raises(ValueError, match="k must be"):
        E.explained_stress(mu, 4)
    with pytest.raises(ValueError, match="sorted"):
        E.explained_stress(np.array([1.0, 3.0]), 1)


@pytest.mark.parametrize(
    "D,match",
    [
        (np.zeros((2, 3)), "square"),
        (np.array([[0.0, 1.0], [2.0, 0.0]]), "symmetric"),
        (np.array([[1.0, 1.0], [1.0, 0.0]]), "zero diagonal"),
        (np.array([[0.0, np.inf], [np.inf, 0.0]]), "finite"),
    ],
)
def test_inpca_rejects_bad_distance_matrices(D, match):
    with pytest.raises(ValueError, match=match):
        E.inpca(D)


def test_embed_rejects_wrong_shape():
    res = E.inpca(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="D_new"):
        res.embed(np.zeros((1, 3)))


@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.integers(1, 40), st.integers(2, 6))
def test_held_out_copies_are_at_distance_zero_and_embed(seed, m, n, c):
    """Regression: a held-out copy of a base model (a repeated checkpoint) got a distance of
    -4e-18 from `bhattacharyya(P, Q)`, which `embed` refused as negative."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(c, 0.3), size=(m, n))
    Q = P[rng.integers(0, m, size=3)]  # exact copies of base models
    D_new = E.bhattacharyya(Q, P)
    assert np.all(D_new >= 0)
    res = E.inpca(E.bhattacharyya(P))
    Y = res.embed(D_new)
    assert np.all(np.isfinite(Y))
    # every cross distance is >= 0 whatever the models (coefficients <= 1)
    R = rng.dirichlet(np.full(c, 0.3), size=(5, n))
    assert np.all(E.bhattacharyya(R, P) >= 0)


def test_explained_stress_new_over_every_k_and_fewer_new_points_than_base_points():
    """``k`` runs over ``0..n`` (both ends included), and the new points need not be as
    many as the base points: for three exact copies of base points among five,
    ``ES_new(0) = 0`` (nothing explained) and ``ES_new(n) = 1`` (their centred inner
    products are reproduced by all the coordinates, up to round-off)."""
    P = dirichlet(6, 5, 7, 3)
    res = E.inpca(E.bhattacharyya(P))
    Q = P[[0, 2, 4]]
    D_new, D_nn = E.bhattacharyya(Q, P), E.bhattacharyya(Q)
    stress = [res.explained_stress_new(D_new, D_nn, k) for k in range(6)]
    assert stress[0] == 0.0
    assert abs(stress[5] - 1.0) <= 1e-10
    with pytest.raises(ValueError, match=r"k must be in \[0, 5\]"):
        res.explained_stress_new(D_new, D_nn, 6)


def test_explained_stress_new_of_a_base_without_directions_is_zero():
    """Base points that all coincide span no direction (every eigenvalue is 0, so is
    the signature): the new points' inner products are explained by nothing,
    ``ES_new(k) = 0`` for every ``k``."""
    res = E.inpca(np.zeros((2, 2)))
    assert np.all(res.eigenvalues == 0)
    D_new = np.array([[1.0, 3.0], [2.0, 2.0], [0.5, 0.5]])
    D_nn = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    assert [res.explained_stress_new(D_new, D_nn, k) for k in (0, 1, 2)] == [0.0] * 3


def test_explained_stress_new_is_defined_unless_the_new_points_sit_at_the_centroid():
    """``||W_nn||_F = 1`` exactly is an ordinary case; only ``W_nn = 0`` (every new
    point at the base centroid) leaves the stress undefined. Base ``D = [[0, 2],
    [2, 0]]``: ``W_nn = [[1, 0], [0, 0]]`` for the new points below, then 0."""
    res = E.inpca(np.array([[0.0, 2.0], [2.0, 0.0]]))
    D_new = np.array([[1.0, 2.0], [0.5, 0.5]])
    D_nn = np.array([[0.0, 1.0], [1.0, 0.0]])
    # one direction (mu = 1, base coordinates ±1/sqrt(2)); the new points' centred
    # inner products with the base are (1/4, −1/4) and 0, so they embed at
    # 1/(2 sqrt(2)) and 0, and W_nn − Y Yᵀ = diag(7/8, 0): ES = 1 − 7/8
    assert res.explained_stress_new(D_new, D_nn, 1) == pytest.approx(1 / 8, abs=1e-15)
    assert res.explained_stress_new(D_new, D_nn, 0) == 0.0
    with pytest.raises(ValueError, match="coincide with the base centroid"):
        res.explained_stress_new(np.full((2, 2), 0.5), np.zeros((2, 2)), 1)


@pytest.mark.parametrize("N, C", [(1, 1), (3, 2), (40, 10), (1000, 3)])
def test_bhattacharyya_error_bound_is_its_stated_formula(N, C):
    """The bound is ``(C + 3) u + (N + 3) u · D`` (docstring), no looser and no
    tighter: evaluated in exact rationals, and ``inf`` for disjoint supports."""
    D = np.array([0.0, 1e-300, 2.0**-60, 0.3, 1.0, 7.5, 1e10, np.inf])
    bound = E.bhattacharyya_error_bound(D, N, C)
    u = Fraction(1, 2**53)
    for d, got in zip(D[:-1], bound[:-1]):
        exact = (C + 3) * u + (N + 3) * u * Fraction(d)
        assert abs(Fraction(got) - exact) <= 2 * u * exact
    assert bound[-1] == np.inf


def test_gaussian_distance_of_one_pair_is_a_float_and_of_many_an_array():
    """The last axis runs over samples and the others broadcast: one pair of models
    gives a Python ``float`` (as the text prints it), rows of models an array of
    their distances, each the one-pair value."""
    mu1 = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    mu2 = np.array([1.0, 1.0, 0.0])
    one = E.bhattacharyya_gaussian(mu1[0], mu2, 0.5)
    assert type(one) is float and one == 5 / 6
    many = E.bhattacharyya_gaussian(mu1, mu2, 0.5)
    assert isinstance(many, np.ndarray) and many.shape == (2,)
    assert many.tolist() == [one, E.bhattacharyya_gaussian(mu1[1], mu2, 0.5)]
    column = E.bhattacharyya_gaussian(mu1[:1], mu2, 0.5)
    assert isinstance(column, np.ndarray) and column.tolist() == [one]
