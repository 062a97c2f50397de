"""Chapter 8, the Module API: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# gap_seeds: the committed seeds of the two-layer network against the report
GAP_SEEDS = Wording(
    "over {seeds} seeds it averaged {mean}, {gap:.1f} points {side} the report, and {below} of the {seeds} seeds "
    "stayed below the report (the best seed: {best:.1f}%).",
    "在 {seeds} 個隨機種子上平均為 {mean}，比報告值{side} {gap:.1f} 個百分點，{seeds} 個隨機種子中有 {below} "
    "個低於報告值（表現最好的隨機種子為 {best:.1f}%）。",
)
BELOW = Wording("below", "低")
ABOVE = Wording("above", "高")
NO_SEEDS = Wording("no multi-seed runs are committed yet.", "尚未提交多個隨機種子的執行。")

# changes_sentence: each one-change run against the two-layer network, over paired seeds
# {where} is results.provenance, which ends with its date in brackets: no space before 中
CHANGES_MEASURED = Wording("Measured in {where}: {changes}.", "在 {where}中測得：{changes}。")
CHANGE = Wording(
    "{change}: {difference:+.1f} ± {stderr:.1f} points, {noise}",
    "{change}：{difference:+.1f} ± {stderr:.1f} 個百分點，{noise}",
)
# the change, by the label the chapter takes from the experiment's name (experiments.ONE_CHANGE)
CHANGES = {
    "weight decay 1e-4": Wording("weight decay 1e-4", "權重衰減 1e-4"),
    "PyTorch's default init": Wording("PyTorch's default init", "PyTorch 的預設初始化"),
    "the data's own mean and std": Wording("the data's own mean and std", "資料本身的平均值與標準差"),
}

# wd_verdict: "The measured effect of weight decay is ..."
NOT_MEASURED = Wording("not measured yet", "尚未實測")
WD_WITHIN = Wording(
    "within its noise, as this predicts: the one known difference between the report's optimizer and ours does not "
    "account for the gap",
    "經實測在其雜訊範圍內，正如上面的推算所預期；可見報告的優化器與我們的優化器之間唯一已知的差異，並不能解釋這個差距",
)
WD_BEYOND = Wording(
    "beyond its noise ({difference:+.1f} points), more than this shrinkage alone explains",
    "經實測超出其雜訊範圍（{difference:+.1f} 個百分點），超過單憑這種縮小所能解釋的程度",
)

# default_init_verdict: "... answered by the one-change runs above: ..."
INIT_NOT_MEASURED = Wording(
    "not measured yet (the one-change runs are not committed)", "尚未測得（只改一項的執行尚未提交）"
)
INIT_MEASURED = Wording(
    "PyTorch's default changed the best check by {difference:+.1f} ± {stderr:.1f} points over {seeds} paired seeds, "
    "{noise}",
    "在 {seeds} 個配對的隨機種子上，PyTorch 的預設初始化使最佳檢查改變了 {difference:+.1f} ± {stderr:.1f} "
    "個百分點，{noise}",
)

# luck_sentence: the report's figure against the prediction interval of one more seed
LUCK_INSIDE = Wording(
    "Over our {seeds} seeds that interval is {mean:.1f} ± {half:.1f}%, and the report's {report:g}% lies inside it: "
    "one seed's luck could explain the gap, and {seeds} seeds are too few to rule that out.",
    "以我們的 {seeds} 個隨機種子計算，這個區間是 {mean:.1f} ± {half:.1f}%，報告的 {report:g}% "
    "落在區間之內：單一隨機種子的運氣就可能解釋這個差距，而 {seeds} 個隨機種子太少，無法排除這種可能。",
)
LUCK_OUTSIDE = Wording(
    "Over our {seeds} seeds that interval is {mean:.1f} ± {half:.1f}%, and the report's {report:g}% lies outside it: "
    "more than one seed's luck usually gives.",
    "以我們的 {seeds} 個隨機種子計算，這個區間是 {mean:.1f} ± {half:.1f}%，報告的 {report:g}% "
    "落在區間之外：這超出了單一隨機種子的運氣通常能造成的差異。",
)
LUCK_NO_SEEDS = Wording("No multi-seed runs are committed yet to measure it.", "尚未提交多個隨機種子的執行，無法測量。")
