import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tracemalloc
import zipfile

import pytest
import safetensors.torch
import torch
import torchvision.models as tvm

from lwviz.builder import build
from lwviz.i18n import said, translator
from lwviz.presets import get_preset
from lwviz.weights.checkpoint import (
    MAX_ZIP_MEMBERS,
    CheckpointError,
    CheckpointSource,
    load_checkpoint,
    read_state_dict,
)
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
    assert said(err.value.phrase, translator("zh")) == (
        "检查点与 mobilenet_v3_small 不匹配：缺少 2 个键（classifier.fc.weight, classifier.fc.bias）；"
        "多出 1 个键（extra.weight）"
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


# --- files that claim to be small and unpack to a lot, or the other way round -----------------------------------

MB = 2**20


def torch_zip_with(size: int) -> tuple[bytes, str]:
    """A real torch.save checkpoint whose tensor member is ``size`` zeros, deflated (64 MB become 64 KB)."""
    good = zipfile.ZipFile(io.BytesIO(saved({"w": torch.zeros(4)})))
    (tensor_member,) = (i.filename for i in good.infolist() if i.filename.endswith("/data/0"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in good.infolist():
            if info.filename != tensor_member:
                archive.writestr(info, good.read(info))
                continue
            deflated = zipfile.ZipInfo(tensor_member)
            deflated.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(deflated, "w") as member:
                for _ in range(size // MB):
                    member.write(bytes(MB))
    return out.getvalue(), tensor_member


def declaring(data: bytes, name: str, size: int) -> bytes:
    """``data`` with member ``name``'s unpacked size rewritten to ``size`` in its local header and central directory."""
    data = bytearray(data)
    struct.pack_into("<I", data, zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name).header_offset + 22, size)
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, entry + 24, size)
        entry = data.find(b"PK\x01\x02", entry + 4)
    return bytes(data)


def refusal_and_peak(payload: bytes, max_bytes: int) -> tuple[str, int]:
    """The CheckpointError's message and the peak of Python memory while reading (zipfile allocates through
    Python; torch.load, which does not, must not be reached)."""
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as err:
            read_state_dict(payload, max_bytes=max_bytes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(err.value), peak


def test_a_zip_bomb_is_refused_before_anything_is_unpacked():
    payload, _ = torch_zip_with(64 * MB)
    assert len(payload) < MB / 8  # what is uploaded is tiny
    message, peak = refusal_and_peak(payload, max_bytes=MB)
    assert message == "the checkpoint unpacks to 64.0 MB, more than the 1 MB limit"
    assert peak < 2 * MB


def test_a_central_directory_that_declares_little_and_holds_64_mb_is_read_no_further():
    payload, member = torch_zip_with(64 * MB)
    message, peak = refusal_and_peak(declaring(payload, member, 16), max_bytes=MB)
    assert message == "not a PyTorch checkpoint (.pt/.pth) or .safetensors file, or the file is damaged"
    assert peak < 4 * MB


def test_a_deflated_checkpoint_within_the_limit_still_loads():
    state = {"w": torch.arange(1000.0), "b": torch.ones(3, dtype=torch.int64)}
    good = zipfile.ZipFile(io.BytesIO(saved(state)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # e.g. re-zipped by a tool
        for info in good.infolist():
            archive.writestr(info.filename, good.read(info))
    got = read_state_dict(out.getvalue())
    assert got.keys() == state.keys() and all(torch.equal(got[k], state[k]) for k in state)


def test_a_zip_of_thousands_of_files_is_refused_before_listing_them():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"archive/{i}", b"")
    with pytest.raises(CheckpointError) as err:
        read_state_dict(out.getvalue())
    assert str(err.value) == (
        "the checkpoint is a zip archive of more than 10000 files; a PyTorch checkpoint holds one per tensor, "
        "so this is not one"
    )


def safetensors_with(header: dict, data: bytes = bytes(16)) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


ENTRY = {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}


@pytest.mark.parametrize(
    "header, message",
    [
        ({"w": ENTRY | {"shape": [2**30]}}, "the checkpoint's tensors take 4096.0 MB, more than the 1 MB limit"),
        (  # each tensor fits, but they overlap: together they are more than the file
            {f"w{i}": ENTRY | {"shape": [2**12], "data_offsets": [0, 2**14]} for i in range(2**7)},
            "the checkpoint's tensors take 2.0 MB, more than the 1 MB limit",
        ),
        (
            {"w": ENTRY | {"data_offsets": [0, 2**30]}},
            "not a valid safetensors file: tensor 'w' lies beyond the end of the file (it is truncated or damaged)",
        ),
        (
            {"w": ENTRY | {"shape": [10**30, 0]}},
            "not a valid safetensors file: the header's entry for 'w' is malformed",
        ),
        ({"w": ENTRY | {"shape": "4"}}, "not a valid safetensors file: the header's entry for 'w' is malformed"),
        ({"w": ENTRY | {"dtype": ["F32"]}}, "not a valid safetensors file: the header's entry for 'w' is malformed"),
        ({"w": [0, 16]}, "not a valid safetensors file: the header's entry for 'w' is malformed"),
    ],
    ids=["shape-over-limit", "overlapping", "beyond-file", "huge-dim", "shape-text", "dtype-list", "entry-list"],
)
def test_a_safetensors_header_is_checked_before_the_package_reads_it(header, message):
    text = json.dumps(header).encode()
    with pytest.raises(CheckpointError) as err:
        read_state_dict(len(text).to_bytes(8, "little") + text + bytes(2**14), max_bytes=MB)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "payload, message",
    [
        (
            (17 * MB).to_bytes(8, "little") + b"{" + bytes(17 * MB),
            "the safetensors header is 17.0 MB, more than the 16 MB limit; a checkpoint of tensors needs far less, "
            "so the file is damaged",
        ),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00{1: 2}", "not a valid safetensors file: its header is not JSON ("),
        (b"\x04\x00\x00\x00\x00\x00\x00\x00{\xff\xfe}", "not a valid safetensors file: its header is not JSON ("),
        (b"\x06\x00\x00\x00\x00\x00\x00\x00{" + b"[" * 5 + bytes(8), "not a valid safetensors file: its header is not"),
    ],
    ids=["header-over-limit", "not-json", "not-utf8", "truncated"],
)
def test_a_safetensors_header_that_is_not_one(payload, message):
    with pytest.raises(CheckpointError) as err:
        read_state_dict(payload)
    assert str(err.value).startswith(message)


def test_a_legacy_checkpoint_still_loads_and_a_forged_storage_size_costs_nothing():
    """Before PyTorch 1.6, torch.save wrote pickles, not zips; torch.load reserves each storage at the size the
    pickle declares but writes only what the file holds. Measured in a fresh process: ru_maxrss is a peak."""
    state = {"w": torch.arange(4.0)}
    legacy = saved_legacy(state)
    assert not legacy.startswith(b"PK") and torch.equal(read_state_dict(legacy)["w"], state["w"])
    numel = legacy.index(b"K\x04", legacy.index(b"cpu"))  # the storage's element count, 4, pickled as BININT1
    forged = legacy[:numel] + b"J" + struct.pack("<i", 2**28) + legacy[numel + 2 :]  # 2**28 floats: 1 GB
    script = (
        "import resource, sys; from lwviz.weights.checkpoint import CheckpointError, read_state_dict\n"
        "data = sys.stdin.buffer.read(); before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    read_state_dict(data)\nexcept CheckpointError as exc:\n    print(exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], input=forged, capture_output=True, check=True)
    message, grown_mb = proc.stdout.decode().splitlines()
    assert message == "not a PyTorch checkpoint (.pt/.pth) or .safetensors file, or the file is damaged"
    assert int(grown_mb) < 50


def saved_legacy(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def test_a_folder_or_a_device_is_named_for_what_it_is(tmp_path):
    for path, message in [
        (tmp_path, f"{tmp_path} is a directory, not a checkpoint file"),
        ("/dev/zero", "/dev/zero is not a regular file"),
    ]:
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(SPEC, path)
        assert str(err.value) == message
