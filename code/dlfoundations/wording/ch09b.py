"""Chapter 9b, regularization: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

# the techniques by the names the study gives them
TECHNIQUES = {
    "weight decay": Wording("weight decay", "權重衰減"),
    "L1": Wording("L1", "L1"),
    "dropout": Wording("dropout", "丟棄法"),
    "Adam + L2": Wording("Adam + L2", "Adam + L2"),
    "AdamW": Wording("AdamW", "AdamW"),
    "early stopping": Wording("early stopping", "早停法"),
    "augmentation": Wording("augmentation", "資料擴增"),
    "ensemble": Wording("ensemble", "集成"),
}
NAMED = Wording("{name}", "「{name}」")  # a technique's name standing alone in a Chinese sentence
SENTENCES = Wording(" ", "")  # joins whole sentences
AND = Wording(" and ", "、")
COMMA = Wording(", ", "，")
NONE = Wording("none", "無")

# Three sets, three jobs: the validation images
VAL_MORE = Wording(
    "CS231n's {pool_val:,} and the {extra:,} training images that follow the largest training subset any of its "
    "runs uses (no run ever trains on them), {n_val:,} in all",
    "CS231n 的 {pool_val:,} 張驗證影像，加上緊接在所有執行所用的最大訓練子集之後的 {extra:,} 張訓練影像"
    "（沒有任何執行在這些影像上訓練），共 {n_val:,} 張",
)
VAL_FEWER = Wording(
    "in this profile only {n_val:,} of CS231n's, to save time",
    "不過這個執行設定檔為了節省時間，只用了 CS231n 驗證影像中的 {n_val:,} 張",
)

# where the study comes from
STUDY_HERE = Wording("run here, `quick` profile, device `{device}`", "在本頁執行，執行設定檔 `quick`，裝置 `{device}`")
STUDY_FILE = Wording(
    "`{name}`, {device}, {threads} thread(s), torch {torch}, commit {commit}",
    "`{name}`，{device}，{threads} 個執行緒，torch {torch}，commit {commit}",
)

# half of the labels random (standard and full profiles)
NOISE_HALF = Wording(
    "With half of the labels drawn at random ({wrong:.1f}% of them wrong), it fits {train:.1f}% of its training "
    "images, so {fitted}, and validates at {val:.1f}%: {verdict}",
    "當一半的標籤換成隨機抽取的標籤時（全部標籤中有 {wrong:.1f}% 是錯的），網路擬合了 {train:.1f}% 的訓練影像，"
    "所以{fitted}，驗證準確率則為 {val:.1f}%：{verdict}",
)
WRONG_ALL = Wording("all of the wrong labels too", "連錯誤的標籤也全都擬合了")
WRONG_SOME = Wording("at least {fitted:.0f}% of the wrong labels", "至少擬合了 {fitted:.0f}% 的錯誤標籤")
MEMORIZES_NOISE = Wording("it memorizes the noise along with the pattern.", "它把雜訊連同規律一起背了下來。")
FITS_SOME_NOISE = Wording("it fits the pattern and part of the noise.", "它擬合了規律，也擬合了一部分雜訊。")

# a validation accuracy against another, and the grids' noise
NOISE = {"within": Wording("within the noise", "在雜訊範圍內"), "beyond": Wording("beyond the noise", "超出雜訊範圍")}
VERSUS = {
    "above": Wording("{d:.1f} points above {name}, {noise}", "比{name}高 {d:.1f} 個百分點，{noise}"),
    "below": Wording("{d:.1f} points below {name}, {noise}", "比{name}低 {d:.1f} 個百分點，{noise}"),
    "level with": Wording(
        "{d:.1f} points level with {name}, {noise}", "與{name}持平（相差 {d:.1f} 個百分點），{noise}"
    ),
}
THAT = Wording("that", "後者")
BASELINE = Wording("the baseline", "基準")
BASELINE_AT = Wording("the baseline's {val:.1f}%", "基準（{val:.1f}%）")
GRID_BEST = Wording("{d:+.1f} ({name})", "{d:+.1f}（{name}）")
VAL_ABOVE = Wording(
    "Against it, the best setting of each grid differs by {first} and {last} points: {verdict}",
    "與基準相比，各網格中最好的設定分別相差 {first}與 {last}個百分點；{verdict}",
)
ALL_WITHIN = Wording("all within the noise.", "全都在雜訊範圍內。")
BEYOND_FOR = Wording("beyond the noise for {names}.", "超出雜訊範圍的是：{names}。")

# a choice at the edge of its grid
WITHOUT = {
    "weight decay": Wording("no weight decay", "完全不用權重衰減"),
    "L1": Wording("no L1 penalty", "完全不加 L1 懲罰項"),
    "dropout": Wording("no dropout", "完全不用丟棄法"),
    "Adam + L2": Wording("Adam without decay", "完全不加衰減的 Adam"),
    "AdamW": Wording("Adam without decay", "完全不加衰減的 Adam"),
}
EDGE_STRONGEST = Wording(
    "Validation chose the strongest setting of {name}'s grid, {setting}: a stronger one might validate better "
    "still, so this grid may stop too soon.",
    "驗證選出了「{name}」網格中最強的設定（{setting}）：更強的設定或許還能得到更高的驗證準確率，所以這個網格可能延伸得不夠遠。",
)
EDGE_WEAKEST = Wording(
    "Validation chose the weakest setting of {name}'s grid, {setting}, at {val:.1f}%. Weaker settings lie "
    "between it and {without} at all ({ref:.1f}%)",
    "驗證選出了「{name}」網格中最弱的設定（{setting}），驗證準確率為 {val:.1f}%。"
    "更弱的設定介於它與{without}（{ref:.1f}%）之間",
)
EDGE_WITHIN = Wording(
    "{weak}, and those two are {d:.1f} points apart, within the noise: the grid gives no evidence that {name} "
    "helps this network at any strength. The test runs at the end of the chapter check the chosen setting on "
    "fresh seeds.",
    "{weak}，而這兩者相差 {d:.1f} 個百分點，在雜訊範圍內：這個網格並未提供任何證據顯示「{name}」在任何強度下"
    "對這個網路有幫助。本章最後的測試執行會以新的隨機種子檢驗選出的設定。",
)
EDGE_BEYOND = Wording(
    "{weak}; it validates {versus}, so a weaker setting might validate better still.",
    "{weak}；它的驗證準確率{versus}，所以更弱的設定或許還能得到更高的驗證準確率。",
)
INSIDE = Wording("Every chosen setting lies inside its grid.", "每個選出的設定都落在其網格內部，而不在兩端。")
WD_STRONG = Wording(
    "at its strongest, $\\lambda =$ {knob:g}, it fits {train:.1f}% of its training images and validates {versus}",
    "在最強的設定 $\\lambda =$ {knob:g} 下，網路擬合了 {train:.1f}% 的訓練影像，驗證準確率{versus}",
)

# early stopping's rule
METRICS = {"accuracy": Wording("accuracy", "準確率"), "loss": Wording("loss", "損失")}
RULE = Wording("{metric}, patience {patience}", "監看{metric}、耐心值 {patience}")
RULE_CHOSEN = Wording("{metric}, patience {patience}", "監看{metric}、耐心值為 {patience} 的規則")

# weight decay: the weights' norm
NORM_AT = Wording("{norm:.1f} at $\\lambda =$ {knob:g}", "$\\lambda =$ {knob:g} 時為 {norm:.1f}")
NORM_AT_CHOSEN = Wording(
    "{norm:.1f} at $\\lambda =$ {knob:g} (chosen)", "$\\lambda =$ {knob:g} 時為 {norm:.1f}（選定的設定）"
)
NORMS = Wording("{norm:.1f} without decay, {norms}", "不衰減時為 {norm:.1f}，{norms}")

# Adam + L2 against AdamW
ADAMW_BETTER = Wording(
    "Even on this small network, with each $\\lambda$ tuned, decoupling the decay pays, as Loshchilov & Hutter found.",
    "即使在這個小網路上，各自調好 $\\lambda$ 之後，把衰減解耦仍然值得，正如 Loshchilov & Hutter 所發現的。",
)
ADAM_L2_BETTER = Wording(
    "Here the L2 term does better than decoupled decay: with each $\\lambda$ tuned, the advantage Loshchilov & "
    "Hutter found does not carry over to this network and budget.",
    "在這裡，L2 項反而比解耦的衰減表現更好：各自調好 $\\lambda$ 之後，Loshchilov & Hutter 發現的優勢"
    "並未出現在這個網路與這樣的訓練預算上。",
)
ADAM_UNCLEAR = Wording(
    "On a network this small, trained this briefly, with each $\\lambda$ tuned, the difference Loshchilov & "
    "Hutter describe need not show; it matters most where the gradients' scales differ widely between weights "
    "and the decay is strong.",
    "在這麼小、訓練時間又這麼短的網路上，各自調好 $\\lambda$ 之後，Loshchilov & Hutter 所描述的差異不一定會顯現；"
    "這個差異在各權重的梯度尺度相差懸殊、且衰減很強時最為重要。",
)
ADAM_EDGE = {
    "weakest": Wording(
        "{name}'s choice is the weakest setting of its grid, so a weaker one might validate better still: this "
        "comparison may understate what it can do.",
        "驗證為 {name} 選出的是其網格中最弱的設定，所以更弱的設定或許還能得到更高的驗證準確率："
        "這項比較可能低估了它的能力。",
    ),
    "strongest": Wording(
        "{name}'s choice is the strongest setting of its grid, so a stronger one might validate better still: "
        "this comparison may understate what it can do.",
        "驗證為 {name} 選出的是其網格中最強的設定，所以更強的設定或許還能得到更高的驗證準確率："
        "這項比較可能低估了它的能力。",
    ),
}

# L1: exact zeros
NO_ZEROS = Wording(
    "in no run of any L1 or weight-decay setting did a single one of the {n:,} weights end exactly at zero",
    "在任何 L1 或權重衰減設定的任何一次執行中，{n:,} 個權重沒有一個恰好停在零",
)
FEW_ZEROS = Wording(
    "of the {n:,} weights, at most {l1:.0f} (L1) and {wd:.0f} (weight decay) ended exactly at zero, means over "
    "the seeds",
    "在 {n:,} 個權重中，最多 {l1:.0f} 個（L1）與 {wd:.0f} 個（權重衰減）恰好停在零（各隨機種子的平均）",
)

# dropout's grid
RATE = {
    "lowest": Wording("at the lowest rate", "在最低比率時"),
    "highest": Wording("at the highest rate", "在最高比率時"),
    "between": Wording("in between", "在中間某個比率時"),
}
DROP_PEAK = Wording(
    "The validation accuracy is highest {where}, {val:.1f}% at $p =$ {knob:g} ({versus}), and {last:.1f}% at the "
    "highest rate.",
    "驗證準確率{where}最高：$p =$ {knob:g} 時為 {val:.1f}%，{versus}；最高比率時則為 {last:.1f}%。",
)

# an ensemble growing
ENS_GAIN = Wording(
    "Over its first member alone, the first {k} gain {few:+.1f} points, all {n} together {all:+.1f}.",
    "與單獨的第一個成員相比，前 {k} 個成員合起來的增益為 {few:+.1f} 個百分點，全部 {n} 個合起來則為 "
    "{all:+.1f} 個百分點。",
)

# the comparison
CLEAR_ITEM = Wording("{name} ({d:+.1f} points)", "{name}（{d:+.1f} 個百分點）")
CLEAR = Wording("Differences from it larger than their noise: {clear}.", "與基準的差異大於其雜訊的技術：{clear}。")
CLEAR_AND_UNCLEAR = Wording(
    "Differences from it larger than their noise: {clear}. Within the noise of {seeds} seeds: {unclear}.",
    "與基準的差異大於其雜訊的技術：{clear}。差異在 {seeds} 個隨機種子的雜訊範圍內的技術：{unclear}。",
)
SMALL_DIFFS = Wording(
    "{n} of the {total} techniques differ from the baseline by less than that in mean test accuracy",
    "{total} 種技術中有 {n} 種的平均測試準確率與基準相差不到這個值",
)

# early stopping on the test seeds
ES_SAME = Wording("test accuracy is that of the baseline's final weights.", "測試準確率就是基準最終權重的測試準確率。")
ES_DIFFERS = {
    "below": Wording(
        "test accuracy is {d:.1f} points below that of the baseline's final weights, {verdict}",
        "測試準確率比基準最終權重的低 {d:.1f} 個百分點，{verdict}",
    ),
    "above": Wording(
        "test accuracy is {d:.1f} points above that of the baseline's final weights, {verdict}",
        "測試準確率比基準最終權重的高 {d:.1f} 個百分點，{verdict}",
    ),
}
LARGER_THAN_NOISE = Wording("larger than its noise.", "大於其雜訊。")
WITHIN_NOISE = Wording("within the noise.", "在雜訊範圍內。")
KEPT_LAST = Wording(
    "In every run the best validation check was the last one, so it kept the final weights: ",
    "每次執行中最好的驗證檢查都是最後一次，所以它保留了最終權重：",
)
KEPT_BEST = Wording(
    "All it did was keep the weights of each run's best validation check (epochs {first} to {last}) instead of "
    "the final ones; ",
    "它所做的只是保留每次執行中最佳驗證檢查的權重（第 {first} 到第 {last} 個訓練週期），而不是最終權重；",
)
KEPT_BEST_SAME = Wording(
    "All it did was keep the weights of each run's best validation check (epochs {first} to {last}) instead of "
    "the final ones (the same weights in {same} of the {runs} runs); ",
    "它所做的只是保留每次執行中最佳驗證檢查的權重（第 {first} 到第 {last} 個訓練週期），而不是最終權重"
    "（{runs} 次執行中有 {same} 次兩者是同一組權重）；",
)
BOTH_RUNS = Wording("both runs", "兩次執行都")
ALL_RUNS = Wording("all {n} runs", "全部 {n} 次執行都")
ES_NEVER = Wording(
    "Early stopping ({rule}) never ran out of patience on the test seeds: {all_runs} trained the full {epochs} "
    "epochs, so it saved no training time. {kept}any longer patience would have kept the same weights, so the edge "
    "of its grid changes nothing here. Its {test}",
    "早停法（{rule}）在測試用的隨機種子上從未耗盡耐心：{all_runs}訓練了完整的 {epochs} 個訓練週期，"
    "所以沒有節省任何訓練時間。{kept}任何更長的耐心值都會保留同樣的權重，所以耐心值落在網格邊緣，在這裡並無影響。"
    "它的{test}",
)
ES_STOPPED = Wording(
    "Early stopping ({rule}) stopped {stopped} of its {runs} runs before their last epoch, after {epochs:.1f} "
    "epochs on average; in {later} of those {stopped} the validation accuracy rose above the restored check after "
    "the stop, and its {test}",
    "早停法（{rule}）讓 {runs} 次執行中的 {stopped} 次在最後一個訓練週期之前就停止，平均經過 {epochs:.1f} "
    "個訓練週期；在這 {stopped} 次中，有 {later} 次的驗證準確率在停止之後又超過了還原的那次檢查，而它的{test}",
)

# decaying the biases too
BIAS_NOISE = Wording(
    "a difference of {diff:.1f} points. Two single runs that differ only in their seed differ by about "
    "± {sd:.1f} points (one standard deviation, from the baseline's runs), so {verdict}",
    "相差 {diff:.1f} 個百分點。只有隨機種子不同的兩次單獨執行，彼此相差約 ± {sd:.1f} 個百分點"
    "（一個標準差，取自基準的各次執行），所以{verdict}",
)
PAIR_CANNOT_TELL = Wording(
    "one pair of runs cannot tell this difference from noise", "一對執行無法把這個差異與雜訊區分開來"
)
PAIR_CAN_TELL = Wording(
    "this difference is more than twice the noise of one pair of runs", "這個差異超過一對執行之雜訊的兩倍"
)

# the baseline's run: what it fits, and where its validation loss goes
FITTED = {
    "by heart": Wording("it has learned them by heart", "它已把這些影像背了下來"),
    "nearly all": Wording("nearly all of them", "幾乎是全部"),
    "far from all": Wording(
        "far from all of them: this profile's run is too short", "遠不到全部：這個執行設定檔的訓練太短"
    ),
}
LOSS_TURN = {
    True: Wording("then rises again", "接著又回升"),
    False: Wording("then hardly changes", "之後幾乎不變"),
}
LOSS_VERDICT = {
    True: Wording(
        "The validation loss is the curve that turns around; the validation accuracy levels off.",
        "會轉折的是驗證損失曲線；驗證準確率則趨於平穩。",
    ),
    False: Wording(
        "In this profile's short run neither curve has turned yet.",
        "在這個執行設定檔的短時間訓練中，兩條曲線都還沒有轉折。",
    ),
}

# capacity: a network by its width
WIDTH = {
    "widest": Wording("the widest network", "最寬的網路"),
    "narrowest": Wording("the narrowest network", "最窄的網路"),
    "baseline": Wording("the baseline's width", "與基準同寬的網路"),
}
WIDTH_TIMES = Wording("a width of {width:g} times the baseline's", "寬度為基準 {width:g} 倍的網路")

# an early stopper on the baseline's run
STOPS_AFTER = Wording("stops after epoch {epoch}", "在第 {epoch} 個訓練週期後停止")
NEVER_STOPS = Wording("never runs out of patience in the {epochs} epochs", "在這 {epochs} 個訓練週期中從未耗盡耐心")

# AdamW minus Adam + L2 on the test seeds
ADAMW_NOISE = {
    "larger": Wording("larger than its noise", "大於其雜訊"),
    "within": Wording("within its noise: these runs cannot tell the two apart", "在其雜訊範圍內：這些執行無法區分兩者"),
}

# augmentation's and the ensemble's test accuracy against the baseline's
SIDE = {"above": Wording("above", "高於"), "below": Wording("below", "低於")}
ENS_RISES = {
    True: Wording("rises", "上升到"),
    False: Wording("does not rise", "並未上升，為"),
}
