"""pytest plugin for mutation runs: property tests stop at their first counter-example.

A mutant is killed as soon as one example fails; shrinking that example to a minimal
one (hypothesis' default) only costs time, and for the property tests of the bounds it
costs more than the CPU limit of a mutant, which then counts as a timeout instead of
a kill. The profile keeps everything else of the suite's "ribbon" profile
(derandomized, same number of examples). pyproject's [tool.mutmut] loads this plugin
with ``-p``; tests/conftest.py has loaded "ribbon" by then.
"""

from __future__ import annotations

from hypothesis import Phase, settings
from hypothesis.errors import InvalidArgument


def pytest_configure(config) -> None:  # noqa: ARG001 (pytest hook signature)
    try:
        parent = settings.get_profile("ribbon")
    except InvalidArgument:  # no conftest loaded: the current settings
        parent = settings()
    settings.register_profile(
        "ribbon-mutation", parent=parent,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    settings.load_profile("ribbon-mutation")
