"""ShuffleNetV1 as its authors published it, the reference our ``shufflenet_v1_g3``/``_g8`` presets must equal.

Source: the ShuffleNet-Series repository of the paper's authors (Megvii), files ShuffleNetV1/network.py and
ShuffleNetV1/blocks.py, MIT License, Copyright (c) 2019 Megvii Technology. Kept here because it is not on
PyPI; the code is theirs with only the print, the custom weight init and the unused input_size dropped
(tests initialise weights themselves) and the two files merged. Used by tests only, never by the package.

Two details matter for matching it: the first unit's 1x1 convolution is dense (``first_group``), and the
channel shuffle runs after the depthwise convolution (the paper draws it before; the depthwise convolution is
per channel, so the two orders differ only by a permutation of its weights). The classifier has no bias.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

STAGE_OUT_CHANNELS = {
    3: {
        "0.5x": [-1, 12, 120, 240, 480],
        "1.0x": [-1, 24, 240, 480, 960],
        "1.5x": [-1, 24, 360, 720, 1440],
        "2.0x": [-1, 48, 480, 960, 1920],
    },
    8: {
        "0.5x": [-1, 16, 192, 384, 768],
        "1.0x": [-1, 24, 384, 768, 1536],
        "1.5x": [-1, 24, 576, 1152, 2304],
        "2.0x": [-1, 48, 768, 1536, 3072],
    },
}


class ShuffleV1Block(nn.Module):
    def __init__(self, inp, oup, *, group, first_group, mid_channels, ksize, stride):
        super().__init__()
        self.stride = stride
        assert stride in [1, 2]
        self.mid_channels = mid_channels
        self.ksize = ksize
        pad = ksize // 2
        self.pad = pad
        self.inp = inp
        self.group = group
        outputs = oup - inp if stride == 2 else oup
        branch_main_1 = [
            # pw
            nn.Conv2d(inp, mid_channels, 1, 1, 0, groups=1 if first_group else group, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            # dw
            nn.Conv2d(mid_channels, mid_channels, ksize, stride, pad, groups=mid_channels, bias=False),
            nn.BatchNorm2d(mid_channels),
        ]
        branch_main_2 = [
            # pw-linear
            nn.Conv2d(mid_channels, outputs, 1, 1, 0, groups=group, bias=False),
            nn.BatchNorm2d(outputs),
        ]
        self.branch_main_1 = nn.Sequential(*branch_main_1)
        self.branch_main_2 = nn.Sequential(*branch_main_2)
        if stride == 2:
            self.branch_proj = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, old_x):
        x = old_x
        x_proj = old_x
        x = self.branch_main_1(x)
        if self.group > 1:
            x = self.channel_shuffle(x)
        x = self.branch_main_2(x)
        if self.stride == 1:
            return F.relu(x + x_proj)
        return torch.cat((self.branch_proj(x_proj), F.relu(x)), 1)

    def channel_shuffle(self, x):
        batchsize, num_channels, height, width = x.data.size()
        assert num_channels % self.group == 0
        group_channels = num_channels // self.group
        x = x.reshape(batchsize, group_channels, self.group, height, width)
        x = x.permute(0, 2, 1, 3, 4)
        x = x.reshape(batchsize, num_channels, height, width)
        return x


class ShuffleNetV1(nn.Module):
    def __init__(self, n_class=1000, model_size="2.0x", group=None):
        super().__init__()
        assert group is not None
        self.stage_repeats = [4, 8, 4]
        self.model_size = model_size
        self.stage_out_channels = STAGE_OUT_CHANNELS[group][model_size]

        input_channel = self.stage_out_channels[1]
        self.first_conv = nn.Sequential(
            nn.Conv2d(3, input_channel, 3, 2, 1, bias=False),
            nn.BatchNorm2d(input_channel),
            nn.ReLU(inplace=True),
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        features = []
        for idxstage in range(len(self.stage_repeats)):
            numrepeat = self.stage_repeats[idxstage]
            output_channel = self.stage_out_channels[idxstage + 2]
            for i in range(numrepeat):
                stride = 2 if i == 0 else 1
                first_group = idxstage == 0 and i == 0
                features.append(
                    ShuffleV1Block(
                        input_channel,
                        output_channel,
                        group=group,
                        first_group=first_group,
                        mid_channels=output_channel // 4,
                        ksize=3,
                        stride=stride,
                    )
                )
                input_channel = output_channel
        self.features = nn.Sequential(*features)
        self.globalpool = nn.AvgPool2d(7)
        self.classifier = nn.Sequential(nn.Linear(self.stage_out_channels[-1], n_class, bias=False))

    def forward(self, x):
        x = self.first_conv(x)
        x = self.maxpool(x)
        x = self.features(x)
        x = self.globalpool(x)
        x = x.contiguous().view(-1, self.stage_out_channels[-1])
        x = self.classifier(x)
        return x
