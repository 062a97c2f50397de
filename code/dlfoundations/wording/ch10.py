"""Chapter 10, tuning on CIFAR-10: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# a count and its noun, singular and plural: plural(3, "seed") is COUNTS["seeds"]
COUNTS = {
    "epoch": Wording("{n:,} epoch", "{n:,} 個訓練週期"),
    "epochs": Wording("{n:,} epochs", "{n:,} 個訓練週期"),
    "seed": Wording("{n:,} seed", "{n:,} 個隨機種子"),
    "seeds": Wording("{n:,} seeds", "{n:,} 個隨機種子"),
}
# a profile's searches and finalist re-runs ({epochs}, {seeds}: COUNTS)
SEARCH_PLAN = Wording(
    "{fc} two-layer and {conv} ConvNet trials of {epochs} on {images:,} training images, then the {fc_top} best"
    " two-layer and {conv_top} best ConvNet configurations re-run from {seeds} each ({fc_runs} + {conv_runs} runs)",
    "{fc} 次兩層網路試驗與 {conv} 次卷積網路試驗（每次以 {images:,} 張訓練影像訓練 {epochs}），"
    "再把最好的 {fc_top} 個兩層網路組態與最好的 {conv_top} 個卷積網路組態各以 {seeds}重新執行"
    "（{fc_runs} + {conv_runs} 次執行）",
)

# where the finalists' runs come from
FINALISTS_READ = Wording(
    "In the `{profile}` profile this page does not train these runs itself: on a CPU they take longer than the"
    " two searches. The command `python -m dlfoundations.experiments finalists` trained them once and wrote them"
    " to `results/{file}` (commit `{commit}`, {machine}, {threads} thread(s), {date}, data `{data}`). With the code"
    " of that commit it trained every configuration that the two searches try, from the same seeds, on the same"
    " images and for the same epochs as this page would, and tested each one. The page reads back only the"
    " configurations that its own search ranked highest, and removes their test accuracies before it picks; it"
    " then shows the test accuracies of the pick only (the cell below checks this). The seconds per epoch printed"
    " below were measured on that machine, not on yours.{other_copy} In the `quick` and `full` profiles this page"
    " trains the finalists itself.",
    "在 `{profile}` 執行設定檔中，本頁不會自行訓練這些執行：在 CPU 上，它們花的時間比兩次搜尋還長。"
    "指令 `python -m dlfoundations.experiments finalists` 曾把它們訓練過一次，並寫入 `results/{file}`"
    "（commit `{commit}`，{machine}，{threads} 個執行緒，{date}，資料 `{data}`）。"
    "它以該 commit 的程式碼，用與本頁相同的隨機種子、相同的影像與相同的訓練週期數，訓練了兩次搜尋會嘗試的每一個組態，"
    "並逐一測試。本頁只讀回自己的搜尋排名最高的那些組態，並在挑選之前移除它們的測試準確率；"
    "接著只展示選中組態的測試準確率（下面的儲存格會檢查這一點）。下面印出的每個訓練週期秒數，"
    "是在那台機器上量得的，而不是在你的機器上。{other_copy}在 `quick` 與 `full` 執行設定檔中，本頁會自行訓練決選組態。",
)
OTHER_COPY = Wording(
    " This page loaded its images from `{here}`: if that is another copy of CIFAR-10, the finalists' numbers still"
    " come from the file's copy.",
    "本頁的影像載入自 `{here}`：若那是 CIFAR-10 的另一份副本，決選組態的數字仍然來自該檔案所用的副本。",
)
FINALISTS_TRAINED = Wording(
    "`results/{file}` is missing, lacks some of these configurations, or was made at other sizes, from another"
    " seed or with other numbers of validation and test images, so this page trains the finalists itself.",
    "`results/{file}` 不存在、缺少其中某些組態，或是以其他規模、其他隨機種子或不同數量的驗證與測試影像製作的，"
    "因此本頁會自行訓練決選組態。",
)

# the bias of the best of several validation checks
CHECKS_OTHERS = Wording(
    "For the other {counted}, were they independent and equally good, the best would exceed the true accuracy by"
    " {excess:.2f} standard deviations on average, against 2.4 for the report's 77; successive checks of one run"
    " are correlated, so the real bias is smaller.",
    "其餘 {counted} 次檢查若彼此獨立且一樣好，其中最好的一次平均會比真實準確率高出 {excess:.2f} 個標準差，"
    "而報告的 77 次檢查則是 2.4 個；同一次執行的相繼檢查彼此相關，所以實際的偏差會比較小。",
    not_terms=("bias",),
)
CHECKS_ONE_LAST_BEST = Wording(
    "That leaves one check that counts, so this bias is zero: in every run the best check was the last one, the"
    " best-check weights are the final weights, the two test columns agree, and the whole gap comes from the other"
    " two causes.",
    "這樣一來，只剩一次檢查需要考慮，因此這項偏差為零：每次執行的最佳檢查都是最後一次，最佳檢查時的權重就是最終權重，"
    "兩個測試欄位一致，整個差距都來自另外兩個因素。",
    not_terms=("bias",),
)
CHECKS_ONE = Wording(
    "That leaves one check that counts, so the expected bias is zero; where the first check was nevertheless the"
    " best, the network hardly learned.",
    "這樣一來，只剩一次檢查需要考慮，因此預期的偏差為零；若第一次檢查仍然是最好的，表示網路幾乎沒有學到東西。",
    not_terms=("bias",),
)
WEIGHTS_READ = Wording(
    "In the `{profile}` profile the numbers below come from `results/{file}`: the command that wrote it kept these"
    " weights and tested them, but the file holds the accuracies only, not the weights. So this page cannot test"
    " the weights again; where it trains the finalists itself, the next cell also checks that the kept weights"
    " score their best check again.",
    "在 `{profile}` 執行設定檔中，下面的數字來自 `results/{file}`：寫出該檔案的指令保存了這些權重並加以測試，"
    "但檔案只存有準確率，沒有權重。因此本頁無法再次測試這些權重；在本頁自行訓練決選組態時，"
    "下一個儲存格還會檢查保存的權重能否再次得到其最佳檢查的分數。",
)

# the stretch of training that the training accuracy averages over
STRETCH_LONG = Wording(
    "nearly the whole run: it averages the network from near chance to its final weights, so it understates what"
    " the final weights would score on the training images and can come out below the validation accuracy",
    "幾乎涵蓋整次執行：訓練準確率平均的是網路從接近隨機猜測到最終權重的整個過程，因此會低估最終權重在訓練影像上的分數，"
    "甚至可能低於驗證準確率",
)
STRETCH_SHORT = Wording(
    "the end of the run, so it measures nearly the final weights",
    "位於執行的尾端，因此訓練準確率量到的幾乎就是最終權重",
)

# the BatchNorm ConvNet: where this page's run and the committed one come from
TUNED_WHERE_READ = Wording(
    "In the `{profile}` profile, on {images:,} training images,",
    "在 `{profile}` 執行設定檔中使用 {images:,} 張訓練影像時",
)
TUNED_WHERE_HERE = Wording("In this run ({run})", "在本次執行（{run}）中")
TUNED_ORIGIN = Wording(
    "{read_back} The seconds per epoch were measured on that machine.",
    "{read_back}每個訓練週期的秒數是在那台機器上量得的。",
)
SCOPE_FULL = Wording(
    "In the `full` profile this run is itself the assignment's budget.",
    "在 `full` 執行設定檔中，這次執行本身就採用作業的預算。",
)
SCOPE_SHORT = Wording(
    "In the `{profile}` profile the chapter shows only this short run, with the whole one-cycle schedule squeezed"
    " into its {epochs} epochs; the longer runs come from `python -m dlfoundations.reproduce`.",
    "在 `{profile}` 執行設定檔中，本章只展示這次簡短的執行，整個單週期排程被壓縮進它的 {epochs} 個訓練週期；"
    "較長的執行來自 `python -m dlfoundations.reproduce`。",
)
THIS_RUN = Wording("this run", "本次執行")
COMMITTED_TUNED = Wording(
    "committed in `results/{name}`, {profile} profile, {images:,} training images",
    "收錄於已提交的 `results/{name}`，執行設定檔 {profile}，訓練影像 {images:,} 張",
)

# short lists glued into the prose: "100 and 200", "1 or 2", the seeds per network
AND = Wording(" and ", " 和 ")
OR = Wording(" or ", " 或 ")
SEEDS_EACH = Wording("{n} seeds each", "各 {n} 個隨機種子")
SEEDS_IN_ORDER = Wording(
    "{counts} and {last} seeds (in the table's order)", "依表中順序分別為 {counts} 和 {last} 個隨機種子"
)
