"""MobileOne block as code (lwviz/blocks/mobileone.py); its re-parameterizable convolution is a shared piece, as
MobileOne's stem is one too (lwviz.codegen.shared)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("mobileone",),
        "MobileOneBlock",
        '''
        class MobileOneBlock(nn.Module):
            """MobileOne's block: a depthwise KxK re-parameterizable convolution (with the stride), then a pointwise
            1x1 one."""

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                self.dw = ReparamConv(in_chs, in_chs, cfg.kernel, stride, in_chs, cfg.act, cfg.branches)  #@!reparam
                self.pw = ReparamConv(in_chs, out_chs, 1, 1, 1, cfg.act, cfg.branches)  #@!reparam
                self.dw = ReparamConv(in_chs, in_chs, cfg.kernel, stride, in_chs, cfg.act)  #@reparam
                self.pw = ReparamConv(in_chs, out_chs, 1, 1, 1, cfg.act)  #@reparam

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.pw(self.dw(x))
        ''',
    ),
)
