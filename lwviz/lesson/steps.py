"""The lesson's steps as data: what each one says, asks and links to. No Streamlit, no numbers.

Every text is a catalog message (``N_``): the page shows it in the session's language. The numbers a step
fills into its formula come from :mod:`lwviz.lesson.numbers` and the other modules of this package, which
derive them from lwviz's own cost model, so a step's words and its numbers cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from lwviz.i18n import N_


@dataclass(frozen=True)
class Step:
    key: str  # stable name (widget keys, tests); the order in STEPS is the lesson's
    title: str
    idea: str  # two or three short sentences: one idea, readable from the back row
    question: str  # for the class
    answer: str  # revealed on click
    page: str  # the page that goes deeper (a file under pages/)
    page_title: str  # that page's title in the navigation (a catalog message there too)


STEPS: tuple[Step, ...] = (
    Step(
        "why",
        N_("Why lightweight networks?"),
        N_(
            "A phone has little memory, a small battery and no time to wait. "
            "MobileNet does the same job as a standard-convolution network with a fraction of the "
            "parameters and multiply-accumulates."
        ),
        N_("Which number decides whether the network fits in the phone's memory, and which one its speed?"),
        N_(
            "Memory: the parameters (4 bytes each in float32). Speed: roughly the multiply-accumulates, "
            "but only roughly: memory traffic costs time too, as the measured milliseconds show."
        ),
        "pages/zoo.py",
        N_("Zoo"),
    ),
    Step(
        "standard",
        N_("The cost of one standard convolution"),
        N_(
            "Every output value reads a D_K × D_K window in all M input channels. "
            "There are N output channels and D_F × D_F positions: multiply it all together."
        ),
        N_("If we double the number of output channels N, what happens to the cost? And if we double D_F?"),
        N_(
            "Doubling N doubles the cost. Doubling D_F quadruples it: the feature map has D_F × D_F "
            "positions, so the resolution counts twice."
        ),
        "pages/layer.py",
        N_("One layer"),
    ),
    Step(
        "separable",
        N_("Depthwise-separable convolution"),
        N_(
            "Split the convolution in two: a depthwise convolution filters each channel on its own "
            "(space), then a 1×1 pointwise convolution mixes the channels. "
            "The cost falls to 1/N + 1/D_K² of a standard convolution."
        ),
        N_("With a 3×3 kernel, what is the most a depthwise-separable convolution can save?"),
        N_(
            "Nine times: as N grows, 1/N vanishes and 1/D_K² = 1/9 remains. "
            "With hundreds of channels MobileNet gets close to it: 8 to 9 times fewer MACs."
        ),
        "pages/layer.py",
        N_("One layer"),
    ),
    Step(
        "multipliers",
        N_("Width multiplier α and resolution multiplier ρ"),
        N_(
            "Two knobs make any MobileNet smaller: α thins every layer, ρ shrinks the input picture. "
            "The cost falls as α²ρ²; the parameters fall as α² and do not depend on ρ."
        ),
        N_(
            "Why does halving α cut the MACs about four times, "
            "but halving the resolution leaves the parameters as they are?"
        ),
        N_(
            "α scales both M and N, and a 1×1 convolution costs M·N: α·α. "
            "ρ only changes the size of the feature maps, and the weights do not depend on it."
        ),
        "pages/build.py",
        N_("Build"),
    ),
    Step(
        "inverted",
        N_("Inverted residuals and linear bottlenecks"),
        N_(
            "MobileNetV2 widens the narrow bottleneck by the expansion ratio, filters with a depthwise "
            "convolution, and projects back with no ReLU. Why no ReLU? Embed a 2-D spiral into n "
            "dimensions, apply ReLU, project back: with few dimensions ReLU destroys it."
        ),
        N_("Why does MobileNetV2 put no ReLU after its last 1×1 convolution?"),
        N_(
            "In the narrow bottleneck a ReLU would zero parts of the features for good, as the spiral "
            "with n = 2 or 3 shows. ReLU is only safe where there are many dimensions, inside the "
            "expanded block."
        ),
        "pages/build.py",
        N_("Build"),
    ),
    Step(
        "se",
        N_("Squeeze-and-excitation: channel attention"),
        N_(
            "Squeeze: average each channel to one number. Excite: two small layers and a sigmoid give "
            "each channel a gate between 0 and 1. Multiply: the picture itself decides which "
            "channels matter."
        ),
        N_("The gates cost few MACs. Why can SE still slow a phone down?"),
        N_(
            "Global pooling waits for the whole feature map, and the per-channel multiply is memory "
            "traffic, not arithmetic. EfficientNet-Lite removes SE for exactly this reason."
        ),
        "pages/explain.py",
        N_("Look inside"),
    ),
    Step(
        "shuffle",
        N_("Group convolution and channel shuffle"),
        N_(
            "A group convolution splits the channels into g groups: each group only sees its own, "
            "so the cost falls to 1/g. Then the channels are shuffled, so that the next layer's groups "
            "see every group."
        ),
        N_("What goes wrong if we stack group convolutions without shuffling?"),
        N_(
            "Each group only ever sees its own channels: the network splits into g thin networks that "
            "never exchange information."
        ),
        "pages/build.py",
        N_("Build"),
    ),
    Step(
        "fire",
        N_("The Fire module (SqueezeNet)"),
        N_(
            "Squeeze to a few channels with 1×1 convolutions, then expand with 1×1 and 3×3 convolutions "
            "side by side. Few channels enter the expensive 3×3 filters."
        ),
        N_("Where does the Fire module save most of its parameters?"),
        N_(
            "In the 3×3 filters: they read only the s squeeze channels instead of all M input channels, "
            "and only half the outputs use them."
        ),
        "pages/build.py",
        N_("Build"),
    ),
    Step(
        "compound",
        N_("Compound scaling (EfficientNet)"),
        N_(
            "To make a network bigger, scale depth, width and resolution together: "
            "α = 1.2, β = 1.1, γ = 1.15 with α·β²·γ² ≈ 2, so each step of φ doubles the cost."
        ),
        N_("Why not just make the network wider until it reaches the same MACs?"),
        N_(
            "One dimension alone runs into diminishing returns: a wide shallow network cannot see large "
            "patterns, a deep narrow one loses detail. At equal MACs the EfficientNet paper measured "
            "higher accuracy for compound scaling than for any single dimension."
        ),
        "pages/zoo.py",
        N_("Zoo"),
    ),
    Step(
        "compress",
        N_("Compression: quantization, pruning, distillation"),
        N_(
            "Quantization stores each weight in 8 bits instead of 32. Pruning zeroes the weights that "
            "matter least. Knowledge distillation trains a small student network to imitate a big "
            "teacher network."
        ),
        N_("int8 makes the file 4 times smaller. Why does it rarely make the network 4 times faster?"),
        N_(
            "Some layers stay in float, values are converted at the edges, and memory traffic does not "
            "shrink as much as the arithmetic. The measured milliseconds are the honest answer."
        ),
        "pages/compress.py",
        N_("Compress"),
    ),
    Step(
        "demo",
        N_("Live demo"),
        N_(
            "A pretrained lightweight network names what the camera sees, live on this laptop. "
            "Join with your own device: it runs the network itself."
        ),
        N_("How many multiply-accumulates per second does your phone do at 30 frames per second?"),
        N_(
            "MACs per picture times frames per second: the formula above. Open the Class page and "
            "compare with what your device measures."
        ),
        "pages/webcam.py",
        N_("Webcam"),
    ),
)

CLASS_PAGE = ("pages/classroom.py", N_("Class"))  # where students join on their own devices (the last step)


def step_number(raw: object) -> int:
    """The 1-based step a ``?step=`` value names; anything else (missing, empty, not a number, out of range) is 1."""
    try:
        number = int(str(raw).strip())
    except ValueError:
        return 1
    return number if 1 <= number <= len(STEPS) else 1
