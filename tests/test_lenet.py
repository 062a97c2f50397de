"""models.LeNet5 and plots.filters, the additions of the neurons-and-convolution chapter."""

import matplotlib
import pytest
import torch

from dlfoundations import layers, models, plots

matplotlib.use("Agg")


def test_lenet5_shapes_and_parameter_count():
    net = models.LeNet5()
    assert net(torch.zeros(4, 3, 32, 32)).shape == (4, 10)
    # C1 456 + C3 2,416 + C5 48,120 + F6 10,164 + output 850
    assert models.count_parameters(net) == 62_006
    assert models.count_parameters(models.LeNet5(in_channels=1)) == 62_006 - 2 * 6 * 25
    assert layers.receptive_field(net.children()) == 32  # one C5 unit sees the whole image


@pytest.mark.parametrize(("activation", "pooling"), [("relu", "max"), ("tanh", "avg"), ("sigmoid", "max")])
def test_lenet5_is_the_chain_of_layers_it_documents(activation, pooling):
    torch.manual_seed(0)
    net = models.LeNet5(activation=activation, pooling=pooling).double()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    pool = layers.max_pool2d if pooling == "max" else layers.avg_pool2d
    h = pool(act(layers.conv2d(x, net.c1.weight, net.c1.bias)), 2)
    assert h.shape == (2, 6, 14, 14)
    h = pool(act(layers.conv2d(h, net.c3.weight, net.c3.bias)), 2)
    assert h.shape == (2, 16, 5, 5)
    h = act(layers.conv2d(h, net.c5.weight, net.c5.bias)).flatten(1)
    scores = act(h @ net.f6.weight.T + net.f6.bias) @ net.output.weight.T + net.output.bias
    torch.testing.assert_close(net(x), scores, rtol=1e-12, atol=1e-12)


def test_lenet5_rejects_wrong_inputs_and_options():
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\).*\(2, 3, 28, 28\)"):
        models.LeNet5()(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="activation"):
        models.LeNet5(activation="gelu")
    with pytest.raises(ValueError, match="pooling"):
        models.LeNet5(pooling="median")


def test_filters_draws_one_panel_per_filter():
    fig = plots.filters(torch.randn(6, 3, 5, 5), title="C1")
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 6
    low, high = images[0].images[0].get_array().min(), images[0].images[0].get_array().max()
    assert low == pytest.approx(0.0) and high == pytest.approx(1.0)
    grey = plots.filters(torch.randn(10, 1, 3, 3), columns=4)
    assert len([ax for ax in grey.axes if ax.images]) == 10 and len(grey.axes) == 12
    matplotlib.pyplot.close("all")
