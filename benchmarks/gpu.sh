#!/usr/bin/env bash
# The GPU measurements of chapter 11, in one go (about 10 minutes on one A100/H100-class GPU).
#
#   CIFAR10_ROOT=/path/to/cifar10 bash benchmarks/gpu.sh [name]
#
# [name] defaults to the GPU's whole name in lower case ("nvidia-h100-80gb-hbm3"). Every file is written as
# its step goes (the speedrun files after each seed, the throughput file after each row), so a step that
# fails or runs out of time keeps what it finished; the script goes on to the next step and exits non-zero
# at the end if any failed. It refuses to start if a file it would write exists (pass another name).
#
#   results/speedrun-<name>-bf16.json           airbench94's recipe at full size, 5 seeds, bfloat16 autocast
#   results/speedrun-<name>-fp16.json           the same in float16 autocast, airbench's own precision
#   results/speedrun-<name>-bf16-compiled.json  bfloat16 under torch.compile (after an untimed compile run)
#   results/airbench94-<name>.json              airbench94's own script, unmodified, on the same copy of the
#                                               data (25 runs): the decisive check of chapter 11's gap
#   _build/bench/train-<name>.json              training throughput of every network (benchmarks/train.py)
#   _build/bench/airbench94-<name>.txt          the script's own printout
#
# airbench94's script is not part of this repository; fetch it once (the file is at the root of the
# repository in its 2024 commits):
#
#   git clone https://github.com/KellerJordan/cifar10-airbench _build/cifar10-airbench
#   AIRBENCH94=_build/cifar10-airbench/legacy/airbench94.py    # the default path; set it for another copy
#
# Without it that step is skipped (and reported). The script trains on whatever `cifar10/train.pt` and
# `cifar10/test.pt` it finds in its working folder and downloads only when they are missing, so it runs in
# a scratch folder where dlfoundations.speedrun.export_for_airbench has written the copy that CIFAR10_ROOT
# names: the same images as every other line here. Commit the results files from a clean commit (the
# speedrun files refuse uncommitted code unless DLF_ALLOW_DIRTY=1): chapter 11 then shows them.
#
# GPU_SH_STEPS picks steps (default all: "bf16 fp16 compiled train airbench"), to redo one that failed.
# A dry run of every line on the CPU, at tiny sizes (tests/test_speedrun.py runs it in a temporary folder):
#   GPU_SH_DEVICE=cpu GPU_SH_TINY=1 GPU_SH_RESULTS=/tmp/r GPU_SH_BENCH=/tmp/b bash benchmarks/gpu.sh dry-run
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python
# a relative path (the default) made absolute without resolving links (that would leave the venv): the airbench step runs
# its script from a scratch folder
[[ $python == /* || $python != */* ]] || python=$PWD/$python
device=${GPU_SH_DEVICE:-cuda}
results_dir=${GPU_SH_RESULTS:-results}
bench_dir=${GPU_SH_BENCH:-_build/bench}
airbench=${AIRBENCH94:-_build/cifar10-airbench/legacy/airbench94.py}
steps=" ${GPU_SH_STEPS:-bf16 fp16 compiled train airbench} "
export DLF_PROFILE=full

if [ "$device" = cuda ]; then
    "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device: this script measures a GPU")' || exit 1
fi
if [ $# -ge 1 ]; then
    name=$1
else
    name=$("$python" -c 'import re, torch; print(re.sub("[^a-z0-9]+", "-", torch.cuda.get_device_name(0).lower()).strip("-"))') || exit 1
fi

if [ -n "${GPU_SH_TINY:-}" ]; then  # a dry run: tiny sizes, a tracing-only compile, nothing worth timing
    # three steps of 16 images (float16 convolutions train tens of times slower than bfloat16 on a CPU)
    speedrun_sizes=(--profile quick --train-images 400 --test-images 100 --batch-size 16 --epochs 0.12 --seeds 1)
    compile_backend=aot_eager
    train_sizes=(--steps 2 --repeats 1 --max-batch 4)
else
    speedrun_sizes=(--profile full --seeds 5)
    compile_backend=inductor
    train_sizes=()
fi

declare -A files=(
    [bf16]=$results_dir/speedrun-$name-bf16.json
    [fp16]=$results_dir/speedrun-$name-fp16.json
    [compiled]=$results_dir/speedrun-$name-bf16-compiled.json
    [train]=$bench_dir/train-$name.json
    [airbench]=$results_dir/airbench94-$name.json
)
airbench_text=$bench_dir/airbench94-$name.txt
for step_name in "${!files[@]}"; do
    file=${files[$step_name]}
    if [[ $steps == *" $step_name "* && -e $file ]]; then
        echo "$file exists: pass another name (bash benchmarks/gpu.sh <name>) or move it away" >&2
        exit 1
    fi
done
mkdir -p "$results_dir" "$bench_dir"

failed=()
step() {  # step SECONDS COMMAND...: run it under a time limit; on failure note it and go on
    local limit=$1
    shift
    echo "== $*" >&2
    if ! timeout "$limit" "$@"; then
        failed+=("$*")
        echo "FAILED or out of time (${limit} s): $*" >&2
    fi
}

# on CUDA every speedrun line makes an untimed warm-up run first (its own default); the compiled one needs it
speedrun=("$python" -m dlfoundations.speedrun --device "$device" "${speedrun_sizes[@]}")
[[ $steps == *" bf16 "* ]] && step 150 "${speedrun[@]}" --half bf16 --out "${files[bf16]}"
[[ $steps == *" fp16 "* ]] && step 150 "${speedrun[@]}" --half fp16 --out "${files[fp16]}"
[[ $steps == *" compiled "* ]] && step 300 "${speedrun[@]}" --warmup --half bf16 --compile \
    --compile-backend "$compile_backend" --out "${files[compiled]}"
[[ $steps == *" train "* ]] && step 300 "$python" benchmarks/train.py --device "$device" "${train_sizes[@]}" \
    --compile --compile-networks speedrun --compile-backend "$compile_backend" --out "${files[train]}"

airbench_step() {  # airbench94's own script in a scratch folder holding this copy of the data
    local script work log
    script=$(realpath "$airbench") || return 1
    work=$(mktemp -d) || return 1
    "$python" -c 'import sys; from dlfoundations import speedrun; speedrun.export_for_airbench(sys.argv[1])' \
        "$work/cifar10" || return 1
    (cd "$work" && timeout 450 "$python" "$script") | tee "$airbench_text"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    log=$(ls "$work"/logs/*/log.pt | head -1) || return 1
    "$python" -c 'import sys; from dlfoundations import speedrun; print("wrote", speedrun.save_airbench_run(*sys.argv[1:]))' \
        "$log" "${files[airbench]}" "$device" || return 1
    rm -rf "$work"
}
if [[ $steps != *" airbench "* ]]; then
    :
elif [ -f "$airbench" ]; then
    echo "== airbench94's own script: $airbench" >&2
    airbench_step || { failed+=("airbench94 ($airbench)"); echo "FAILED: airbench94's script" >&2; }
else
    failed+=("airbench94: no script at $airbench (see the top of this file to fetch it)")
    echo "skipped: no airbench94 script at $airbench (see the top of benchmarks/gpu.sh)" >&2
fi

if [ ${#failed[@]} -gt 0 ]; then
    printf 'not done: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "done:$steps; files in $results_dir and $bench_dir"
