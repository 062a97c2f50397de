import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dlfoundations import config, plots, training  # noqa: E402


def test_smooth_is_a_trailing_mean():
    values = [1.0, 3.0, 5.0, 7.0]
    np.testing.assert_allclose(plots.smooth(values, window=2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(plots.smooth(values, window=1), values)


def test_plot_histories_draws_both_panels():
    h = training.History(losses=[2.3, 2.0, 1.8, 1.7], val_iterations=[0, 3], val_accuracies=[0.1, 0.3])
    fig = plots.plot_histories({"a": h, "b": h}, title="t")
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 4 and len(acc_ax.lines) == 2
    np.testing.assert_allclose(acc_ax.lines[0].get_ydata(), [10, 30])


def test_show_examples_grid():
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(40) % 10
    fig = plots.show_examples(images, labels, [str(i) for i in range(10)], per_class=3)
    assert len(fig.axes) == 30


def test_bar_compare_and_markdown_table():
    from dlfoundations.book import markdown_table

    fig = plots.bar_compare({"a": 10.0, "b": 1000.0}, "images/s", log=True)
    assert fig.axes[0].get_xscale() == "log"
    table = markdown_table(["x", "y"], [[1, 2], ["a", "b"]])
    assert table.splitlines() == ["| x | y |", "|---|---|", "| 1 | 2 |", "| a | b |"]
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["x", "y"], [[1]])


def test_run_description(monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", "quick")

    class Sizes:
        y_train, y_val, y_test = range(2560), range(500), range(1000)

    text = config.run_description(Sizes())
    assert text.startswith("profile `quick`, device `") and "2,560 training, 500 validation and 1,000 test" in text


def test_landscape_plots():
    from dlfoundations import landscapes, optim

    path = optim.SGD([-8.0, 5.0], 0.3).run(landscapes.ELONGATED_BOWL.grad, 10)
    ax = plots.trajectories(landscapes.ELONGATED_BOWL, {"sgd": path}, title="t")
    assert len(ax.lines) == 2  # the minimum's star and the path
    np.testing.assert_allclose(ax.lines[-1].get_xydata(), path.numpy())
    plots.gradient_field(landscapes.SADDLE, ax)
    assert plots.contours(landscapes.ROSENBROCK, log=True).get_title().startswith("$")
    line = optim.SGD([0.0], 0.1).run(landscapes.PARABOLA.grad, 5)
    assert len(plots.iterates_1d(landscapes.PARABOLA, {"a": line}).lines) == 2
    fig = plots.function_and_derivatives(landscapes.QUARTIC, {"m": 37.5, "i": [0, 25]})
    assert len(fig.axes) == 3
    animation = plots.animate_trajectories(landscapes.ELONGATED_BOWL, {"sgd": path}, frames=5)
    assert "<script" in animation.to_jshtml()
    ax = plots.schedules({"const": [1, 1, 1]})
    assert len(ax.lines) == 1


def test_search_results_marks_the_best_and_uses_log_axes():
    rows = [{"lr": 1e-4, "hidden": 4000, "val": 0.5}, {"lr": 1e-2, "hidden": 5000, "val": 0.3}]
    fig = plots.search_results(rows, ["lr", "hidden"])
    lr_ax, hidden_ax = fig.axes[:2]
    assert lr_ax.get_xscale() == "log" and hidden_ax.get_xscale() == "linear"
    best = lr_ax.collections[1].get_offsets()
    assert best.tolist() == [[1e-4, 50.0]]
    matplotlib.pyplot.close(fig)


def test_image_row_draws_every_image():
    fig = plots.image_row(torch.zeros(5, 3, 8, 8, dtype=torch.uint8), title="five")
    assert len(fig.axes) == 5 and all(len(ax.images) == 1 for ax in fig.axes)
    matplotlib.pyplot.close(fig)


def test_animation_html_needs_no_cdn():
    from dlfoundations import landscapes

    animation = plots.animate_trajectories(
        landscapes.SHIFTED_BOWL, {"a": [[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]]}, frames=3
    )
    html = plots.animation_html(animation)
    assert "font-awesome" not in html and 'class="fa ' not in html and "▶" in html


def test_computational_graph_draws_every_node():
    ax = plots.computational_graph(3)
    texts = [t.get_text() for t in ax.texts]
    for name in ["$\\mathbf{x}$", "$\\mathbf{z}^{3}$", "$\\mathbf{a}^{2}$", "$L$", "$W^{2\\top}$"]:
        assert name in texts
    # the weight leaves, with the gradient each one receives
    assert {"$W^{1}$", "$W^{3}$", "$\\boldsymbol{\\delta}^{3}\\mathbf{a}^{2\\top}$"} <= set(texts)
    assert len(ax.patches) + len([c for c in ax.get_children() if type(c).__name__ == "Annotation"]) >= 2 * 6 + 2 * 3
    with pytest.raises(ValueError):
        plots.computational_graph(0)
