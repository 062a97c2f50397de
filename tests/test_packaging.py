"""The install files agree with each other, and the two README commands exist."""

import re
import tomllib
from pathlib import Path

import yaml

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


def test_readme_gives_the_two_commands_and_ci_runs_the_tests():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^book:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
