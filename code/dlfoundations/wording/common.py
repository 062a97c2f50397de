"""Pieces several chapters' glued sentences share (see :mod:`dlfoundations.wording`)."""

from . import Wording

# a run's description (config.run_description, a Said) with what the chapter adds to it
RUN_EPOCHS = Wording("{run}, {epochs} epoch(s)", "{run}，{epochs} 個訓練週期")
RUN_SEEDS = Wording("{run}, seeds {seeds}", "{run}，隨機種子 {seeds}")

# results.provenance: a committed results file, where and how it was measured
RESULTS_SIZES = Wording(
    "{profile} profile, {images:,} training images, {epochs} epoch(s), {seeds} seeds",
    "執行設定檔 {profile}、訓練影像 {images:,} 張、{epochs} 個訓練週期、{seeds} 個隨機種子",
)
RESULTS_FILE = Wording(
    "`results/{name}` ({machine} {device}, {sizes}, {date})", "`results/{name}`（{machine} {device}，{sizes}，{date}）"
)
SEMICOLON = Wording("; ", "；")  # between the clauses of a list
NO_RESULTS = Wording("no results file yet", "尚無結果檔")

# config.run_description: profile, device, seed and (given a data set) its sizes
RUN = Wording(
    "profile `{profile}`, device `{device}`, seed {seed}", "執行設定檔 `{profile}`、裝置 `{device}`、隨機種子 {seed}"
)
RUN_SIZES = Wording(
    "{run}, {train} training, {val} validation and {test} test images",
    "{run}，訓練影像 {train} 張、驗證影像 {val} 張、測試影像 {test} 張",
)

# results.Replay.describe: which of a page's runs it read back from a results file, and from where
REPLAY_CPU = Wording("the CPU {name}", "CPU {name}")
DEVICE_NAME = Wording("{name} ({device})", "{name}（{device}）")
REPLAY_WHERE = Wording(
    "commit {commit}, {device}, {threads} thread(s), {date}", "commit {commit}，{device}，{threads} 個執行緒，{date}"
)
REPLAY_WHAT = {
    "some": Wording("{n} of these runs", "其中 {n} 次執行"),
    "one": Wording("this run", "這次執行"),
    "two": Wording("both of these runs", "這兩次執行"),
    "all": Wording("all {n} of these runs", "全部 {n} 次執行"),
}
_READ = "This page read {what} back from {source} ({where}), where the chapter's code at that commit trained"
REPLAY_READ_ONE = Wording(
    _READ + " it with the same sizes and seeds",
    "本頁從 {source} 讀回{what}（{where}）；它是本章在該 commit 的程式碼以相同的規模與隨機種子訓練出來的",
)
REPLAY_READ_MANY = Wording(
    _READ + " them with the same sizes and seeds",
    "本頁從 {source} 讀回{what}（{where}）；它們都是本章在該 commit 的程式碼以相同的規模與隨機種子訓練出來的",
)
REPLAY_DATA = Wording("{text}, on the images of `{data}`", "{text}，所用影像來自 `{data}`")
REPLAY_TRAINED = Wording("{text}; it trained the other {n} itself.", "{text}；其餘 {n} 次由本頁自行訓練。")
REPLAY_END = Wording("{text}.", "{text}。")
REPLAY_OTHER_DATA = Wording(
    "{text} This page loaded its images from another folder (`{data}`), perhaps another copy of CIFAR-10.",
    "{text}本頁的影像載入自另一個資料夾（`{data}`），可能是 CIFAR-10 的另一份副本。",
)

# results.floor: why a chapter's one-epoch run must reach its floor
FLOOR_QUICK = Wording("the quick profile's floor", "quick 執行設定檔的下限")
FLOOR_NONE = Wording("no committed results: the target less 5 points", "尚無已提交的結果：目標減 5 個百分點")
FLOOR_TARGET = Wording("the assignment's target, met by results/{file}", "作業的目標，results/{file} 已達到此目標")
FLOOR_WORST = Wording(
    "the worst seed of results/{file} less 2 points", "results/{file} 中最差隨機種子的結果減 2 個百分點"
)

# chapters 08 and 09: a paired comparison's verdict, and the one-change runs before they are committed
BEYOND_NOISE = Wording("beyond its noise", "超出其雜訊範圍")
WITHIN_NOISE = Wording("within its noise", "在其雜訊範圍內")
CHANGES_NOT_COMMITTED = Wording(
    "The one-change runs are not committed yet "
    "(`python -m dlfoundations.reproduce --profile standard --only changes`).",
    "只改一項的執行尚未提交（`python -m dlfoundations.reproduce --profile standard --only changes`）。",
)
