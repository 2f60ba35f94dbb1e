"""pytest plugin for mutation runs (pyproject's [tool.mutmut] loads it with ``-p``).

Which tests. The mutants are tested against the unit and property tests of the numeric
modules: a test file is collected only if it imports one of the modules listed in
``only_mutate``. Tests of the book's machinery (pins, offline assets, the index, the
built HTML, figures, typesetting) import none, need files that mutmut's copy of the
tree does not have, and cannot kill a mutant; new test files of the numeric modules
are picked up without touching the configuration.

Property tests stop at their first counter-example. A mutant is killed as soon as one
example fails; shrinking that example to a minimal one (hypothesis' default) only
costs time, and for the property tests of the bounds it costs more than the CPU limit
of a mutant, which then counts as a timeout instead of a kill. The profile keeps
everything else of the suite's "ribbon" profile (derandomized, same number of
examples); tests/conftest.py has loaded "ribbon" by the time this plugin configures.
"""

from __future__ import annotations

import ast
import tomllib
from functools import cache
from pathlib import Path

from hypothesis import Phase, settings
from hypothesis.errors import InvalidArgument


@cache
def numeric_modules(root: Path) -> frozenset[str]:
    """Names of the mutated modules (``bounds``, ...), from pyproject.toml."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return frozenset(Path(p).stem for p in data["tool"]["mutmut"]["only_mutate"])


def imported_ribbonlib_modules(source: str) -> set[str]:
    """The ``ribbonlib`` submodules a test file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "ribbonlib":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("ribbonlib."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names
                      if a.name.startswith("ribbonlib.")}
    return found


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    source = collection_path.read_text(encoding="utf-8")
    if imported_ribbonlib_modules(source) & numeric_modules(config.rootpath):
        return None
    return True


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
