"""Fused-MBConv (EfficientNetV2) as code (lwviz/blocks/fused_mbconv.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("fused",),
        "FusedMBConv",
        '''
        class FusedMBConv(nn.Module):
            """EfficientNetV2's fused-MBConv: MBConv's 1x1 expansion and KxK depthwise convolution fused into one dense
            KxK convolution, which runs faster on accelerators in the early, high-resolution stages.

            A linear 1x1 projection follows when the block expands; without expansion the one KxK convolution maps
            input to output channels directly. The input is added when the shapes allow.
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                expanded = in_chs if cfg.expand == 1 else make_divisible(in_chs * cfg.expand)
                mid = expanded if expanded != in_chs else out_chs
                self.has_skip = stride == 1 and in_chs == out_chs
                self.conv_fused = ConvBNAct(in_chs, mid, cfg.kernel, stride, cfg.act)
                rd = se_chs(in_chs, mid, cfg.se)  # the channels squeeze-and-excitation squeezes to  #@se
                self.se = SqueezeExcite(mid, rd, cfg.act) if cfg.se > 0 else nn.Identity()  #@se
                self.conv_pwl = ConvBNAct(mid, out_chs, 1, 1, "none") if expanded != in_chs else nn.Identity()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.conv_pwl(self.se(self.conv_fused(x)))  #@se
                out = self.conv_pwl(self.conv_fused(x))  #@!se
                return out + x if self.has_skip else out
        ''',
    ),
)
