"""Chapter 4, vanishing gradients: its glued sentences (see :mod:`dlfoundations.wording`)."""

from . import Wording

_STILL_ON_ZH = (
    "不過，第二層的 256 個單元中，仍有 {alive} 個至少會被某張訓練影像啟動，"
    "因此在含有這類影像的批次上，第一層仍會收到梯度，"
    "被判定為死亡的單元也仍可能復活。"
)

# after the large learning rate: is the whole second layer dead on every training image, or are {alive} units on?
DEAD_VERDICT = {
    "all dead": Wording(
        "Every unit of the second layer is dead, not only on these 500 images but on every training image, so no "
        "gradient reaches the first layer either: on a training batch every parameter except the output layer's bias "
        "has a gradient of exactly zero, and the same holds for every batch. Further training can move only that "
        "bias, and these units stay dead for good.",
        "第二層的每個單元都已死亡，不只是在這 500 張影像上，而是在每一張訓練影像上都如此，"
        "因此也沒有任何梯度傳到第一層：在一個訓練批次上，除了輸出層的偏置之外，每個參數的梯度都恰好為零，"
        "而且每個批次都是如此。之後的訓練只能更新這個偏置，這些單元再也不會復活。",
    ),
    "one on": Wording(
        "Yet {alive} of the second layer's 256 units is still on for some training image, so the first layer still "
        "receives gradient on the batches that contain such an image, and the units counted as dead could still "
        "come back.",
        _STILL_ON_ZH,
    ),
    "some on": Wording(
        "Yet {alive} of the second layer's 256 units are still on for some training image, so the first layer still "
        "receives gradient on the batches that contain such an image, and the units counted as dead could still "
        "come back.",
        _STILL_ON_ZH,
    ),
}

# gradient clipping: the mean loss of the last ten steps against that of a uniform guess, ln 10
CLIP_VERDICT = {
    "below": Wording(
        "both below $\\ln 10 \\approx 2.30$, the loss of a uniform guess",
        "兩者都低於均勻猜測的損失 $\\ln 10 \\approx 2.30$",
    ),
    "above": Wording(
        "still above $\\ln 10 \\approx 2.30$, the loss of a uniform guess: the network has not yet recovered from "
        "its oversized start",
        "仍高於均勻猜測的損失 $\\ln 10 \\approx 2.30$：網路尚未從過大的初始化中恢復過來",
    ),
}
