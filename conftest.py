"""pytest options for the whole repository (unit tests in tests/, chapters under nbval)."""

import os
from pathlib import Path

import pytest

WITHOUT_MYST_NB = Path(__file__).resolve().parent / "tests" / "without_myst_nb"


def pytest_addoption(parser):
    parser.addoption(
        "--without-myst-nb",
        action="store_true",
        help="run the notebooks' kernels with myst_nb unimportable, as in Colab or a bare Jupyter",
    )
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow (.ci/run does)")


def pytest_configure(config):
    # the tests write results files only under tmp_path, often from a working tree with uncommitted changes;
    # tests/test_results.py checks the refusal itself with this unset
    os.environ["DLF_ALLOW_DIRTY"] = "1"
    config.addinivalue_line("markers", "slow: minutes long; run with --run-slow")
    if config.getoption("--without-myst-nb"):
        # kernels started by nbval inherit the environment; this process keeps its own sys.path
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(WITHOUT_MYST_NB), os.environ.get("PYTHONPATH")]))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (.ci/run does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
