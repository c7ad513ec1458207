"""Spec -> ``nn.Module``. The model keeps its plan, so every layer knows its shapes and args."""

from __future__ import annotations

import torch
from torch import nn

from lwviz import limits
from lwviz.blocks import build_layer
from lwviz.plan import Plan, resolve
from lwviz.spec import Spec


class Net(nn.Module):
    """``stem -> stages -> [head] -> classifier``. Module names match the plan's layer names."""

    def __init__(self, plan: Plan):
        super().__init__()
        self.plan = plan
        stem, *_, cls = plan.layers
        head = next((a for a in plan.layers if a.name == "head"), None)
        self.stem = build_layer(stem)
        self.stages = nn.Sequential(
            *(
                nn.Sequential(*(build_layer(a) for a in plan.blocks if a.stage == i))
                for i in range(len(plan.spec.stages))
            )
        )
        self.head = build_layer(head) if head else nn.Identity()
        self.classifier = build_layer(cls)
        _init_weights(self)

    @property
    def spec(self) -> Spec:
        return self.plan.spec

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.forward_features(x))


def build(spec: Spec) -> Net:
    """Check the spec, and that it is small enough to run here (:data:`lwviz.limits.RUN`), and build its model
    (random initialization, train mode)."""
    plan = resolve(spec)
    limits.check_runnable(plan)
    return Net(plan)


def _init_weights(model: nn.Module) -> None:
    """torchvision's MobileNet/EfficientNet initialization: Kaiming fan-out convs, small FCs."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
