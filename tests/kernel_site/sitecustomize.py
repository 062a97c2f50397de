"""On ``PYTHONPATH``, this folder changes the Python processes that start with it (the notebooks' kernels).

``DLF_BLOCK_MYST_NB=1`` makes them behave like a fresh Colab runtime: ``myst_nb`` is not importable, so a
chapter that imports myst-nb directly, instead of ``dlfoundations.book.glue``, fails (``pytest
--without-myst-nb``, as ``make test`` runs every chapter). ``DLF_EMULATE_MPS=1`` gives them a pretend Apple
MPS device without float64 (:mod:`mps_emulation`, ``pytest --emulate-mps``); only Jupyter kernels get it, not
the other processes that tests start.
"""

import os
import sys

BLOCKED = "myst_nb"


class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED or name.startswith(BLOCKED + "."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by tests/kernel_site)", name=name)
        return None


if os.environ.get("DLF_BLOCK_MYST_NB") == "1":
    sys.meta_path.insert(0, _Blocked())
if os.environ.get("DLF_EMULATE_MPS") == "1" and any("ipykernel" in a for a in sys.orig_argv):  # kernels only
    import mps_emulation

    mps_emulation.install()
