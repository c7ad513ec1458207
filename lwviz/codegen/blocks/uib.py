"""Universal inverted bottleneck (MobileNetV4) as code (lwviz/blocks/uib.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("uib",),
        "UniversalInvertedBottleneck",
        '''
        class UniversalInvertedBottleneck(nn.Module):
            """MobileNetV4's universal inverted bottleneck: an inverted residual with two optional depthwise
            convolutions, one before the 1x1 expansion (``dw_start``, its kernel; 0: none) and one after it
            (``mid_dw``). Both: ExtraDW; after only: MobileNetV2's inverted residual; before only: ConvNeXt-like;
            neither: FFN. The one after takes the stride if it is there; the input is added when the shapes allow.
            """

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                mid = make_divisible(in_chs * cfg.expand)
                start_stride, mid_stride = (1, stride) if cfg.mid_dw else (stride, 1)
                self.has_skip = stride == 1 and in_chs == out_chs
                self.dw_start = nn.Identity()
                if cfg.dw_start:
                    self.dw_start = ConvBNAct(in_chs, in_chs, cfg.dw_start, start_stride, "none", groups=in_chs)
                self.pw_exp = ConvBNAct(in_chs, mid, 1, 1, cfg.act)
                self.dw_mid = nn.Identity()
                if cfg.mid_dw:
                    self.dw_mid = ConvBNAct(mid, mid, cfg.kernel, mid_stride, cfg.act, groups=mid)
                self.pw_proj = ConvBNAct(mid, out_chs, 1, 1, "none")

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.pw_proj(self.dw_mid(self.pw_exp(self.dw_start(x))))
                return out + x if self.has_skip else out
        ''',
    ),
)
