"""The conda/Binder environment mirrors the pinned pip constraints exactly."""

from __future__ import annotations

import tomllib

import yaml
from packaging.requirements import Requirement

from nbrun import ROOT


def pins_from_constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"constraints.txt must pin exactly: {line}"
            pins[req.name.lower().replace("_", "-")] = spec.version
    return pins


def test_environment_yml_mirrors_constraints():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = {}
    for item in pip_section:
        if item.startswith("-"):
            continue
        req = Requirement(item)
        (spec,) = req.specifier
        env_pins[req.name.lower().replace("_", "-")] = spec.version
    assert env_pins == pins_from_constraints()


def test_every_declared_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    pins = pins_from_constraints()
    for item in declared:
        req = Requirement(item)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), f"pin {name}=={pins[name]} violates {req}"
