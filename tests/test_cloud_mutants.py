"""Tests of ribbonlib.cloud aimed at mutants that the tests of test_cloud.py let pass.

* sample_moments' default ``chunk_entries`` is the documented 4_000_000: with
  ``(T + 1) d = 41`` coordinates per run (41 divides 4_000_001), a default of one
  more entry would put one more run in the first chunk and round differently.
"""

from __future__ import annotations

import numpy as np

from ribbonlib import cloud


def test_sample_moments_default_chunk_is_four_million_entries():
    """The default equals ``chunk_entries=4_000_000`` bitwise (the signature's
    value), on a cloud of 100_000 runs of 41 coordinates: the chunks hold
    ``4_000_000 // 41 = 97_560`` runs, and the moments agree with ``numpy.cov`` of
    the whole cloud to round-off."""
    args = ([0.5], [1.0], 1.0, 0.3, 40, 100_000)
    mean, cov = cloud.sample_moments(*args, seed=7)
    mean4, cov4 = cloud.sample_moments(*args, seed=7, chunk_entries=4_000_000)
    np.testing.assert_array_equal(mean, mean4)
    np.testing.assert_array_equal(cov, cov4)
    Z = cloud.sample(*args, seed=7)
    np.testing.assert_allclose(mean, Z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(Z.T, bias=True).reshape(1, 1), rtol=1e-10)
