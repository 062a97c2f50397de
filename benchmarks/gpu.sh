#!/usr/bin/env bash
# The GPU measurements of the course, in one go (about 6 minutes on one A100/H100-class GPU).
#
#   CIFAR10_ROOT=/path/to/cifar10 bash benchmarks/gpu.sh [name]
#
# Writes results/speedrun-<name>.json (airbench94's recipe at full size, 5 seeds, eager),
# results/speedrun-<name>-compiled.json (the same under torch.compile, after an untimed compile run)
# and _build/bench/train-<name>.json (training throughput of every network, eager and compiled).
# Commit the two results files: chapter 11 then shows seconds as well as accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device: this script measures a GPU")'
name="${1:-$("$python" -c 'import torch; print(torch.cuda.get_device_name(0).split()[-1].lower())')}"
export DLF_PROFILE=full
mkdir -p _build/bench results
timeout 150 "$python" -m dlfoundations.speedrun --device cuda --seeds 5 --out "results/speedrun-$name.json"
timeout 240 "$python" -m dlfoundations.speedrun --device cuda --seeds 5 --compile --out "results/speedrun-$name-compiled.json"
timeout 90 "$python" benchmarks/train.py --device cuda --compile --out "_build/bench/train-$name.json"
