import math

import pytest
import torch

from dlfoundations import models


def test_two_layer_fc_zero_input_shape():
    scores = models.two_layer_fc(torch.zeros(64, 50), [torch.zeros(50, 42), torch.zeros(42, 10)])
    assert list(scores.shape) == [64, 10]


def test_three_layer_convnet_zero_input_shape():
    shapes = [(6, 3, 5, 5), (6,), (9, 6, 3, 3), (9,), (9 * 32 * 32, 10), (10,)]
    scores = models.three_layer_convnet(torch.zeros(64, 3, 32, 32), [torch.zeros(s) for s in shapes])
    assert list(scores.shape) == [64, 10]


def test_two_layer_fc_matches_nn_layers():
    torch.manual_seed(0)
    x, w1, w2 = torch.randn(5, 3, 4, 4), torch.randn(48, 7), torch.randn(7, 10)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(48, 7, bias=False), torch.nn.ReLU(), torch.nn.Linear(7, 10, bias=False)
    )
    with torch.no_grad():
        net[1].weight.copy_(w1.T)
        net[3].weight.copy_(w2.T)
    torch.testing.assert_close(models.two_layer_fc(x, [w1, w2]), net(x))


def test_three_layer_convnet_matches_nn_layers():
    torch.manual_seed(0)
    params = [p.detach() for p in models.init_three_layer_convnet(4, 5, size=8)]
    params[1] = torch.randn(4)  # non-zero biases, so that they are tested too
    params[3] = torch.randn(5)
    params[5] = torch.randn(10)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 5, padding=2),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 5, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(5 * 8 * 8, 10),
    )
    with torch.no_grad():
        for layer, w, b in zip([net[0], net[2], net[5]], params[0::2], params[1::2], strict=True):
            layer.weight.copy_(w if w.ndim == 4 else w.T)
            layer.bias.copy_(b)
    x = torch.randn(3, 3, 8, 8)
    torch.testing.assert_close(models.three_layer_convnet(x, params), net(x), atol=1e-5, rtol=1e-5)


def test_bad_shapes_give_clear_errors():
    with pytest.raises(ValueError, match="3072 features.*w1 has shape \\(50, 42\\)"):
        models.two_layer_fc(torch.zeros(2, 3, 32, 32), [torch.zeros(50, 42), torch.zeros(42, 10)])
    with pytest.raises(ValueError, match="w2"):
        models.two_layer_fc(torch.zeros(2, 50), [torch.zeros(50, 42), torch.zeros(40, 10)])
    params = models.init_three_layer_convnet(4, 5)
    with pytest.raises(ValueError, match="expected images"):
        models.three_layer_convnet(torch.zeros(2, 1, 32, 32), params)
    with pytest.raises(ValueError, match="fc_w"):
        models.three_layer_convnet(torch.zeros(2, 3, 16, 16), params)


@pytest.mark.parametrize("shape, fan", [((3072, 100), 3072), ((32, 3, 5, 5), 75), ((16, 32, 3, 3), 288)])
def test_fan_in(shape, fan):
    assert models.fan_in(shape) == fan


def test_random_weight_is_kaiming_normal():
    torch.manual_seed(0)
    w = models.random_weight((2000, 1500))
    assert w.requires_grad and w.is_leaf
    assert abs(w.mean().item()) < 1e-3
    assert w.std().item() == pytest.approx(math.sqrt(2 / 2000), rel=0.01)
    reference = torch.nn.init.kaiming_normal_(torch.empty(1500, 2000), nonlinearity="relu")  # (out, in) layout
    assert w.std().item() == pytest.approx(reference.std().item(), rel=0.02)
    conv = models.random_weight((64, 32, 3, 3))
    assert conv.std().item() == pytest.approx(math.sqrt(2 / 288), rel=0.02)


def test_zero_weight_and_initializers():
    b = models.zero_weight((7,))
    assert b.requires_grad and torch.equal(b, torch.zeros(7))
    fc = models.init_two_layer_fc(hidden=11)
    assert [tuple(p.shape) for p in fc] == [(3072, 11), (11, 10)]
    conv = models.init_three_layer_convnet(32, 16)
    assert [tuple(p.shape) for p in conv] == [(32, 3, 5, 5), (32,), (16, 32, 3, 3), (16,), (16 * 32 * 32, 10), (10,)]
    assert models.count_parameters(conv) == 170_906
    assert models.count_parameters(torch.nn.Linear(3, 2)) == 8


def test_module_nets_print_their_architecture_and_shapes():
    net = models.ThreeLayerConvNet(3, 12, 8, 10)
    text = str(net)
    assert "(conv1): Conv2d(3, 12, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))" in text
    assert "(conv2): Conv2d(12, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in text
    assert "(fc): Linear(in_features=8192, out_features=10, bias=True)" in text
    assert list(net(torch.zeros(64, 3, 32, 32)).shape) == [64, 10]
    fc = models.TwoLayerFC(3 * 16 * 16, 42, 10)
    assert list(fc(torch.zeros(64, 3, 16, 16)).shape) == [64, 10]
    assert models.count_parameters(fc) == 768 * 42 + 42 + 42 * 10 + 10


@pytest.mark.parametrize(
    "make", [lambda: models.TwoLayerFC(3072, 4000, 10), lambda: models.sequential_two_layer_fc(4000, init="he")]
)
def test_fc_init_is_he_normal_with_zero_biases(make):
    torch.manual_seed(0)
    net = make()
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(4000, 3072), (10, 4000)]
    for m in linears:
        assert abs(m.weight.std().item() / math.sqrt(2 / m.in_features) - 1) < 0.02
        assert m.weight.mean().abs() < 0.01 * m.weight.std()
        assert torch.count_nonzero(m.bias) == 0


def test_sequential_default_init_is_pytorchs():
    """The assignment's Sequential part keeps PyTorch's U(±1/sqrt(fan_in)) for weights and biases."""
    torch.manual_seed(0)
    net = models.sequential_convnet(32, 16)
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.Conv2d(32, 16, 3, padding=1)
    )
    torch.testing.assert_close(net.conv1.weight, reference[0].weight)
    torch.testing.assert_close(net.conv2.bias, reference[2].bias)
    fc = net.fc
    bound = 1 / math.sqrt(fc.in_features)
    assert fc.weight.abs().max() <= bound and fc.weight.abs().max() > 0.99 * bound
    assert torch.count_nonzero(fc.bias) == 10
    he = models.sequential_convnet(32, 16, init="he")
    assert abs(he.fc.weight.std().item() / math.sqrt(2 / fc.in_features) - 1) < 0.02
    with pytest.raises(ValueError, match="init must be one of"):
        models.sequential_two_layer_fc(10, init="xavier")


def test_sequential_versions_equal_the_module_versions():
    torch.manual_seed(0)
    seq = models.sequential_convnet(6, 4, size=8)
    mod = models.ThreeLayerConvNet(3, 6, 4, 10, size=8)
    assert [n for n, _ in seq.named_children()] == ["conv1", "relu1", "conv2", "relu2", "flatten", "fc"]
    mod.load_state_dict(seq.state_dict())  # same parameter names and shapes
    x = torch.randn(5, 3, 8, 8)
    torch.testing.assert_close(seq(x), mod(x))
    assert models.count_parameters(seq) == models.count_parameters(mod)
    fc_seq, fc_mod = models.sequential_two_layer_fc(7, input_size=48), models.TwoLayerFC(48, 7, 10)
    fc_mod.load_state_dict({k: v for k, v in fc_seq.state_dict().items()})
    x = torch.randn(3, 3, 4, 4)
    torch.testing.assert_close(fc_seq(x), fc_mod(x))


def test_conv_bn_net_shapes_init_and_train_eval_difference():
    torch.manual_seed(0)
    net = models.conv_bn_net((8, 16), convs_per_block=2)
    assert list(net(torch.randn(4, 3, 32, 32)).shape) == [4, 10]
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 4 and all(c.bias is None for c in convs)  # BN supplies the shift
    big = models.conv_bn_net((256,), convs_per_block=1)
    w = big.conv1_1.weight
    assert abs(w.std().item() / math.sqrt(2 / (3 * 9)) - 1) < 0.05
    net.eval()  # running statistics: fresh BN layers are the identity, so outputs differ from train mode
    x = torch.randn(4, 3, 32, 32)
    assert not torch.allclose(net(x), net.train()(x))


def test_small_cnn_shapes_and_norm_placement():
    from dlfoundations import batchnorm

    x = torch.randn(4, 3, 32, 32)
    plain = models.small_cnn((4, 8))
    assert plain(x).shape == (4, 10) and plain.conv1.bias is not None
    before = models.small_cnn((4, 8), norm_layer=torch.nn.BatchNorm2d)
    names = [n for n, _ in before.named_children()]
    assert names.index("norm1") < names.index("relu1")
    assert before.conv1.bias is None and before.conv2.bias is None  # BN's β is the ReLU's threshold
    after = models.small_cnn((4, 8), norm_layer=batchnorm.BatchNorm, norm_after_relu=True)
    names = [n for n, _ in after.named_children()]
    assert names.index("norm1") > names.index("relu1")
    assert after(x).shape == (4, 10)
    # with BN after the ReLU the convolutions keep their biases, the ReLUs' thresholds
    assert all(conv.bias is not None and not conv.bias.any() for conv in (after.conv1, after.conv2))
    assert models.count_parameters(after) - models.count_parameters(before) == 4 + 8
    assert models.count_parameters(plain) == models.count_parameters(before) - 2 * (4 + 8) + (4 + 8)


def test_small_cnn_is_channels_last_and_computes_what_a_contiguous_copy_does():
    from dlfoundations import batchnorm

    torch.manual_seed(0)
    x = torch.randn(8, 3, 16, 16)
    for norm in (None, torch.nn.BatchNorm2d, batchnorm.BatchNorm):
        net = models.small_cnn((4, 8), norm_layer=norm, size=16)
        assert net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
        assert not net.conv1.weight.is_contiguous()
        hidden = net[:3](x)
        assert hidden.is_contiguous(memory_format=torch.channels_last)  # NHWC weights: NHWC activations
        plain = models.small_cnn((4, 8), norm_layer=norm, size=16).to(memory_format=torch.contiguous_format)
        plain.load_state_dict(net.state_dict())
        assert plain.conv1.weight.is_contiguous()
        for model in (net, plain):
            model.zero_grad()
            torch.nn.functional.cross_entropy(model(x), torch.arange(8) % 10).backward()
        torch.testing.assert_close(net(x), plain(x), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(net.conv1.weight.grad, plain.conv1.weight.grad, rtol=1e-4, atol=1e-5)
