import pytest
import torch

from dlfoundations import normalization


def _compare(ours, theirs, x):
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.normal_()
        ours.gamma.copy_(theirs.weight)
        ours.beta.copy_(theirs.bias)
    upstream = torch.randn_like(x)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(a), theirs(b)
    torch.testing.assert_close(ya, yb)
    (ya * upstream).sum().backward()
    (yb * upstream).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)
    torch.testing.assert_close(ours.gamma.grad, theirs.weight.grad)
    torch.testing.assert_close(ours.beta.grad, theirs.bias.grad)


@pytest.mark.parametrize("shape", [(8, 10), (4, 6, 5, 5)])
def test_layer_norm_matches_torch(shape):
    torch.manual_seed(0)
    x = torch.randn(shape, dtype=torch.float64) * 3 + 1
    normalized = shape[1:]
    _compare(normalization.LayerNorm(normalized).double(), torch.nn.LayerNorm(normalized).double(), x)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_group_norm_matches_torch(groups):
    torch.manual_seed(1)
    x = torch.randn(4, 6, 5, 5, dtype=torch.float64) * 2 - 1
    _compare(normalization.GroupNorm(groups, 6).double(), torch.nn.GroupNorm(groups, 6).double(), x)


def test_outputs_do_not_depend_on_the_batch():
    torch.manual_seed(2)
    x = torch.randn(5, 6, 4, 4)
    norm = normalization.GroupNorm(3, 6)
    torch.testing.assert_close(norm(x)[:1], norm(x[:1]))
    ln = normalization.LayerNorm(16)
    torch.testing.assert_close(ln(x.flatten(2))[2:3], ln(x.flatten(2)[2:3]))


def test_group_norm_rejects_uneven_groups():
    with pytest.raises(ValueError):
        normalization.GroupNorm(4, 6)
    with pytest.raises(ValueError):
        normalization.layer_norm(torch.zeros(2, 3), torch.ones(4), torch.zeros(4))


class _Add(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, h):
        return torch.full_like(h, self.value)


def test_residual_states_sums_the_branches():
    h0 = torch.randn(7, 5, generator=torch.Generator().manual_seed(3))
    states = normalization.residual_states([_Add(0.5)] * 4, h0)
    assert states.shape == (5, 7, 5)
    for depth in range(5):
        torch.testing.assert_close(states[depth], h0 + 0.5 * depth)  # a constant branch: mean grows linearly


def test_residual_states_with_a_normalized_branch_and_errors():
    torch.manual_seed(4)
    block = torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.BatchNorm1d(6))
    h0 = torch.randn(32, 6)
    states = normalization.residual_states([block], h0)
    added = states[1] - states[0]  # BN(W h0) in training mode: zero mean, unit variance per unit
    torch.testing.assert_close(added.mean(0), torch.zeros(6), atol=1e-6, rtol=0)
    torch.testing.assert_close(added.var(0, unbiased=False), torch.ones(6), atol=1e-3, rtol=0)
    assert not states.requires_grad
    with pytest.raises(ValueError, match="at least one block"):
        normalization.residual_states([], h0)
