"""Chapter 9, the Sequential API: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# committed: the chains against the Module versions of chapter 8, over the committed seeds
COMMITTED = Wording(
    "Over {seeds} seeds ({where}), the two-layer chain's best validation check averaged {fc} against {fc_module} "
    "for the Module version, and the ConvNet chain {conv} against {conv_module}; on average the two-layer chain "
    "{fc_met} CS231n's {fc_target:g}% and the ConvNet chain {conv_met} its {conv_target:g}%.",
    "根據 {where}，在 {seeds} 個隨機種子上，兩層鏈的最佳驗證檢查平均為 {fc}，Module 版本為 {fc_module}；ConvNet "
    "鏈為 {conv}，Module 版本為 {conv_module}。平均而言，兩層鏈{fc_met} CS231n 所定的 {fc_target:g}% 目標，ConvNet "
    "鏈{conv_met} {conv_target:g}% 的目標。",
)
MEETS = Wording("meets", "達到")
MISSES = Wording("misses", "未達到")
COMMITTED_MISSING = Wording(
    "The committed results do not hold all four experiments yet.", "已提交的結果尚未包含全部四個實驗。"
)

# variant_scope: which training images the three ConvNet variants train on
VARIANTS_RUN_ABOVE = Wording(" The first of the three is the run above.", "三者中的第一個就是上面那次執行。")
VARIANTS_SUBSET = Wording(
    " In the `{profile}` profile all three runs train on the first {images:,} training images, to keep the book short.",
    "在 `{profile}` 執行設定檔中，三次執行都只在前 {images:,} 張訓練影像上訓練，以縮短本書的執行時間。",
)

# change_verdicts: each chain with one change undone, over paired seeds
# {where} is results.provenance, which ends with its date in brackets: no space before 中
CHANGES_MEASURED = Wording(
    "Measured in {where}, each against its chain: {verdicts}.{report}",
    "在 {where}中測得，各自與其鏈相比：{verdicts}。{report}",
)
VERDICT = Wording(
    "Sequential {model} with {change}: {difference:+.1f} ± {stderr:.1f} points, {noise}",
    "Sequential {model} {change}：{difference:+.1f} ± {stderr:.1f} 個百分點，{noise}",
)
# the chain's network and its change, by the names the chapter takes from the experiments' (experiments.ONE_CHANGE)
MODELS = {
    "two-layer FC": Wording("two-layer FC", "兩層 FC"),
    "ConvNet": Wording("ConvNet", "ConvNet"),
}
CHANGES = {
    "He init": Wording("He init", "改用 He 初始化"),
    "no momentum": Wording("no momentum", "不使用動量"),
    "Nesterov 0.5 + weight decay 1e-4": Wording(
        "Nesterov 0.5 + weight decay 1e-4", "改用 Nesterov 0.5 + 權重衰減 1e-4"
    ),
}
WITH_REPORT = Wording(" With the report's optimizer, {reports}.", "使用報告的優化器時，{reports}。")
REPORT_MEAN = Wording(
    "the {model} chain's best check averaged {mean:.1f}% against the report's {report:g}%",
    "{model} 鏈的最佳檢查平均為 {mean:.1f}%，報告為 {report:g}%",
)
REPORTS_SEPARATOR = Wording(" and ", "；")

# jpeg_sentence: what the JPEG copy of CIFAR-10 costs, from the committed re-encoded runs
JPEG_TREND = Wording(
    "On {images:,} training images ({profile} profile) the best check moved by {slope:.2f} points per grey level of "
    "added error; extended back over the copy's {mae} levels, the official pixels would add about {gain:.1f} points "
    "(a rough, linear extrapolation).",
    "在 {images:,} 張訓練影像上（執行設定檔 {profile}），誤差每增加一個灰階值，最佳檢查就變動 {slope:.2f} "
    "個百分點；沿這條線往回推過副本的 {mae} 個灰階值，改用官方像素約可多得 {gain:.1f} 個百分點（粗略的線性外推）。",
)
NO_JPEG_RUNS = Wording(
    "No JPEG runs are committed yet "
    "(`python -m dlfoundations.reproduce --profile standard --only jpeg --out results/<name>.json` makes them), "
    "so what the copy costs is not measured here.",
    "尚未提交 JPEG 執行（由 `python -m dlfoundations.reproduce --profile standard --only jpeg --out "
    "results/<name>.json` 產生），因此這裡沒有測量副本的代價。",
)
