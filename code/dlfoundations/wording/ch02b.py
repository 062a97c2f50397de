"""Chapter 2b, neurons and convolution: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# a shift of the input against circular padding: is the matrix product version (conv2d) equivariant bit for bit?
MATMUL_EXACT = Wording(
    "In this run the matrix product version is bit for bit equivariant as well, but nothing guarantees it: a blocked "
    "matrix product may sum the same terms in a different order in different columns, so it is held only to rounding "
    "(below $10^{{-12}}$).",
    "在這次執行中，矩陣乘積版本也是逐位元等變的，但這一點並無保證：分塊的矩陣乘積可能在不同的欄中以不同的順序把相同的項相加，"
    "因此只要求它在捨入誤差內相符（低於 $10^{{-12}}$）。",
)
MATMUL_ROUNDED = Wording(
    "The matrix product version differs by {difference:.0e}: a blocked matrix product may sum the same terms in a "
    "different order in different columns.",
    "矩陣乘積版本則相差 {difference:.0e}：分塊的矩陣乘積可能在不同的欄中以不同的順序把相同的項相加。",
)

# the committed multi-seed LeNet-5 runs of a profile (experiments.lenet_reference), or that there are none yet
LENET_COMMITTED = Wording(
    "The committed `{profile}` runs reached {accuracy} test accuracy (mean ± standard deviation over seeds {seeds}; "
    "`results/{file}`, {images:,} training images, {epochs} epochs, {device_name} {device}, commit `{commit}`).",
    "已提交的 `{profile}` 執行結果達到 {accuracy} 的測試準確率（隨機種子 {seeds} 的平均值 ± 標準差；"
    "`results/{file}`，訓練影像 {images:,} 張，{epochs} 個訓練週期，{device_name} {device}，commit `{commit}`）。",
)
LENET_NOT_COMMITTED = Wording(
    "No multi-seed run of the `{profile}` profile is committed yet (not run yet): `results/` holds no file of kind "
    "`{kind}` at that profile's sizes. `python -m dlfoundations.experiments lenet --profile {profile} --out "
    "results/lenet-{profile}-cpu.json` writes one.",
    "`{profile}` 執行設定檔的多隨機種子執行尚未提交（還沒執行）："
    "`results/` 中沒有該執行設定檔規模下、類型為 `{kind}` 的檔案。"
    "執行 `python -m dlfoundations.experiments lenet --profile {profile} --out "
    "results/lenet-{profile}-cpu.json` 即可寫出這樣的檔案。",
)

# what the test accuracy of this page's LeNet-5 runs averages over
SEEDS_MEAN = Wording("mean ± standard deviation over {n} seeds", "{n} 個隨機種子的平均值 ± 標準差")
ONE_SEED = Wording("one seed, {seed}", "單一隨機種子 {seed}")
