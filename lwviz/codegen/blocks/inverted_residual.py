"""Inverted residual / MBConv (MobileNetV2, MobileNetV3, EfficientNet) as code (lwviz/blocks/inverted_residual.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("ir", "mbconv"),
        "InvertedResidual",
        '''
        class InvertedResidual(nn.Module):
            """MobileNetV2's inverted residual with a linear bottleneck (MBConv when it has SE, as in MobileNetV3 and
            EfficientNet).

            Expand with a 1x1 convolution, filter each channel with a KxK depthwise convolution, project back  #@!se
            with a *linear* 1x1 convolution (no activation: ReLU would destroy information in the narrow  #@!se
            bottleneck), and add the input when the shapes allow.  #@!se
            Expand with a 1x1 convolution, filter each channel with a KxK depthwise convolution, re-weight the  #@se
            channels with squeeze-and-excitation (if on), project back with a *linear* 1x1 convolution (no  #@se
            activation: ReLU would destroy information in the narrow bottleneck), and add the input when the  #@se
            shapes allow.  #@se
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                mid = in_chs if cfg.expand == 1 else make_divisible(in_chs * cfg.expand)
                self.has_skip = stride == 1 and in_chs == out_chs
                # no 1x1 expansion when the block does not widen: the depthwise conv filters the input directly
                self.conv_pw = ConvBNAct(in_chs, mid, 1, 1, cfg.act) if mid != in_chs else nn.Identity()
                self.conv_dw = ConvBNAct(mid, mid, cfg.kernel, stride, cfg.act, groups=mid)
                rd = se_chs(in_chs, mid, cfg.se)  # the channels squeeze-and-excitation squeezes to  #@se
                self.se = SqueezeExcite(mid, rd, cfg.act) if cfg.se > 0 else nn.Identity()  #@se
                self.conv_pwl = ConvBNAct(mid, out_chs, 1, 1, "none")

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.conv_pwl(self.se(self.conv_dw(self.conv_pw(x))))  #@se
                out = self.conv_pwl(self.conv_dw(self.conv_pw(x)))  #@!se
                return out + x if self.has_skip else out
        ''',
    ),
)
