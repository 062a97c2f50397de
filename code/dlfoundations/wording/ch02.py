"""Chapter 2, optimizers: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# the descent comparison: config.run_description() and the images it trained on
DESCENT_RUN = Wording("{run}, {images:,} training images", "{run}，訓練影像 {images:,} 張")

# Adagrad on the Rosenbrock valley against SGD, by the ratio of their final f
ADAGRAD_VERDICT = {
    "slightly ahead": Wording("only slightly ahead of SGD", "只略微領先 SGD"),
    "well ahead": Wording("well ahead of SGD", "大幅領先 SGD"),
    "no better": Wording("no better than SGD", "並未勝過 SGD"),
}

# the small CNN's runs: config.run_description(cnn_data) and the sizes this chapter adds
CNN_RUN = Wording(
    "{run}, {epochs} epoch(s), batch {batch} ({iterations} iterations), seeds {seeds}",
    "{run}，{epochs} 個訓練週期，批次大小 {batch}（{iterations} 次迭代），隨機種子 {seeds}",
)
RATE_SWEEP = Wording("{run} (rate sweep: seed {seed})", "{run}（學習率掃描：隨機種子 {seed}）")

# the optimizers whose chosen rate lies at the end of its grid (a list of names, or none)
NO_EDGE = Wording("none", "無")
NO_SWEEP = Wording("none, since the quick profile skips the sweep", "無，因為 quick 執行設定檔會略過掃描")

# the learning-rate schedules by training.SCHEDULES' names, as the prose names them
SCHEDULES = {
    "constant": Wording("constant", "「固定」"),
    "step decay": Wording("step decay", "「階梯衰減」"),
    "cosine": Wording("cosine", "「餘弦」"),
    "one-cycle": Wording("one-cycle", "「one-cycle」"),
}
