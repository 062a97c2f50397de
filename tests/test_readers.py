"""The course as readers outside CI meet it: a kernel without myst-nb. (A fresh install without extras runs every
chapter in ``make check-html``: ``make plain`` builds it, ``book --kernel-python`` runs the kernels there.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL_SITE = ROOT / "tests" / "kernel_site"


def test_the_colab_stand_in_blocks_myst_nb_and_glue_still_shows_values():
    """What ``pytest --without-myst-nb`` gives every nbval kernel (make test runs the chapters so)."""
    code = (
        "import importlib.util\n"
        "try:\n    import myst_nb\nexcept ModuleNotFoundError:\n    print('blocked')\n"
        "from dlfoundations.book import glue\n"
        "glue('x', 0.25)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(KERNEL_SITE), "DLF_BLOCK_MYST_NB": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["blocked", "0.25"]
