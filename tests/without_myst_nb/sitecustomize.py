"""On ``PYTHONPATH``, this folder makes Python behave like a fresh Colab runtime: ``myst_nb`` is not importable.

``make test`` runs every chapter under nbval this way (``pytest --without-myst-nb``), so a chapter
that imports myst-nb directly, instead of ``dlfoundations.book.glue``, fails there and not in Colab.
"""

import sys

BLOCKED = "myst_nb"


class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED or name.startswith(BLOCKED + "."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by tests/without_myst_nb)", name=name)
        return None


sys.meta_path.insert(0, _Blocked())
