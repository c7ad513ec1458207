"""Standard convolution block as code (lwviz/blocks/conv.py)."""

from lwviz.codegen.base import BlockCode

CODE = (
    BlockCode(
        ("conv",),
        "ConvBlock",
        '''
        class ConvBlock(nn.Module):
            """A standard convolution: one dense KxK convolution, what every lightweight block is measured against."""

            def __init__(self, in_chs: int, out_chs: int, stride: int, cfg: StageConfig):
                super().__init__()
                self.conv = ConvBNAct(in_chs, out_chs, cfg.kernel, stride, cfg.act)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.conv(x)
        ''',
    ),
)
