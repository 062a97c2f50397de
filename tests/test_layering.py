"""The package has two layers: the ideas the chapters teach never import the machinery that runs experiments."""

import ast
import pathlib

import dlfoundations

PACKAGE = pathlib.Path(dlfoundations.__file__).parent


def imported_package_modules(module: str) -> set[str]:
    """Modules of this package that ``module`` imports, at any depth of its code (lazy imports included)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:  # from . import x, y
                names |= {alias.name for alias in node.names}
            elif node.level == 1:  # from .x import y
                names.add(node.module.split(".")[0])
            elif node.module and node.module.startswith("dlfoundations"):
                parts = node.module.split(".")
                names |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dlfoundations.")}
    return names


def test_the_two_layers_cover_the_package():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    modules |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}  # subpackages (wording)
    assert set(dlfoundations.IDEAS) | set(dlfoundations.MACHINERY) == modules
    assert not set(dlfoundations.IDEAS) & set(dlfoundations.MACHINERY)


def test_teaching_modules_import_no_machinery():
    for module in dlfoundations.IDEAS:
        assert not imported_package_modules(module) & set(dlfoundations.MACHINERY), module


def test_the_checker_sees_imports():
    assert {"augmentation", "config", "optim", "training"} <= imported_package_modules("speedrun")


def test_modules_are_imported_on_first_use():
    """``import dlfoundations`` loads nothing; an idea module needs neither matplotlib nor sympy (chapter 01
    imports sympy itself)."""
    import subprocess
    import sys

    code = (
        "import sys, dlfoundations\n"
        "assert not [m for m in sys.modules if m.startswith('dlfoundations.')] and 'torch' not in sys.modules\n"
        "from dlfoundations import optim, backprop, initializers\n"
        "assert 'matplotlib' not in sys.modules and 'sympy' not in sys.modules, sorted(sys.modules)\n"
        "assert dlfoundations.plots.__name__ == 'dlfoundations.plots'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
