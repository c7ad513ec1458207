"""ShuffleNetV2 unit as code (lwviz/blocks/shuffle.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("shuffle",),
        "ShuffleV2Unit",
        '''
        class ShuffleV2Unit(nn.Module):
            """ShuffleNetV2's unit: split the channels, transform one half, concatenate, shuffle.

            At stride 1 with equal widths half the channels pass through untouched; otherwise (downsampling or a
            width change) both halves are computed from the whole input, ``branch_proj`` beside ``branch_main``.
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                half = out_chs // 2
                self.split = stride == 1 and in_chs == out_chs
                if not self.split:
                    self.branch_proj = nn.Sequential(
                        ConvBNAct(in_chs, in_chs, cfg.kernel, stride, "none", groups=in_chs),
                        ConvBNAct(in_chs, half, 1, 1, cfg.act),
                    )
                self.branch_main = nn.Sequential(
                    ConvBNAct(half if self.split else in_chs, half, 1, 1, cfg.act),
                    ConvBNAct(half, half, cfg.kernel, stride, "none", groups=half),
                    ConvBNAct(half, half, 1, 1, cfg.act),
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if self.split:
                    keep, x = x.chunk(2, dim=1)
                else:
                    keep = self.branch_proj(x)
                return channel_shuffle(torch.cat([keep, self.branch_main(x)], dim=1), 2)
        ''',
    ),
)
