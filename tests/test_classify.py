import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data
from torch import nn

from lwviz.classify import Classification, Prediction, classify, classify_with
from lwviz.images import ImageError
from lwviz.samples import SAMPLE_PHOTOS, sample_photo
from lwviz.weights.offline import LITE0
from lwviz.weights.preprocess import Preprocess

CATS = {"tabby", "tiger cat", "Egyptian cat"}


@pytest.fixture(scope="module")
def lite0():
    return LITE0.load()


def jpeg(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_lite0_sees_the_cat_in_a_jpeg(lite0):
    result = classify_with(LITE0, jpeg(data.chelsea()), topk=3, model=lite0)
    assert CATS & {p.label for p in result.predictions}
    assert result.latency_ms > 0


def test_lite0_sees_the_espresso(lite0):
    assert classify_with(LITE0, data.coffee(), topk=1, model=lite0).top.label == "espresso"


# What Lite0 says about each sample photo the pages offer, where it is right and sure: the shown
# name -> the set of its top len(set) classes. ImageNet has no "rocket" class: its nearest are
# "missile" and "projectile" (together 46% here). "Astronaut" gets no expectation: ImageNet has no
# space suit, and Lite0's answer is a guess (football helmet, 16%).
SAMPLE_TOPS = {
    "Chelsea the cat": CATS,  # 92% on the three cat classes
    "A cup of coffee": {"espresso"},  # 95%
    "Rocket": {"missile", "projectile"},
}
NO_RIGHT_ANSWER = {"Astronaut"}


def test_every_sample_photo_has_an_expectation_or_a_reason_not_to():
    assert SAMPLE_TOPS.keys() | NO_RIGHT_ANSWER == SAMPLE_PHOTOS.keys()


@pytest.mark.parametrize("photo", list(SAMPLE_TOPS))
def test_lite0_on_the_sample_photos(lite0, photo):
    expected = SAMPLE_TOPS[photo]
    result = classify_with(LITE0, sample_photo(photo), topk=len(expected), model=lite0)
    assert {p.label for p in result.predictions} == expected


def test_probabilities_are_a_sorted_distribution(lite0):
    result = classify_with(LITE0, data.chelsea(), topk=1000, model=lite0)
    probs = [p.prob for p in result.predictions]
    assert len(probs) == 1000 and probs == sorted(probs, reverse=True)
    assert math.isclose(sum(probs), 1.0, abs_tol=1e-4)
    assert sorted(p.index for p in result.predictions) == list(range(1000))
    assert all(LITE0.categories[p.index] == p.label for p in result.predictions)


def test_an_opaque_rgba_picture_classifies_like_its_rgb(lite0):
    rgb = data.chelsea()
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    assert classify_with(LITE0, rgba, model=lite0).predictions == classify_with(LITE0, rgb, model=lite0).predictions


class FixedLogits(nn.Module):
    """Logits log(1), log(2), log(3), log(4): softmax gives exactly 0.1, 0.2, 0.3, 0.4."""

    def forward(self, x):
        return torch.log(torch.arange(1.0, 5.0)).expand(x.shape[0], 4)


TINY = Preprocess(crop=8, resize=8)
NAMES = ("ant", "bee", "cat", "dog")


def test_exact_probabilities_from_hand_set_logits():
    result = classify(FixedLogits().eval(), np.zeros((8, 8, 3), np.uint8), TINY, NAMES, topk=3)
    assert [(p.label, p.index) for p in result.predictions] == [("dog", 3), ("cat", 2), ("bee", 1)]
    assert [p.prob for p in result.predictions] == pytest.approx([0.4, 0.3, 0.2], abs=1e-7)
    assert result.to_list() == [{"label": p.label, "prob": p.prob} for p in result.predictions]
    assert isinstance(result, Classification) and isinstance(result.top, Prediction) and result.top.label == "dog"


@pytest.mark.parametrize("topk", [0, 5])
def test_topk_outside_the_classes_is_refused(topk):
    with pytest.raises(ValueError, match=f"topk: {topk} is outside 1..4"):
        classify(FixedLogits().eval(), np.zeros((8, 8, 3), np.uint8), TINY, NAMES, topk=topk)


def test_a_model_in_training_mode_is_refused():
    with pytest.raises(ValueError, match="model: it is in training mode"):
        classify(FixedLogits(), np.zeros((8, 8, 3), np.uint8), TINY, NAMES, topk=1)


def test_class_names_must_match_the_outputs():
    with pytest.raises(ValueError, match="categories: the model has 4 outputs but 3 class names"):
        classify(FixedLogits().eval(), np.zeros((8, 8, 3), np.uint8), TINY, NAMES[:3], topk=1)


def test_a_bad_picture_is_an_image_error_not_a_crash():
    with pytest.raises(ImageError, match="not an image"):
        classify(FixedLogits().eval(), b"<html>not a picture</html>", TINY, NAMES, topk=1)
