"""pytest options for the whole repository (unit tests in tests/, chapters under nbval)."""

import os
from pathlib import Path

import pytest

KERNEL_SITE = Path(__file__).resolve().parent / "tests" / "kernel_site"  # its sitecustomize changes the kernels


def pytest_addoption(parser):
    parser.addoption(
        "--without-myst-nb",
        action="store_true",
        help="run the notebooks' kernels with myst_nb unimportable, as in Colab or a bare Jupyter",
    )
    parser.addoption(
        "--emulate-mps",
        action="store_true",
        help="run the notebooks' kernels with a pretend Apple MPS device that has no float64 (tests/kernel_site)",
    )
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow (.ci/run does)")


def pytest_configure(config):
    # the tests write results files only under tmp_path, often from a working tree with uncommitted changes;
    # tests/test_results.py checks the refusal itself with this unset
    os.environ["DLF_ALLOW_DIRTY"] = "1"
    config.addinivalue_line("markers", "slow: minutes long; run with --run-slow")
    # under pytest-xdist (make test runs two workers), each worker and the kernels it starts share the cores
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // int(workers)))
    # kernels started by nbval inherit the environment; this process keeps its own sys.path
    if config.getoption("--without-myst-nb"):
        os.environ["DLF_BLOCK_MYST_NB"] = "1"
    if config.getoption("--emulate-mps"):
        os.environ["DLF_EMULATE_MPS"] = "1"
    if config.getoption("--without-myst-nb") or config.getoption("--emulate-mps"):
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(KERNEL_SITE), os.environ.get("PYTHONPATH")]))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (.ci/run does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
