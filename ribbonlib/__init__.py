"""ribbonlib: closed forms, bounds and checks behind the ribbon-book.

Submodules
----------
check      checks that raise and are recorded for the verification ledger
certify    rigorous enclosures (Arb ball arithmetic) for certified checks
figures    the book's figure style and the legibility metadata of its PNGs
typeset    numbers typeset for prose (1.2×10⁻⁸)
embedding  Bhattacharyya distances and intensive PCA (InPCA)
spectra    eigenvalue families and data spectra
dynamics   gradient descent (closed form and explicit), SGD, kernel GD
cloud      the cloud of training trajectories: samples and exact covariance
bounds     Zolotarev / displacement-rank bounds and the cloud-spectrum sandwich
kernels    RBF, Laplace and arc-cosine kernels
sgd        exact second moments of online SGD
phase      certified bounds on the cloud spectrum, sweeps and the hyper-ribbon criterion
boundaries leading asymptotics of the phase boundaries

Importing ribbonlib has no side effects (no plotting, no global state beyond the
in-memory list of check outcomes).
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("check", "certify", "figures", "typeset", "embedding", "spectra", "dynamics", "cloud", "bounds", "kernels", "sgd", "phase", "boundaries")

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"ribbonlib.{name}")
    raise AttributeError(f"module 'ribbonlib' has no attribute {name!r}")
