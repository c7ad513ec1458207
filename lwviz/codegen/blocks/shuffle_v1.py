"""ShuffleNetV1 unit as code (lwviz/blocks/shuffle_v1.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("shufflev1",),
        "ShuffleV1Unit",
        '''
        class ShuffleV1Unit(nn.Module):
            """ShuffleNetV1's unit: grouped 1x1 convolutions, which cost 1/groups of dense ones, with a channel
            shuffle between them so information crosses the groups.

            ``expand`` is bottleneck / output channels. A downsampling unit that widens concatenates the
            average-pooled input, so its convolutions make only the new channels. The shuffle follows the authors'
            released code (after the depthwise convolution), which their ImageNet weights assume.
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                g = cfg.groups
                mid = max(g, round(out_chs * cfg.expand / g) * g)
                self.concat = stride > 1 and out_chs > in_chs
                self.has_skip = stride == 1 and in_chs == out_chs
                self.shuffle_groups = mid // g  # the authors' (C/g, g) reshape
                self.conv_pw = ConvBNAct(in_chs, mid, 1, 1, cfg.act, groups=1 if cfg.dense_first else g)
                self.conv_dw = ConvBNAct(mid, mid, cfg.kernel, stride, "none", groups=mid)
                self.conv_pwl = ConvBNAct(mid, out_chs - in_chs if self.concat else out_chs, 1, 1, "none", groups=g)
                self.pool = nn.AvgPool2d(3, 2, 1) if self.concat else nn.Identity()
                self.act = make_act(cfg.act)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.conv_pwl(channel_shuffle(self.conv_dw(self.conv_pw(x)), self.shuffle_groups))
                if self.concat:
                    out = torch.cat([self.pool(x), out], dim=1)
                elif self.has_skip:
                    out = out + x
                return self.act(out)
        ''',
        after_first="cfg = cfg._replace(dense_first=False)  # only a stage's first unit keeps its first 1x1 dense",
    ),
)
