import pytest
import torch
from torch import nn

from lwviz.hooks import eval_mode, forward_hooks


def test_hooks_see_the_pass_and_are_gone_after_it_even_when_it_fails():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = []
    with forward_hooks(
        pre=[(model[0], lambda m, args: seen.append(("in", tuple(args[0].shape))))],
        post=[(model[1], lambda m, args, out: seen.append(("out", tuple(out.shape))))],
    ):
        model(torch.zeros(4, 2))
    assert seen == [("in", (4, 2)), ("out", (4, 3))]
    with pytest.raises(RuntimeError), forward_hooks(post=[(model[0], lambda m, args, out: seen.append("late"))]):
        model(torch.zeros(4, 5))  # wrong width: the forward pass raises inside the block
    model(torch.zeros(1, 2))
    assert "late" not in seen
    assert not model[0]._forward_hooks and not model[0]._forward_pre_hooks and not model[1]._forward_hooks


def test_eval_mode_restores_training_even_on_error():
    model = nn.Sequential(nn.Dropout(0.5)).train()
    with pytest.raises(ValueError), eval_mode(model):
        assert not model.training
        raise ValueError("boom")
    assert model.training
    with eval_mode(model.eval()):
        pass
    assert not model.training
