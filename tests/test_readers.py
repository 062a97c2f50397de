"""The course as readers outside CI meet it: a kernel without myst-nb, and a fresh install without extras."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WITHOUT_MYST_NB = ROOT / "tests" / "without_myst_nb"
CIFAR10_ROOT = os.environ.get("CIFAR10_ROOT")  # read before tests/conftest.py hides it from each test


def test_the_colab_stand_in_blocks_myst_nb_and_glue_still_shows_values():
    """What ``pytest --without-myst-nb`` gives every nbval kernel (make test runs the chapters so)."""
    code = (
        "import importlib.util\n"
        "try:\n    import myst_nb\nexcept ModuleNotFoundError:\n    print('blocked')\n"
        "from dlfoundations.book import glue\n"
        "glue('x', 0.25)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(WITHOUT_MYST_NB)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["blocked", "0.25"]


def chapter_script(path: Path) -> str:
    """The code cells of a chapter, in order, as one script (the install cell included)."""
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.slow
def test_chapter_01_runs_after_a_plain_pip_install(tmp_path):
    """``pip install dlfoundations`` without the book/test extras (no myst-nb, no Jupyter), then chapter 01.

    The virtual environment is new; pip takes the pinned wheels from its cache and the registry. The
    chapter runs as a script in the quick profile, which is what a reader's bare kernel executes.
    """
    venv = tmp_path / "venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    source = tmp_path / "source"  # a copy, so that the build leaves no build/ or egg-info in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "code", source / "code", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    install = [str(python), "-m", "pip", "install", "-q", "-c", str(source / "constraints.txt"), str(source)]
    subprocess.run(install, check=True, cwd=tmp_path)
    installed = time.perf_counter() - started
    print(f"fresh virtual environment with dlfoundations installed in {installed:.0f} s")
    extras = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u; print([m for m in ('myst_nb', 'nbval', 'jupyter_book') if u.find_spec(m)])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert extras == "[]", f"the plain install pulled in extras: {extras}"
    script = tmp_path / "chapter01.py"
    script.write_text(chapter_script(ROOT / "chapters" / "01_gradient_descent.ipynb"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(DLF_PROFILE="quick", MPLBACKEND="Agg", DLF_DEVICE="cpu")
    if CIFAR10_ROOT:
        env["CIFAR10_ROOT"] = CIFAR10_ROOT
    run = subprocess.run([str(python), str(script)], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.startswith("profile: quick"), run.stdout[:500]
