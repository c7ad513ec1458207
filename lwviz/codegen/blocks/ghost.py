"""Ghost bottleneck (GhostNet) as code (lwviz/blocks/ghost.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("ghost",),
        "GhostBottleneck",
        '''
        class GhostModule(nn.Module):
            """GhostNet's ghost module: a 1x1 (primary) convolution makes 1/ratio of the maps, cheap 3x3 depthwise
            convolutions of those make the rest (the "ghosts"); both are concatenated and cut to ``out_chs``."""

            def __init__(self, in_chs: int, out_chs: int, ratio: int, act: str):
                super().__init__()
                primary = math.ceil(out_chs / ratio)
                self.out_chs = out_chs
                self.primary_conv = ConvBNAct(in_chs, primary, 1, 1, act)
                self.cheap_operation = ConvBNAct(primary, primary * (ratio - 1), 3, 1, act, groups=primary)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.primary_conv(x)
                return torch.cat([x, self.cheap_operation(x)], dim=1)[:, : self.out_chs]


        class GhostBottleneck(nn.Module):
            """GhostNet's block: MobileNetV3's inverted residual built from two ghost modules. The first expands
            (with the activation), a KxK depthwise convolution downsamples when the stride is 2, the second
            projects (linear), and the shortcut is added; where the shapes change it is a KxK depthwise and a 1x1
            convolution."""

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                mid = in_chs if cfg.expand == 1 else make_divisible(in_chs * cfg.expand)
                self.ghost1 = GhostModule(in_chs, mid, cfg.ratio, cfg.act)
                self.conv_dw = nn.Identity()
                if stride > 1:  # a depthwise convolution only where the block downsamples
                    self.conv_dw = ConvBNAct(mid, mid, cfg.kernel, stride, "none", groups=mid)
                # GhostNet's SE: ReLU and a hard-sigmoid gate, squeezing to a multiple of 4  #@se
                se = SqueezeExcite(mid, make_divisible(mid * cfg.se, 4), "relu", nn.Hardsigmoid)  #@se
                self.se = se if cfg.se > 0 else nn.Identity()  #@se
                self.ghost2 = GhostModule(mid, out_chs, cfg.ratio, "none")
                if stride == 1 and in_chs == out_chs:
                    self.shortcut = nn.Identity()
                else:
                    self.shortcut = nn.Sequential(
                        ConvBNAct(in_chs, in_chs, cfg.kernel, stride, "none", groups=in_chs),
                        ConvBNAct(in_chs, out_chs, 1, 1, "none"),
                    )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.ghost2(self.se(self.conv_dw(self.ghost1(x)))) + self.shortcut(x)  #@se
                return self.ghost2(self.conv_dw(self.ghost1(x))) + self.shortcut(x)  #@!se
        ''',
    ),
)
