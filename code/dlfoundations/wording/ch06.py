"""Chapter 6, Batch Normalization: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# the BN table: the plain network at learning rate 0.1, and how many of its seeds failed
EVERY_SEED_TRAINS = Wording("every seed trains", "每個隨機種子都能正常訓練")
SEEDS_FAILED = Wording(
    "{diverged} of the three seeds diverged and {chance} stayed below 15%",
    "三個隨機種子中，{diverged}發散，{chance}停在 15% 以下",
)
HOW_MANY = {
    0: Wording("none", "沒有任何一個"),
    1: Wording("one", "一個"),
    2: Wording("two", "兩個"),
    3: Wording("all", "全部"),
}
# the BN network at learning rate 1.0
KEEPS_LEARNING = Wording(
    "it keeps learning: every seed ends above 15%, clear of the 10% of chance",
    "而且仍在學習：每個隨機種子最後都高於 15%，明顯超出隨機猜測的 10%",
)
NEAR_CHANCE = Wording(
    "at least one seed ends below 15%, close to chance",
    "但至少有一個隨機種子最後低於 15%，接近隨機猜測水準",
)
# the best BN network against the best plain one ("which is ... the plain one")
COMPARED = {
    "not distinguishable from": Wording("not distinguishable from", "沒有可分辨的差異"),
    "above": Wording("above", "較高"),
    "below": Wording("below", "較低"),
}

# the small CNN's runs
CNN_RUN = Wording("{run}, {epochs} epoch(s), batch 64", "{run}，{epochs} 個訓練週期，批次 64")

# BN before or after the ReLU: the noise of a difference, and the verdict
PLACEMENT_NOISE = {
    "placement_loss": Wording("{noise:.3f}", "{noise:.3f}"),
    "placement": Wording("{noise:.1f} points", "{noise:.1f} 個百分點"),
}
PLACEMENT_WITHIN = Wording(
    "within two standard errors ({noise}), too small to tell the placements apart",
    "在兩個標準誤（{noise}）之內，小到無法分辨兩種放法孰優孰劣",
)
PLACEMENT_AHEAD = Wording(
    "more than two standard errors ({noise}), in favour of BN {side} the ReLU",
    "超過兩個標準誤（{noise}），結果支持把 BN 放在 ReLU {side}",
)
SIDE = {"after": Wording("after", "之後"), "before": Wording("before", "之前")}

# small batches: LayerNorm against BN at batch 2
SMALL_WITHIN = Wording(
    "LayerNorm and BN are not distinguishable (the difference is within two standard errors, {noise:.1f} points)",
    "LayerNorm 與 BN 的表現無法區分：差異在兩個標準誤（{noise:.1f} 個百分點）之內",
)
SMALL_AHEAD = Wording(
    "{better} is ahead of {worse} by {gap:.1f} points, more than two standard errors ({noise:.1f} points)",
    "{better} 領先 {worse} {gap:.1f} 個百分點，超過兩個標準誤（{noise:.1f} 個百分點）",
)
# glued straight after "the running average is made of"
FEW_UPDATES = Wording(
    "; and with only {updates} updates at batch 32, the running averages still carry part of their starting "
    "values (mean 0, variance 1)",
    "；而且在批次 32 下只有 {updates} 次更新，移動平均仍保有部分初始值（平均值 0、變異數 1）",
)
MANY_UPDATES = Wording(
    " (after {updates} updates at batch 32, the starting values of the running averages hardly matter)",
    "（在批次 32 下經過 {updates} 次更新後，移動平均的初始值已幾乎沒有影響）",
)

# internal covariate shift: the fifth layer's input drift, with and without BN
ICS_ALWAYS = Wording(
    "BN reduces both in every seed. In this distributional sense BN does reduce the shift, as it was designed to",
    "BN 在每個隨機種子中都減少了這兩者。就分布而言，BN 確實如其設計初衷減少了偏移",
)
ICS_NOT_ALWAYS = Wording(
    "BN reduces them in only {less} of the {pairs} comparisons (two measures, three seeds), so in these runs it "
    "does not consistently reduce the shift",
    "在 {pairs} 次比較中（兩種量測、三個隨機種子），BN 只有 {less} 次減少了它們，"
    "因此在這些執行中，BN 並沒有穩定地減少偏移",
)
ICS_SUMMARY_ALWAYS = Wording(
    "it reduces the drift of a layer's input distribution in every seed",
    "它在每個隨機種子中都減少了某一層輸入分布的漂移",
)
ICS_SUMMARY_NOT_ALWAYS = Wording(
    "it reduces the drift of a layer's input distribution in only {less} of {pairs} comparisons",
    "在 {pairs} 次比較中，它只有 {less} 次減少了某一層輸入分布的漂移",
)

# smoothness along the training path: does the small experiment reproduce Santurkar et al.'s finding?
REPRODUCES = Wording("reproduces", "得到重現")
DOES_NOT_REPRODUCE = Wording("does not reproduce", "沒有得到重現")
PARTLY_REPRODUCES = Wording(
    "only partly reproduces (in {smoother} of {seeds} seeds)",
    "只得到部分重現（{seeds} 個隨機種子中的 {smoother} 個）",
)
PATH_RUN = Wording(
    "{run}, {steps} plain-SGD steps at batch 64 (about {epochs:.1f} epochs) and learning rate 0.05, seeds {seeds}",
    "{run}，以批次 64 進行 {steps} 步純 SGD（約 {epochs:.1f} 個訓練週期），學習率 0.05，隨機種子 {seeds}",
)
