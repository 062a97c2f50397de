"""Chapter 11, the CIFAR-10 speedrun: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# how often this page trains the recipe
ONCE = Wording("once, from seed {seed}", "僅一次，使用隨機種子 {seed}")
FROM_SEEDS = Wording("from {n} seeds ({seeds})", "使用隨機種子 {seeds}，共 {n} 個")

# the spread over seeds: measured here, or the committed ablation's recipe row
SPREAD = Wording(
    "That is the mean of {n} seeds; one standard deviation over them is {sd:.1f} points.",
    "這是 {n} 個隨機種子的平均值；各隨機種子之間的標準差為 {sd:.1f} 個百分點。",
)
SPREAD_COMMITTED = Wording(
    "That is one seed. The committed ablation below (its machine and commit are named there) trained the same "
    "recipe at these sizes from {n} seeds: {mean:.1f} ± {sd:.1f}% (mean ± one standard deviation). This run lies "
    "{z:.1f} standard deviations {direction} that mean.",
    "這只是單一隨機種子的結果。下方已提交的消融實驗（其機器與 commit 都在那裡註明）"
    "在相同規模下以 {n} 個隨機種子訓練了同一份配方："
    "{mean:.1f} ± {sd:.1f}%（平均值 ± 一個標準差）。本次執行{direction}該平均值 {z:.1f} 個標準差。",
)
ABOVE = Wording("above", "高於")
BELOW = Wording("below", "低於")
SAME_SEED_SAME = Wording(
    "{spread} Seed {seed} is one of those seeds: there it reached {there}% too.",
    "{spread}隨機種子 {seed} 正是其中之一：它在那裡同樣達到 {there}%。",
)
SAME_SEED_OTHER = Wording(
    "{spread} Seed {seed} is one of those seeds: there it reached {there}%, here {here}%. The same seed need not "
    "give the same number on another machine, with another number of threads or another version of the code.",
    "{spread}隨機種子 {seed} 正是其中之一：它在那裡達到 {there}%，在這裡則是 {here}%。換一台機器、換一個執行緒數，"
    "或換一個版本的程式碼，同一個隨機種子不一定得出相同的數字。",
)

# the ablation this page trains, or not
SEED = Wording("{n} seed", "{n} 個隨機種子")
SEEDS = Wording("{n} seeds", "{n} 個隨機種子")
ABLATION_LIVE = Wording(
    "In the `{profile}` profile this page trains every row from {seeds}, reusing the runs above for the recipe's row:",
    "在 `{profile}` 執行設定檔中，本頁以 {seeds}訓練每一列，訓練配方那一列則沿用上面的執行：",
)
ABLATION_NONE = Wording(
    "In the `{profile}` profile this page trains no ablation: the committed table below was measured at this "
    "profile's sizes, with paired seeds, and a single seed per row would take a CPU several minutes to show only "
    "noise.",
    "在 `{profile}` 執行設定檔中，本頁不訓練消融實驗：下方已提交的表格是在這個執行設定檔的規模下、以配對的隨機種子"
    "測得的，而每列只用一個隨機種子，會讓 CPU 花上好幾分鐘，卻只顯示出雜訊。",
)

# the committed ablation: which code made it, and how it compares with the table above
MADE_BY_DIRTY = Wording("uncommitted changes on top of commit `{commit}`", "commit `{commit}` 之上尚未提交的變更")
MADE_BY = Wording("commit `{commit}`", "commit `{commit}`")
COMMITTED = Wording(
    "made by an earlier version of `speedrun.ablation` ({made_by}), with the same configurations, at the "
    "`standard` profile's sizes over {k} paired seeds",
    "由較早版本的 `speedrun.ablation`（{made_by}）以相同的設定、在 `standard` 執行設定檔的規模下、"
    "以 {k} 個配對隨機種子測得",
)
COMMITTED_ONLY = Wording("The committed table, {committed}:", "以下是已提交的表格，{committed}：")
COMMITTED_AFTER_ONE = Wording(
    "With one seed per row a difference has no standard error and no test, and at this size it is mostly noise. "
    "The committed table, {committed}:",
    "每列只有一個隨機種子時，差異既沒有標準誤，也無法檢定，而在這個規模下它大多是雜訊。以下是已提交的表格，"
    "{committed}：",
)
COMMITTED_AFTER_PAIRED = Wording(
    "The table above has {n} paired seeds per row at this profile's sizes. For comparison, the committed table, "
    "{committed}:",
    "上表在這個執行設定檔的規模下每列有 {n} 個配對隨機種子。作為比較，以下是已提交的表格，{committed}：",
)

# the pieces the ablation switches off, by their rows' names (the English without the row's "− ")
PIECES = {
    "− 6-view TTA (1 view)": Wording("6-view TTA (1 view)", "6 視角測試時擴增（改為 1 個視角）"),
    "− Lookahead weight averaging": Wording("Lookahead weight averaging", "Lookahead 權重平均"),
    "− alternating flip (random flips)": Wording("alternating flip (random flips)", "交替翻轉（改為隨機翻轉）"),
    "− label smoothing": Wording("label smoothing", "標籤平滑"),
    "− 64× BatchNorm-bias rate": Wording("64× BatchNorm-bias rate", "BatchNorm 偏置的 64 倍學習率"),
    "− frozen BN scale (γ trained)": Wording("frozen BN scale (γ trained)", "凍結的 BN 縮放係數（改為訓練 γ）"),
    "− dirac init (default init)": Wording("dirac init (default init)", "dirac 初始化（改為預設初始化）"),
    "− whitening (stem trained)": Wording("whitening (stem trained)", "白化（改為訓練第一層）"),
}
PIECE = Wording("*{name}*", "「{name}」")
AND = Wording("{first} and {last}", "{first}與{last}")

# what the corrected tests found
LOWERED = Wording("Switching off {names} lowered the accuracy clearly", "關閉{names}明顯降低了準確率")
NONE_LOWERED = Wording(
    "Switching off no technique lowered the accuracy clearly", "關閉任何一項技巧都沒有明顯降低準確率"
)
RAISED = Wording("; switching off {names} *raised* it clearly", "；關閉{names}則明顯*提高*了準確率")
UNCLEAR_ROWS = Wording("; the other {n} rows are not clear after the correction", "；其餘 {n} 列經校正後差異並不明確")
UNCLEAR_ROW = Wording("; the other {n} row is not clear after the correction", "；其餘 {n} 列經校正後差異並不明確")
VERDICT = Wording("{lowered}{raised}{unclear}.", "{lowered}{raised}{unclear}。")
CAVEAT_RAISED = Wording(
    "So this table does **not** say that every piece buys accuracy. ",
    "所以這張表**並未**表明每個部分都能換來準確率。",
)
CAVEAT_HINTED = Wording(
    "No row is clearly better without its piece, but switching off {names} raised the accuracy by enough to pass "
    "the test at 5% before the correction: this table does **not** show that every piece buys accuracy at this "
    "size. ",
    "沒有哪一列因去掉其對應部分而明顯變好，但關閉{names}所提高的準確率，足以在校正前通過顯著水準 5% 的檢定："
    "這張表**並未**顯示在這個規模下每個部分都能換來準確率。",
)
CAVEAT_AS_PREDICTED = Wording(
    "Every clear difference goes the way airbench's choices predict. ",
    "每個明確的差異，方向都與 airbench 的選擇所預期的一致。",
)
EFFECT = Wording(
    "{name} ({difference:+.2f} ± {stderr:.2f} points)", "{name}（{difference:+.2f} ± {stderr:.2f} 個百分點）"
)

# what a second JPEG compression costs, against the gap to airbench94's 94.01%
GAP = Wording("{gap:.1f} ± {se:.1f} points (standard error)", "{gap:.1f} ± {se:.1f} 個百分點（標準誤）")
GAP_ONE_SEED = Wording("{gap:.1f} points, from one seed", "{gap:.1f} 個百分點，僅來自一個隨機種子")
JPEG_COST = Wording(
    "{cost:.1f} ± {se:.1f} points (mean ± standard error over {n} paired seeds; {confidence:.0f}% interval "
    "{low:.1f} to {high:.1f})",
    "{cost:.1f} ± {se:.1f} 個百分點（{n} 個配對隨機種子的平均值 ± 標準誤；{confidence:.0f}% 信賴區間為 "
    "{low:.1f} 到 {high:.1f}）",
)
JPEG_SHARE = Wording(
    "{share:.0f}% of it ({low:.0f} to {high:.0f}% over that interval, taking the gap as exact)",
    "差距中的 {share:.0f}%（若把差距視為精確值，按該區間則為 {low:.0f} 到 {high:.0f}%）",
)
JPEG_COST_ONE_SEED = Wording(
    "{cost:.1f} points for seed {seed}, the only seed both files hold: one difference has no spread, so nothing "
    "here estimates its uncertainty",
    "{cost:.1f} 個百分點，來自隨機種子 {seed}，也就是兩個檔案唯一共有的隨機種子：單一差異沒有離散程度，"
    "因此這裡無從估計其不確定性",
)
JPEG_SHARE_ONE_SEED = Wording(
    "{share:.0f}% of it, on that one seed's word", "差距中的 {share:.0f}%，但僅以這一個隨機種子為據"
)
JPEG_VERDICT = Wording(
    "Compressing every image once more, at JPEG quality {quality} ({levels:.1f} grey levels of mean absolute error "
    "against the copy), cost {cost}. The gap to airbench94's 94.01% is {gap}. If the copy's own compression cost "
    "as much as this second one, it would account for {share}.",
    "把每張影像以 JPEG 品質 {quality} 再壓縮一次（相對於副本的平均絕對誤差為 {levels:.1f} 個灰階值），代價為 "
    "{cost}。與 airbench94 的 94.01% 之間的差距為 {gap}。如果副本本身的壓縮代價和這第二次壓縮一樣大，"
    "它就能解釋{share}。",
)
JPEG_NOT_MEASURED = Wording(
    "No run with every image compressed once more (`--jpeg-quality 50`) shares a seed with the runs above yet, so "
    "what the compression costs is not measured here; the gap is {gap}.",
    "目前還沒有任何把每張影像再壓縮一次（`--jpeg-quality 50`）的執行與上面的執行共有隨機種子，因此這裡沒有測量"
    "壓縮的代價；差距為 {gap}。",
)

# airbench94's own script on the same copy of the data
SCRIPT = Wording(
    "On this copy airbench94's own script reached {mean:.2f} ± {se:.2f}% (mean ± standard error of {n} runs on "
    "{device}), {shortfall:.1f} points below its 94.01% on the official files, against {gap:.1f} points for this "
    "course's runs. {then}",
    "在這份副本上，airbench94 自己的腳本達到 {mean:.2f} ± {se:.2f}%（{device} 上 {n} 次執行的平均值 ± 標準誤），"
    "比它在官方檔案上的 94.01% 低了 {shortfall:.1f} 個百分點，而本課程的執行低了 {gap:.1f} 個百分點。{then}",
)
SCRIPT_ONE_SEED = Wording(
    "The script is {apart:+.1f} points from this course's runs on the same data, a difference without a standard "
    "error (one seed of ours).",
    "在相同的資料上，該腳本與本課程的執行相差 {apart:+.1f} 個百分點，這個差異沒有標準誤（我們只有一個隨機種子）。",
)
SCRIPT_WITHIN = Wording(
    "On the same data the two differ by {apart:+.2f} ± {se:.2f} points, within two standard errors: the copy "
    "accounts for the gap, as far as these runs can tell.",
    "在相同的資料上，兩者相差 {apart:+.2f} ± {se:.2f} 個百分點，在兩個標準誤之內：就這些執行所能判斷的而言，"
    "差距可由副本解釋。",
)
SCRIPT_ABOVE = Wording(
    "On the same data the script is {apart:.2f} ± {se:.2f} points above this course's runs, more than two standard "
    "errors: that part of the gap belongs to this implementation or to the arithmetic it ran in (float32 on a CPU "
    "here, float16 on a GPU there), not to the data.",
    "在相同的資料上，該腳本比本課程的執行高出 {apart:.2f} ± {se:.2f} 個百分點，超過兩個標準誤：這部分差距屬於本實作，"
    "或屬於它執行時所用的運算精度（這裡是 CPU 上的 float32，那裡是 GPU 上的 float16），而不屬於資料。",
)
SCRIPT_BELOW = Wording(
    "On the same data the script is {apart:.2f} ± {se:.2f} points below this course's runs, more than two standard "
    "errors: the copy accounts for all of the gap.",
    "在相同的資料上，該腳本比本課程的執行低了 {apart:.2f} ± {se:.2f} 個百分點，超過兩個標準誤："
    "副本足以解釋全部的差距。",
)
NO_SCRIPT = Wording(
    "No such file is committed yet, so this chapter can only estimate what the copy costs, with the caveats above.",
    "目前還沒有提交這樣的檔案，因此本章只能在上述種種前提與限制下，估計副本的代價。",
)

# the committed runs of four training lengths
THREAD = Wording("{n} CPU thread", "{n} 個 CPU 執行緒")
THREADS = Wording("{n} CPU threads", "{n} 個 CPU 執行緒")
LENGTHS_WHERE = Wording(
    "{device}, {threads}, torch {torch}, commit {commits}, seeds {seeds}, {images:,} training images of {data}",
    "{device}，{threads}，torch {torch}，commit {commits}，隨機種子 {seeds}，取自 {data} 的 {images:,} 張訓練影像",
)
EPOCHS_ANSWER = Wording(
    "Of the {stretches} stretches from one length to the next, an extra second bought the most from {best_from:g} "
    "to {best_to:g} epochs: {gain:+.2f} points with six views for {extra:+.0f} s, {per_second:.3f} points per "
    "second. From {last_from:g} to {last_to:g} epochs it bought {last_per_second:.3f}.",
    "在從一種長度到下一種長度的 {stretches} 個區段中，多花的每一秒換得最多的是從 {best_from:g} 到 {best_to:g} "
    "個訓練週期：以六個視角計為 {gain:+.2f} 個百分點，花費 {extra:+.0f} s，即每秒 {per_second:.3f} 個百分點。"
    "從 {last_from:g} 到 {last_to:g} 個訓練週期，每秒則換得 {last_per_second:.3f} 個百分點。",
)

# how many seeds the committed CPU runs of the recipe average over
CPU_ONE_SEED = Wording("one seed", "一個隨機種子")
CPU_SEEDS = Wording("{n} seeds (mean ± standard deviation)", "{n} 個隨機種子（平均值 ± 標準差）")
