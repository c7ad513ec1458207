"""Depthwise-separable convolution (MobileNetV1) as code (lwviz/blocks/dws.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("dws",),
        "DepthwiseSeparable",
        '''
        class DepthwiseSeparable(nn.Module):
            """MobileNetV1's block: a KxK filter per channel (depthwise), then a 1x1 convolution that mixes them.

            Against one dense KxK convolution it costs 1/N + 1/K² (N output channels).
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                self.conv_dw = ConvBNAct(in_chs, in_chs, cfg.kernel, stride, cfg.act, groups=in_chs)
                rd = se_chs(in_chs, in_chs, cfg.se)  # the channels squeeze-and-excitation squeezes to  #@se
                self.se = SqueezeExcite(in_chs, rd, cfg.act) if cfg.se > 0 else nn.Identity()  #@se
                self.conv_pw = ConvBNAct(in_chs, out_chs, 1, 1, cfg.act)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.conv_pw(self.se(self.conv_dw(x)))  #@se
                return self.conv_pw(self.conv_dw(x))  #@!se
        ''',
    ),
)
