"""The course keeps glibc from unmapping large freed blocks (``dlfoundations.tune_allocator``), wherever the
package is imported on Linux with glibc, and ``DLF_MALLOC=off`` turns that off."""

import json
import os
import subprocess
import sys

import pytest

import dlfoundations


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and "glibc" in (os.confstr("CS_GNU_LIBC_VERSION") or "")
    except (ValueError, OSError):
        return False


glibc = pytest.mark.skipif(not _glibc(), reason="glibc's malloc only")

# allocate, fill and free a 64 MiB tensor, as a training step does with its large temporaries; after twenty
# such steps (the heap settles within about eight: an aligned request is a little larger than the block freed
# before it), print the minor page faults of ten more
FAULTS = """
import resource, dlfoundations, torch
for step in range(30):
    if step == 20:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = torch.empty(16 * 2**20).fill_(1.0)
    del block
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, dlfoundations.ALLOCATOR)
"""


def faults(**env) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "DLF_MALLOC"}
    out = subprocess.run(
        [sys.executable, "-c", FAULTS], env={**clean, **env}, capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    return int(out[0]), out[1].strip()


@glibc
def test_importing_the_package_makes_large_blocks_reusable():
    """Without the tuning every block is a fresh mapping the kernel zero-fills page by page (16,384 faults of
    4 KiB pages each); with it, the blocks of the settled heap fault nothing."""
    tuned, said = faults()
    default, said_off = faults(DLF_MALLOC="off")
    assert said.startswith("glibc ") and "reused" in said and "DLF_MALLOC=off" in said_off
    assert default >= 10 and 20 * tuned < default, (default, tuned)  # 2 MiB pages where THP is always on
    environment, said_env = faults(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_=str(2**30))
    assert "from the environment" in said_env and 20 * environment < default  # glibc's own variables, kept


@glibc
def test_the_tuning_is_in_effect_here_and_in_the_first_output():
    """The tests (and so nbval's kernels, which import the package) run with it, and a chapter's first output
    says which allocator the run had."""
    from dlfoundations import config

    assert "reused" in dlfoundations.ALLOCATOR or "MALLOC_MMAP_MAX_=0" in dlfoundations.ALLOCATOR
    assert f"malloc: {dlfoundations.ALLOCATOR}" in config.describe(on="cpu")


@glibc
def test_the_benchmark_compares_both_allocators_on_a_training_step(tmp_path):
    """``benchmarks/allocator.py`` runs a workload in two processes, glibc's defaults and the tuning, and the
    tuned one takes fewer page faults per step (the times themselves are the benchmark's to report)."""
    from pathlib import Path

    script = Path(__file__).parents[1] / "benchmarks" / "allocator.py"
    out = tmp_path / "allocator.json"
    subprocess.run([sys.executable, str(script), "--steps", "3", "--only", "fc", "--out", str(out)], check=True)
    (row,) = json.loads(out.read_text())["rows"]
    assert "DLF_MALLOC=off" in row["glibc"]["allocator"] and "reused" in row["tuned"]["allocator"]
    assert row["tuned"]["faults_per_step"] < row["glibc"]["faults_per_step"] / 20
    assert row["speedup"] == row["glibc"]["ms_per_step"] / row["tuned"]["ms_per_step"]
