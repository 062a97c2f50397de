"""Chapter 3, backpropagation: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

SPIRAL_RUN = Wording(
    "NumPy, float64, CPU; profile `{profile}`, seed {seed}",
    "NumPy、float64、CPU；執行設定檔 `{profile}`、隨機種子 {seed}",
)
BACKWARD_RUN = Wording(
    "profile `{profile}`, on one CPU thread (the function's default: the ratio wanders less), "
    "fastest of 7 timings each, taken in turn",
    "執行設定檔 `{profile}`，單一 CPU 執行緒（此函式的預設值：這樣比值的波動較小），"
    "前向與反向輪流計時，各取 7 次中最快的一次",
)
