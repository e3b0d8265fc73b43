"""constraints.txt pins what pyproject.toml asks for, and every tool a stage signature names."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

from tests.conftest import REPO


def pins() -> dict[str, str]:
    found = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def test_every_requirement_is_pinned_consistently() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = [*project["project"]["dependencies"],
              *(r for extra in project["project"]["optional-dependencies"].values()
                for r in extra),
              *project["tool"]["kenning_tasks"]["no_deps_requirements"]]
    locked = pins()
    for text in wanted:
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in locked, f"{name} is not in constraints.txt"
        # A local version (torch 2.13.0+cpu) satisfies ==2.13.0, as pip sees it.
        assert requirement.specifier.contains(locked[name], prereleases=True), (name, text)


def test_the_tools_stage_signatures_name_are_pinned() -> None:
    locked = pins()
    for name in ("numpy", "scikit-learn", "matplotlib", "jinja2", "pyyaml", "doit", "psutil",
                 "keras", "tensorflow-cpu", "onnxruntime"):
        assert name in locked, name
