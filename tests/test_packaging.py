"""The install files agree with each other, and the two README commands exist."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
NOT_A_DEPENDENCY = {"python", "pip", "dlfoundations"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_name(r) for r in requirements}


def environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        else:
            names.add(CONDA_NAMES.get(_name(dep), _name(dep)))
    return names - NOT_A_DEPENDENCY


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_lists_the_same_packages_as_pyproject():
    assert environment_names() == pyproject_names()


def test_environment_yml_pins_agree_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "jupyter-book==1.0.4.post1" in pip and "nbval==0.11.0" in pip
    assert "pytorch=2.14" in env["dependencies"] and "torchvision=0.29" in env["dependencies"]


def test_constraints_pin_every_dependency_exactly():
    pins = constraints()
    missing = pyproject_names() - set(pins)
    assert not missing, f"constraints.txt lacks {missing}"
    assert pins["torch"].startswith("2.14.") and pins["torchvision"].startswith("0.29.")
    assert pins["jupyter-book"] == "1.0.4.post1" and pins["nbval"] == "0.11.0"


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    return [Requirement(r) for r in listed]


def test_every_pin_satisfies_pyproject():
    pins = constraints()
    wrong = [f"{r} vs =={pins[_name(r.name)]}" for r in requirements() if pins[_name(r.name)] not in r.specifier]
    assert not wrong, f"constraints.txt pins versions pyproject.toml excludes: {wrong}"


def test_upper_bounds_are_the_series_above_the_tested_versions():
    """``<2.15`` with torch 2.14.1 pinned, ``<4`` with matplotlib 3.11.2: never a bound CI has not reached."""
    pins = constraints()
    for requirement in requirements():
        for spec in requirement.specifier:
            if spec.operator != "<":
                continue
            bound, tested = Version(spec.version).release, Version(pins[_name(requirement.name)]).release
            expected = (*tested[: len(bound) - 1], tested[len(bound) - 1] + 1)
            assert bound == expected, f"{requirement}: CI tested {tested}, so the bound should be <{expected}"


def test_readme_says_what_is_pinned_and_how_to_update_it():
    readme = (ROOT / "README.md").read_text()
    assert "make constraints" in readme and "make test-latest" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^constraints:", makefile, re.M) and re.search(r"^test-latest:", makefile, re.M)
    weekly = yaml.safe_load((ROOT / ".github" / "workflows" / "latest.yml").read_text())
    assert "schedule" in weekly[True] and "make test-latest" in str(weekly["jobs"])


def test_readme_gives_the_two_commands_and_ci_runs_the_tests():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^book:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
