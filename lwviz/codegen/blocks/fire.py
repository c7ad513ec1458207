"""SqueezeNet's Fire module as code (lwviz/blocks/fire.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("fire",),
        "FireModule",
        '''
        class FireModule(nn.Module):
            """SqueezeNet's Fire module: squeeze to few channels with a 1x1 convolution, then expand with a 1x1 and a
            KxK convolution side by side and concatenate them. ``expand`` is output / squeeze channels.

            SqueezeNet downsamples with max-pooling, so a stride-2 Fire module pools first.
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                squeeze = max(1, round(out_chs / cfg.expand))
                self.pool = nn.MaxPool2d(3, 2, ceil_mode=True) if stride > 1 else nn.Identity()
                self.squeeze = ConvBNAct(in_chs, squeeze, 1, 1, cfg.act)
                self.expand1x1 = ConvBNAct(squeeze, out_chs // 2, 1, 1, cfg.act)
                self.expand3x3 = ConvBNAct(squeeze, out_chs - out_chs // 2, cfg.kernel, 1, cfg.act)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.squeeze(self.pool(x))
                return torch.cat([self.expand1x1(x), self.expand3x3(x)], dim=1)
        ''',
    ),
)
