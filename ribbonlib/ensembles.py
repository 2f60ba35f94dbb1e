"""Ensembles of training runs: baselines for their embeddings, finite ensembles.

An ensemble is a list of recorded training runs, each an array of predicted class
probabilities ``(n_snap, N, C)`` on the same ``N`` inputs (as in
:class:`ribbonlib.classifiers.Trajectory`). How thin its InPCA embedding is means
little without a baseline, so this module builds *null ensembles* that keep some
features of every run and destroy others:

* :func:`random_time_null`: each run learns each sample at an independent random time;
  a sample is either not yet learned (the uniform prediction) or learned (a fixed
  probability on its label, the rest spread evenly), and the probability of having
  been learned follows the run's own progress towards the labels. What is left is the
  shared direction from the uniform prediction to the labels;
* :func:`shuffled_null`: each run keeps its predictions, its loss curve and its
  confusions, but they are handed to other samples of the same class by a permutation
  drawn for that run, so that runs no longer agree on which samples they learn first.

:func:`baselines` measures the explained stress of an ensemble and of independent
draws of its nulls, and the out-of-sample explained stress of some runs in a basis
built from others, with and without the earliest snapshots.

For the linear twin of :mod:`ribbonlib.classifiers`, :func:`linear_gd_runs` trains many
softmax-linear classifiers at once by full-batch gradient descent and
:func:`twin_coordinates` gives the cloud coordinates of their twins from the same
initial weights, so that finite ensembles of real runs and of twins can be compared
run by run; :func:`ribbon_statistics` reads the ribbon's shape off a spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import _validate

__all__ = [
    "residual_stress",
    "noisy_labels",
    "random_time_null",
    "shuffled_null",
    "NULLS",
    "STATISTICS",
    "Baselines",
    "baselines",
    "linear_gd_runs",
    "twin_coordinates",
    "RibbonStatistics",
    "ribbon_statistics",
    "log_crossing",
    "t_to_z",
    "check_in_interval",
]

# Largest trajectory array (entries) that twin_coordinates asks gd_modes for at once.
_CHUNK_ENTRIES = 4_000_000
#: Names of the null ensembles of :func:`baselines`, after the real ensemble.
NULLS = ("random times", "shuffled samples")


# ------------------------------------------------------------------------- summaries


def residual_stress(eigenvalues: Any, k: int = 1) -> float:
    """The share of the stress left by ``k`` directions that the next one explains.

    With ``ES`` the explained stress of :func:`ribbonlib.embedding.explained_stress`,
    ``1 − (1 − ES(k + 1)) / (1 − ES(k))``; equivalently the explained stress of one
    direction for the eigenvalues that remain after the first ``k`` are removed,
    ``1 − sqrt(1 − μ²_{k+1} / Σ_{i>k} μ²_i)``.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        InPCA eigenvalues, signed, sorted by decreasing absolute value.
    k : int
        ``0 <= k < n``.

    Returns
    -------
    float
        In ``[0, 1]``.

    Raises
    ------
    ValueError
        If the first ``k`` eigenvalues hold all the stress (nothing is left to explain).
    """
    mu = np.asarray(eigenvalues, dtype=float)
    if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)):
        raise ValueError("eigenvalues must be a non-empty 1-D array of finite numbers")
    kk = _validate.integer(k, "k", low=0)
    if kk >= mu.size:
        raise ValueError(f"k must be in [0, {mu.size - 1}], got {kk}")
    rest = mu[kk:] ** 2
    total = float(np.sum(rest))
    if total == 0.0:
        raise ValueError(f"the first {kk} eigenvalues hold all the stress; "
                         "nothing is left")
    return float(1.0 - np.sqrt(max(0.0, 1.0 - rest[0] / total)))


def noisy_labels(labels: Any, fraction: float, seed: Any) -> np.ndarray:
    """Labels of which a fraction is replaced by a different class, drawn uniformly.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Classes ``0..C-1``, ``C >= 2``.
    fraction : float
        Share of the samples whose label changes, in ``[0, 1]`` (rounded to a whole
        number of samples, chosen without replacement).
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    numpy.ndarray of int, shape (N,)
    """
    y, C = _class_labels(labels)
    f = _validate.finite_real(fraction, "fraction", low=0.0, high=1.0)
    rng = np.random.default_rng(_validate.seed(seed))
    flip = rng.choice(y.size, size=int(round(f * y.size)), replace=False)
    out = y.copy()
    out[flip] = (y[flip] + rng.integers(1, C, size=flip.size)) % C
    return out


def _class_labels(labels: Any, n_samples: int | None = None) -> tuple[np.ndarray, int]:
    y = np.asarray(labels)
    if (y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer)
            or y.min() < 0):
        raise ValueError("labels must be a non-empty 1-D array of integer classes >= 0")
    if n_samples is not None and y.size != n_samples:
        raise ValueError(f"labels must have one entry per sample ({n_samples}), "
                         f"got {y.size}")
    C = int(y.max()) + 1
    if C < 2:
        raise ValueError("labels must contain at least 2 classes")
    return y.astype(np.int64), C


def _run_probs(probs: Any, name: str = "probs") -> np.ndarray:
    P = np.asarray(probs, dtype=float)
    if P.ndim != 3 or 0 in P.shape:
        raise ValueError(f"{name} must have shape (n_snap, N, C), got {P.shape}")
    if not np.all(np.isfinite(P)) or np.any(P < 0):
        raise ValueError(f"{name} must hold finite probabilities >= 0")
    return P


# ----------------------------------------------------------------------------- nulls


def random_time_null(probs: Any, labels: Any,
                     seed: Any) -> tuple[np.ndarray, np.ndarray]:
    """A run that learns each sample at an independent random time (module notes).

    Let ``q̄_s`` be the run's mean probability of the correct label at snapshot ``s``
    and ``θ = q̄`` at the last snapshot. Sample ``i`` of the null run predicts the
    uniform ``1/C`` until its learning time and afterwards ``θ`` on its label and
    ``(1 − θ)/(C − 1)`` on every other class. The learning times are independent
    across samples: sample ``i`` has been learned by snapshot ``s`` when
    ``U_i < f_s``, ``U_i`` uniform on ``(0, 1)``, with
    ``f_s = (q̄_s − 1/C)/(θ − 1/C)`` clipped to ``[0, 1]`` and made non-decreasing
    (``f = 1`` at the last snapshot). Where ``f_s`` needed neither, the null run's
    expected mean probability of the correct label is exactly ``q̄_s``.

    Parameters
    ----------
    probs : array_like, shape (n_snap, N, C)
        The recorded run.
    labels : array_like of int, shape (N,)
        The labels the run was trained on.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    null : numpy.ndarray, shape (n_snap, N, C)
    learned : numpy.ndarray, shape (n_snap,)
        ``f_s``, the probability that a sample has been learned by snapshot ``s``.

    Raises
    ------
    ValueError
        If the run never gets better than the uniform prediction on average
        (``θ <= 1/C``).
    """
    P = _run_probs(probs)
    S, N, C = P.shape
    y, n_cls = _class_labels(labels, N)
    if n_cls > C:
        raise ValueError(f"labels go up to {n_cls - 1} but probs has {C} classes")
    q = P[:, np.arange(N), y].mean(axis=1)
    theta = float(q[-1])
    if theta <= 1.0 / C:
        raise ValueError("the run ends no better than the uniform prediction: "
                         "no learning to time")
    f = np.maximum.accumulate(np.clip((q - 1.0 / C) / (theta - 1.0 / C), 0.0, 1.0))
    f[-1] = 1.0
    u = np.random.default_rng(_validate.seed(seed)).random(N)
    learned = u[None, :] < f[:, None]
    target = np.full((N, C), (1.0 - theta) / (C - 1))
    target[np.arange(N), y] = theta
    out = np.where(learned[:, :, None], target[None], 1.0 / C)
    return out, f


def shuffled_null(probs: Any, labels: Any, seed: Any) -> np.ndarray:
    """A run whose predictions are handed to other samples of the same class.

    One permutation ``π`` of the samples, drawn for the run and kept at every
    snapshot, maps each class of ``labels`` onto itself; sample ``i`` of the null run
    predicts what the run predicted for ``π(i)``. The loss curve, the accuracy, every
    sample's learning curve and the confusions between classes are those of the run;
    which samples are learned when is no longer shared with other runs.

    Parameters
    ----------
    probs : array_like, shape (n_snap, N, C)
    labels : array_like of int, shape (N,)
        The labels the run was trained on.
    seed : int or numpy.random.SeedSequence

    Returns
    -------
    numpy.ndarray, shape (n_snap, N, C)
    """
    P = _run_probs(probs)
    y, _ = _class_labels(labels, P.shape[1])
    rng = np.random.default_rng(_validate.seed(seed))
    perm = np.arange(y.size)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        perm[idx] = rng.permutation(idx)
    return P[:, perm, :]


# ------------------------------------------------------------------------- baselines


#: The statistics of :class:`Baselines`, in the order of its arrays' first axis.
STATISTICS = ("ES(1)", "ES(2)", "residual", "new ES(1)", "new ES(2)")


@dataclass(frozen=True)
class Baselines:
    """Explained stress of an ensemble and of its null ensembles (:func:`baselines`).

    The statistics (:data:`STATISTICS`) are the explained stress of one and two InPCA
    directions of all runs, the :func:`residual_stress` (``k = 1``), and the
    out-of-sample explained stress of the *real* new runs embedded in the basis of the
    base runs (``InPCAResult.explained_stress_new``), one and two directions. Index
    ``h`` of the snapshot axis is 0 for all snapshots and 1 without the earliest.

    Attributes
    ----------
    real : numpy.ndarray, shape (5, 2)
        The statistics of the real ensemble.
    null : numpy.ndarray, shape (len(NULLS), 5, 2, R)
        The statistics of every null ensemble in each of ``R`` independent draws; for
        the out-of-sample statistics the basis is built from the null's base runs.
    own : numpy.ndarray, shape (2,)
        Explained stress of two directions of the real new runs in their own basis.
    n_models : numpy.ndarray of int, shape (2,)
        Number of recorded models.
    samples : numpy.ndarray of int
        The samples used.
    """

    real: np.ndarray
    null: np.ndarray
    own: np.ndarray
    n_models: np.ndarray
    samples: np.ndarray


def _statistics(D: np.ndarray, sel: np.ndarray, in_base: np.ndarray, cross: np.ndarray,
                D_nn: np.ndarray) -> list[float]:
    from .embedding import centred_gram, inpca

    idx = np.flatnonzero(sel)
    mu = np.linalg.eigvalsh(centred_gram(D[np.ix_(idx, idx)]))
    mu = mu[np.argsort(-np.abs(mu), kind="stable")]
    b_idx = np.flatnonzero(sel & in_base)
    basis = inpca(D[np.ix_(b_idx, b_idx)])
    return [_es(mu, 1), _es(mu, 2), residual_stress(mu, 1),
            basis.explained_stress_new(cross, D_nn, 1),
            basis.explained_stress_new(cross, D_nn, 2)]


def baselines(runs: Sequence[Any], labels: Sequence[Any], base: Any,
              late: Sequence[Any], *, n_samples: int, replicates: int,
              seed: int) -> Baselines:
    """Explained stress of an ensemble against independent draws of its null ensembles.

    A subset of ``n_samples`` samples is drawn once (from ``seed``); on it the
    statistics of :class:`Baselines` are computed for the real ensemble, and for
    ``replicates`` independent draws of the :func:`random_time_null` and the
    :func:`shuffled_null` of every run. Given the runs, the draws of a null are
    independent and identically distributed, so their mean and spread estimate
    what the null gives and how much it varies.

    Parameters
    ----------
    runs : sequence of array_like, each (n_snap_j, N, C)
        Recorded runs on the same ``N`` samples.
    labels : sequence of array_like of int, each (N,)
        The labels each run was trained on (the nulls use them).
    base : array_like of bool, shape (n_runs,)
        Which runs build the basis of the out-of-sample test; at least two base runs
        and two others.
    late : sequence of array_like of bool, each (n_snap_j,)
        Which snapshots of each run are kept when the earliest are dropped.
    n_samples : int
        ``2 <= n_samples <= N``.
    replicates : int
        Draws of each null, ``R >= 2``.
    seed : int

    Returns
    -------
    Baselines
    """
    from .embedding import bhattacharyya, inpca

    Ps = [_run_probs(p, "runs") for p in runs]
    n_runs = len(Ps)
    N, C = Ps[0].shape[1:]
    if any(p.shape[1:] != (N, C) for p in Ps):
        raise ValueError("every run must have probabilities of the same shape (N, C)")
    if len(labels) != n_runs or len(late) != n_runs:
        raise ValueError("labels and late must have one entry per run")
    ys = [_class_labels(y, N)[0] for y in labels]
    is_base = np.asarray(base, dtype=bool)
    if is_base.shape != (n_runs,) or is_base.sum() < 2 or (~is_base).sum() < 2:
        raise ValueError("base must be a boolean array with one entry per run, "
                         "at least two True and two False")
    keep = [np.asarray(k, dtype=bool) for k in late]
    if (any(k.shape != (p.shape[0],) for k, p in zip(keep, Ps))
            or not all(k.any() for k in keep)):
        raise ValueError("late must keep at least one snapshot of every run "
                         "(one flag per snapshot)")
    n = _validate.integer(n_samples, "n_samples", low=2)
    if n > N:
        raise ValueError(f"n_samples must be at most N = {N}, got {n}")
    R = _validate.integer(replicates, "replicates", low=2)
    root = np.random.SeedSequence(_validate.seed(seed))
    pick, draws = root.spawn(2)
    samples = np.sort(np.random.default_rng(pick).choice(N, size=n, replace=False))

    P_real = np.concatenate([P[:, samples] for P in Ps])
    y_sub = [y[samples] for y in ys]
    run_of = np.concatenate([np.full(P.shape[0], j) for j, P in enumerate(Ps)])
    in_base = is_base[run_of]
    views = (np.ones(run_of.size, dtype=bool), np.concatenate(keep))
    D_real = bhattacharyya(P_real)
    real = np.empty((len(STATISTICS), 2))
    own = np.empty(2)
    n_models = np.empty(2, dtype=np.int64)
    for h, sel in enumerate(views):
        n_idx = np.flatnonzero(sel & ~in_base)
        b_idx = np.flatnonzero(sel & in_base)
        D_nn = D_real[np.ix_(n_idx, n_idx)]
        real[:, h] = _statistics(D_real, sel, in_base, D_real[np.ix_(n_idx, b_idx)],
                                 D_nn)
        own[h] = inpca(D_nn).explained_stress(2)
        n_models[h] = int(sel.sum())
    null = np.empty((len(NULLS), len(STATISTICS), 2, R))
    makers = (lambda P, y, s: random_time_null(P, y, s)[0], shuffled_null)
    for r, seq in enumerate(draws.spawn(R)):
        for e, (make, seq_e) in enumerate(zip(makers, seq.spawn(len(NULLS)))):
            P_e = np.concatenate([make(P[:, samples], y, s) for P, y, s
                                  in zip(Ps, y_sub, seq_e.spawn(n_runs))])
            D = bhattacharyya(P_e)
            D_cross = bhattacharyya(P_real[~in_base], P_e[in_base])
            for h, sel in enumerate(views):
                n_idx = np.flatnonzero(sel & ~in_base)
                cross = D_cross[np.ix_(np.flatnonzero(sel[~in_base]),
                                       np.flatnonzero(sel[in_base]))]
                null[e, :, h, r] = _statistics(D, sel, in_base, cross,
                                               D_real[np.ix_(n_idx, n_idx)])
    return Baselines(real=real, null=null, own=own, n_models=n_models, samples=samples)


def _es(mu: np.ndarray, k: int) -> float:
    from .embedding import explained_stress

    return explained_stress(mu, k)


# ------------------------------------------------------- finite ensembles and the twin


def linear_gd_runs(X: Any, labels: Any, params0: Sequence[Any], *, lr: float,
                   record: Any) -> np.ndarray:
    """Full-batch gradient descent of many softmax-linear classifiers at once.

    The runs of :func:`ribbonlib.classifiers.train` with ``hidden=()``,
    ``optimizer="gd"`` and no weight decay, from the given initial parameters, with all
    runs advanced together (one matrix product per step for all of them).

    Parameters
    ----------
    X : array_like, shape (N, d)
    labels : array_like of int, shape (N,)
    params0 : sequence of ``[W, b]``
        Initial parameters of each run, ``W`` of shape ``(d, C)``, ``b`` of shape
        ``(C,)``.
    lr : float
        Learning rate ``> 0``.
    record : array_like of int
        Strictly increasing steps ``>= 0`` at which to record.

    Returns
    -------
    numpy.ndarray, shape (K, n_snap, N, C)
        Predicted probabilities of every run at every recorded step.
    """
    A = _validate.matrix(X)
    N, d = A.shape
    y, C = _class_labels(labels, N)
    eta = _validate.finite_real(lr, "lr", low=0.0, low_open=True)
    rec = np.asarray(record)
    if (rec.ndim != 1 or rec.size == 0 or not np.issubdtype(rec.dtype, np.integer)
            or rec[0] < 0 or np.any(np.diff(rec) <= 0)):
        raise ValueError("record must be a non-empty 1-D array of strictly increasing "
                         "steps >= 0")
    K = len(params0)
    if K == 0:
        raise ValueError("params0 must hold at least one run")
    _validate.check_size(K * rec.size * N * C, "the recorded probabilities")
    W = np.empty((d + 1, K, C))
    for k, p in enumerate(params0):
        if len(p) != 2 or np.shape(p[0]) != (d, C) or np.shape(p[1]) != (C,):
            raise ValueError(f"params0[{k}] must be [W of shape ({d}, {C}), "
                             f"b of shape ({C},)]")
        W[:d, k], W[d, k] = p[0], p[1]
    if not np.all(np.isfinite(W)):
        raise ValueError("params0 must be finite")
    W = W.reshape(d + 1, K * C)
    Xa = np.hstack([A, np.ones((N, 1))])
    Y = np.eye(C)[y]
    out = np.empty((K, rec.size, N, C))
    j = 0
    for t in range(int(rec[-1]) + 1):
        F = (Xa @ W).reshape(N, K, C)
        F -= F.max(axis=2, keepdims=True)
        E = np.exp(F)
        E /= E.sum(axis=2, keepdims=True)
        if t == rec[j]:
            out[:, j] = E.transpose(1, 0, 2)
            j += 1
            if j == rec.size:
                break
        E -= Y[:, None, :]
        W -= (eta / N) * (Xa.T @ E.reshape(N, K * C))
    return out


def twin_coordinates(twin: Any, params0: Sequence[Any], steps: Any) -> np.ndarray:
    """Cloud coordinates of the linear twins of softmax-linear runs, from their start.

    For initial parameters ``[W, b]`` the twin's centred weights start at
    ``U_0 = W_a Q`` (``W_a`` the weights with the bias as last row) and follow
    gradient descent on the squared loss: in the eigenbasis,
    ``c_t = b + r^t (c_0 − b)`` with ``c_0 = Vᵀ W_a Q`` and ``r = 1 − η λ`` (the
    twin's ``η`` and ``λ``), evaluated by :func:`ribbonlib.dynamics.gd_modes`. The
    coordinates are ``z = sqrt(λ) c``, in the mode order of
    :class:`ribbonlib.classifiers.LinearTwin`; squared distances ``|z − z'|²/(8C)``
    are the twin's Bhattacharyya distances.

    Parameters
    ----------
    twin : ribbonlib.classifiers.LinearTwin
    params0 : sequence of ``[W, b]``
        ``W`` of shape ``(d, C)`` and ``b`` of shape ``(C,)``, ``d + 1`` the size of
        ``twin.V``.
    steps : array_like of int
        Steps ``>= 0``.

    Returns
    -------
    numpy.ndarray, shape (K, n_steps, d_a (C − 1))
    """
    from .classifiers import LinearTwin
    from .dynamics import gd_modes

    if not isinstance(twin, LinearTwin):
        raise ValueError("twin must be a LinearTwin (from classifiers.linear_twin)")
    t = np.asarray(steps)
    if (t.ndim != 1 or t.size == 0 or not np.issubdtype(t.dtype, np.integer)
            or np.any(t < 0)):
        raise ValueError("steps must be a non-empty 1-D array of integers >= 0")
    da, C = twin.V.shape[0], twin.Q.shape[0]
    K = len(params0)
    if K == 0:
        raise ValueError("params0 must hold at least one run")
    D, T = da * (C - 1), int(t.max())
    _validate.check_size(K * t.size * D, "the twin coordinates")
    c0 = np.empty((K, da, C - 1))
    for k, p in enumerate(params0):
        if len(p) != 2 or np.shape(p[0]) != (da - 1, C) or np.shape(p[1]) != (C,):
            raise ValueError(f"params0[{k}] must be [W of shape ({da - 1}, {C}), "
                             f"b of shape ({C},)]")
        Wa = np.vstack([p[0], np.asarray(p[1])[None, :]])
        c0[k] = twin.V.T @ Wa @ twin.Q
    out = np.empty((K, t.size, D))
    chunk = max(1, _CHUNK_ENTRIES // ((T + 1) * D))    # runs per call of gd_modes
    for k0 in range(0, K, chunk):
        modes = gd_modes(twin.lam, twin.b, c0[k0:k0 + chunk].reshape(-1, D),
                         twin.eta, T)
        out[k0:k0 + chunk] = np.sqrt(twin.lam)[None, None] * modes[:, t]
    return out


@dataclass(frozen=True)
class RibbonStatistics:
    """The shape of a cloud read off its spectrum (:func:`ribbon_statistics`).

    Attributes
    ----------
    es : numpy.ndarray, shape (3,)
        Explained stress of 1, 2 and 3 directions.
    k99 : int
        Directions needed for an explained stress of 0.99 (4 means "more than 3").
    widths : numpy.ndarray, shape (2,)
        ``sqrt(|μ_2/μ_1|)`` and ``sqrt(|μ_3/μ_1|)``.
    negative : float
        ``|min(μ, 0)| / μ_1``: the largest time-like eigenvalue relative to the first.
    """

    es: np.ndarray
    k99: int
    widths: np.ndarray
    negative: float


def ribbon_statistics(eigenvalues: Any) -> RibbonStatistics:
    """Explained stress, dimension at 99% and relative widths of a cloud.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,), n >= 3
        Eigenvalues of the cloud (InPCA, signed, or a covariance's), any order; they
        are sorted by decreasing absolute value.

    Returns
    -------
    RibbonStatistics
    """
    from .embedding import explained_stress

    mu = np.asarray(eigenvalues, dtype=float)
    if mu.ndim != 1 or mu.size < 3 or not np.all(np.isfinite(mu)):
        raise ValueError("eigenvalues must be a 1-D array of at least 3 finite numbers")
    mu = mu[np.argsort(-np.abs(mu), kind="stable")]
    if mu[0] <= 0:
        raise ValueError("the leading eigenvalue must be positive")
    es = np.array([explained_stress(mu, k) for k in (1, 2, 3)])
    k99 = 1 + int(np.argmax(np.append(es, 1.0) >= 0.99))
    widths = np.sqrt(np.abs(mu[1:3] / mu[0]))
    return RibbonStatistics(es=es, k99=k99, widths=widths,
                            negative=float(-min(mu.min(), 0.0) / mu[0]))


def log_crossing(x: Any, y: Any, level: float) -> float:
    """Where ``y`` first rises through ``level``, interpolated in ``(log x, log y)``.

    Parameters
    ----------
    x : array_like, shape (n,)
        Increasing positive abscissae.
    y : array_like, shape (n,)
        Positive values.
    level : float
        ``> 0``.

    Returns
    -------
    float
        The first crossing; ``nan`` when ``y`` stays below ``level`` or starts at or
        above it.
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape or xs.size < 2:
        raise ValueError("x and y must be 1-D arrays of the same length >= 2")
    if np.any(xs <= 0) or np.any(np.diff(xs) <= 0) or np.any(ys <= 0):
        raise ValueError("x must be increasing and positive, y positive")
    lev = _validate.finite_real(level, "level", low=0.0, low_open=True)
    if ys[0] >= lev:
        return float("nan")
    above = np.flatnonzero(ys >= lev)
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    lx, ly = np.log(xs[i - 1:i + 1]), np.log(ys[i - 1:i + 1])
    frac = (np.log(lev) - ly[0]) / (ly[1] - ly[0])
    return float(np.exp(lx[0] + frac * (lx[1] - lx[0])))


def t_to_z(t: Any, dof: int) -> np.ndarray:
    """Student-t statistics mapped to normal quantiles of the same tail probability.

    A mean of ``n`` replicates divided by its estimated standard error is ``t``
    distributed with ``n − 1`` degrees of freedom; ``check.statistical`` compares
    standard normal ``z``. The map ``z = sign(t) Φ⁻¹(F_t(|t|))`` keeps the false-alarm
    probability exact.

    Parameters
    ----------
    t : array_like
    dof : int
        Degrees of freedom ``>= 1``.

    Returns
    -------
    numpy.ndarray
    """
    from scipy import stats

    nu = _validate.integer(dof, "dof", low=1)
    tt = np.asarray(t, dtype=float)
    return np.sign(tt) * stats.norm.isf(stats.t.sf(np.abs(tt), nu))


def check_in_interval(name: str, replicates: Any, low: Any, high: Any, *,
                      alpha: float | None = None, method: str = "") -> Any:
    """Statistical check that the mean of replicates lies in ``[low, high]``.

    The claim is that the expectation ``m`` of the replicated quantity lies in the
    interval. From ``R`` replicates (along the last axis) the mean ``x̄`` and its
    standard error ``s/sqrt(R)`` give ``t = (x̄ − clip(x̄, low, high)) / (s/sqrt(R))``,
    the distance of the estimate outside the interval in standard errors (0 inside).
    For ``m`` on the boundary ``t`` is Student-t distributed with ``R − 1`` degrees of
    freedom, and :func:`t_to_z` maps it to a standard normal quantile, which
    :func:`ribbonlib.check.statistical` compares with its limit: the check fails with
    probability at most ``alpha`` when the claim holds.

    Parameters
    ----------
    name : str
        The claim, in words.
    replicates : array_like, shape (..., R)
        Independent replicates, ``R >= 2``; each entry of the leading axes is one
        claim.
    low, high : array_like
        Ends of the claimed intervals, broadcastable to the leading shape;
        ``-inf``/``inf`` for one-sided claims.
    alpha : float, optional
        False-alarm probability (the book's default when omitted).
    method : str, optional
        How the replicates were drawn, for the ledger.

    Returns
    -------
    ribbonlib.check.Outcome
    """
    from . import check

    x = np.asarray(replicates, dtype=float)
    if x.ndim == 0 or x.shape[-1] < 2 or not np.all(np.isfinite(x)):
        raise ValueError("replicates must be finite, with at least 2 along the last "
                         "axis")
    R = x.shape[-1]
    mean = x.mean(axis=-1)
    se = x.std(axis=-1, ddof=1) / np.sqrt(R)
    lo = np.broadcast_to(np.asarray(low, dtype=float), mean.shape)
    hi = np.broadcast_to(np.asarray(high, dtype=float), mean.shape)
    if np.any(lo > hi):
        raise ValueError("low must not exceed high")
    gap = mean - np.clip(mean, lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(gap == 0.0, 0.0, gap / se)
    z = t_to_z(t, R - 1)
    kw = {} if alpha is None else {"alpha": alpha}
    how = (f"mean of {R} independent replicates against the claimed interval, "
           f"Student t with {R - 1} degrees of freedom mapped to its normal quantile")
    return check.statistical(name, z, 0.0, 1.0,
                             method=f"{method}; {how}" if method else how, **kw)
