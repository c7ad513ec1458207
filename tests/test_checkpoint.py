import io
import os
import pickle

import pytest
import safetensors.torch
import torch
import torchvision.models as tvm

from lwviz.builder import build
from lwviz.presets import get_preset
from lwviz.weights.checkpoint import CheckpointError, CheckpointSource, load_checkpoint, read_state_dict
from lwviz.weights.offline import imagenet_categories

SPEC = get_preset("mobilenet_v3_small")
X = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))  # small: equality needs no 224


def saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def outputs(model) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(X)


@pytest.fixture(scope="module")
def trained():
    """A builder model whose weights differ from any fresh initialisation."""
    model = build(SPEC)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    return model.eval()


def test_pt_bytes_and_safetensors_path_round_trip(trained, tmp_path):
    expected = outputs(trained)
    torch.testing.assert_close(outputs(load_checkpoint(SPEC, saved(trained.state_dict()))), expected, rtol=0, atol=0)
    path = tmp_path / "weights.safetensors"
    safetensors.torch.save_file(trained.state_dict(), path)
    model = load_checkpoint(SPEC, path)
    assert not model.training
    torch.testing.assert_close(outputs(model), expected, rtol=0, atol=0)


def test_the_format_comes_from_the_bytes_not_the_name(trained, tmp_path):
    path = tmp_path / "really_safetensors.pth"
    path.write_bytes(safetensors.torch.save(trained.state_dict()))
    assert read_state_dict(path).keys() == trained.state_dict().keys()


def test_torchvision_keyed_checkpoint_is_converted():
    ref = tvm.mobilenet_v3_small().eval()
    model = load_checkpoint(SPEC, saved(ref.state_dict()))
    torch.testing.assert_close(outputs(model), outputs(ref), rtol=0, atol=1e-5)


def test_training_script_wrappers_are_unwrapped(trained):
    state = trained.state_dict()
    wrapped = saved({"epoch": 12, "state_dict": state, "optimizer": {"lr": 0.1}})
    assert read_state_dict(wrapped).keys() == state.keys()
    data_parallel = saved({f"module.{k}": v for k, v in state.items()})
    torch.testing.assert_close(outputs(load_checkpoint(SPEC, data_parallel)), outputs(trained), rtol=0, atol=0)


class RunsACommand:
    """What a malicious checkpoint looks like: unpickling it calls os.system."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize(
    "make",
    [
        lambda evil: saved({"stem.conv.conv.weight": evil}),  # torch.save's zip format
        lambda evil: pickle.dumps(evil, protocol=2),  # a bare legacy pickle
    ],
    ids=["torch-save", "raw-pickle"],
)
def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(make, tmp_path):
    marker = tmp_path / "pwned"
    payload = make(RunsACommand(marker))
    assert b"system" in payload  # the payload really names os.system
    with pytest.raises(
        CheckpointError,
        match=r"refused: the file is a pickle that asks to import \w+\.system, which "
        r"could run code; only state_dicts of tensors are accepted",
    ):
        read_state_dict(payload)
    assert not marker.exists()
    path = tmp_path / "evil.pth"
    path.write_bytes(payload)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(SPEC, path)
    assert not marker.exists()


def test_a_whole_pickled_model_is_refused(trained):
    with pytest.raises(CheckpointError, match=r"asks to import lwviz\.builder\.Net"):
        read_state_dict(saved(trained))


def test_size_limit(trained, tmp_path):
    data = saved(trained.state_dict())
    path = tmp_path / "big.pt"
    path.write_bytes(data)
    limit = len(data) - 1
    message = rf"the checkpoint is {len(data) / 2**20:.1f} MB, more than the {limit / 2**20:.0f} MB limit"
    for source in (data, path):
        with pytest.raises(CheckpointError, match=message):
            read_state_dict(source, max_bytes=limit)
    assert read_state_dict(path, max_bytes=len(data)).keys() == trained.state_dict().keys()


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "the checkpoint file is empty"),
        (b"just text, not a checkpoint", r"not a PyTorch checkpoint \(.pt/.pth\) or .safetensors file"),
        (b"PK\x03\x04" + b"\x00" * 64, "not a PyTorch checkpoint"),
        (saved({"epoch": 3, "lr": 0.1}), "the file holds no state_dict"),
        (saved({}), "the file holds no state_dict"),
        (saved([torch.zeros(1)]), "the file holds no state_dict"),
        (b"\x0c\x00\x00\x00\x00\x00\x00\x00{not json!!}", "not a valid safetensors file"),
    ],
    ids=["empty", "text", "broken-zip", "no-tensors", "empty-dict", "list", "bad-safetensors"],
)
def test_files_that_are_not_checkpoints(payload, message):
    with pytest.raises(CheckpointError, match=message):
        read_state_dict(payload)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="nope.pt: no such file"):
        load_checkpoint(SPEC, tmp_path / "nope.pt")


def test_shape_mismatches_are_listed():
    half = build(SPEC.with_(width=0.5)).state_dict()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(SPEC, saved(half))
    n = sum(a.shape != b.shape for a, b in zip(half.values(), build(SPEC).state_dict().values()))
    assert str(err.value) == (
        f"the checkpoint does not fit mobilenet_v3_small: {n} shape mismatches (stem.conv.conv.weight (8, 3, 3, 3) "
        "vs model (16, 3, 3, 3), stem.conv.bn.weight (8,) vs model (16,), stem.conv.bn.bias (8,) vs model (16,), ...)"
    )


def test_missing_and_unexpected_keys_are_listed(trained):
    state = dict(trained.state_dict())
    del state["classifier.fc.weight"], state["classifier.fc.bias"]
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(SPEC, saved(state))
    assert str(err.value) == (
        "the checkpoint does not fit mobilenet_v3_small: 2 missing keys (classifier.fc.weight, "
        "classifier.fc.bias); 1 unexpected keys (extra.weight)"
    )


def test_a_foreign_checkpoint_of_another_architecture():
    foreign, ours = len(tvm.mobilenet_v2().state_dict()), len(build(SPEC).state_dict())
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(SPEC, saved(tvm.mobilenet_v2().state_dict()))
    assert str(err.value) == (
        f"the checkpoint does not fit mobilenet_v3_small: state_dict has {foreign} tensors but "
        f"the model expects {ours}; it was saved from a different architecture"
    )


def test_checkpoint_source_names_its_classes(trained):
    source = CheckpointSource(SPEC, saved(trained.state_dict()), "mine.pt")
    assert source.name == "mobilenet_v3_small:checkpoint:mine.pt" and source.is_available()
    assert source.categories == imagenet_categories()
    ten = SPEC.with_(num_classes=10)
    assert CheckpointSource(ten, b"").categories == tuple(f"class {i}" for i in range(10))
    assert CheckpointSource(ten, b"", class_names=tuple("abcdefghij")).categories[2] == "c"
    model = source.load()
    torch.testing.assert_close(outputs(model), outputs(trained), rtol=0, atol=0)
