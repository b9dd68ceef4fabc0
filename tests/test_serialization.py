"""td.save / td.load: exact round trips, atomic writes, damaged files, and files that try to carry a pickle."""

import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import tinygrad_drop as td
import tinygrad_drop.nn.functional as F
from tinygrad_drop import nn

HAS_CUDA = td.backend.cuda_is_available()
requires_cuda = pytest.mark.skipif(not HAS_CUDA, reason="needs CuPy and a GPU")


def _trained(device="cpu", steps=3):
    """A small dropout MLP and its Adam optimizer after a few steps on `device`."""
    td.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2)).to(device)
    optimizer = td.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)
    for _ in range(steps):
        _step(model, optimizer, device)
    return model, optimizer


def _step(model, optimizer, device):
    x, y = td.randn(16, 3, device=device), td.Tensor(np.arange(16) % 2, device=device)
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()


def _host(array):
    return td.backend.to_numpy(array.data if isinstance(array, td.Tensor) else array)


def _same(a, b):
    """Equal values and types all the way down (arrays by dtype, shape and bits; NaN equals NaN)."""
    if isinstance(a, td.Tensor):
        return isinstance(b, td.Tensor) and a.requires_grad == b.requires_grad and _same(a.data, b.data)
    if isinstance(a, np.ndarray) or td.backend.get_array_module(a) is not np:
        a, b = _host(a), _host(b)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


def _checkpoint(model, optimizer):
    return {"model": dict(model.state_dict()), "optimizer": optimizer.state_dict(), "epoch": 7,
            "extras": [None, True, "note", 1.5, float("nan"), float("-inf"), (1, 2), np.float32(0.25), np.int8(-3)]}


# ---------------------------------------------------------------- round trips


def test_round_trip_keeps_every_value_and_type(tmp_path, device):
    model, optimizer = _trained(device)
    saved = _checkpoint(model, optimizer)
    td.save(saved, tmp_path / "ckpt.npz")
    loaded = td.load(tmp_path / "ckpt.npz")
    assert _same(saved, loaded)
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # a tuple, as saved
    assert list(loaded["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert loaded["model"]["0.weight"].device == model[0].weight.device


def test_resumed_training_matches_uninterrupted_training(tmp_path):
    model, optimizer = _trained()
    td.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.npz")
    state = td.random.default_generator.get_state()
    _step(model, optimizer, "cpu")

    resumed, resumed_optimizer = _trained(steps=0)
    checkpoint = td.load(tmp_path / "ckpt.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    td.random.default_generator.set_state(state)
    _step(resumed, resumed_optimizer, "cpu")
    for a, b in zip(model.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_the_same_object_gives_the_same_bytes(tmp_path):
    model, optimizer = _trained()
    td.save(_checkpoint(model, optimizer), tmp_path / "a.npz")
    td.save(_checkpoint(model, optimizer), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_file_is_an_npz_with_a_json_manifest(tmp_path):
    model, _ = _trained(steps=0)
    td.save(model.state_dict(), tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as npz:
        manifest = json.loads(npz["manifest.json"])
        np.testing.assert_array_equal(npz["array0"], model[0].weight.data)
    assert manifest["arrays"][0]["where"] == "obj['0.weight']" and manifest["arrays"][0]["shape"] == [8, 3]


@requires_cuda
@pytest.mark.parametrize(("saved_on", "loaded_to"), [("cuda", "cpu"), ("cpu", "cuda")])
def test_loading_across_devices(tmp_path, saved_on, loaded_to):
    model, optimizer = _trained(saved_on)
    td.save(_checkpoint(model, optimizer), tmp_path / "ckpt.npz")
    loaded = td.load(tmp_path / "ckpt.npz", device=loaded_to)
    assert loaded["model"]["0.weight"].device == td.backend.parse_device(loaded_to)
    assert td.backend.device_of(loaded["optimizer"]["state"][0]["exp_avg"]) == td.backend.parse_device(loaded_to)
    target, target_optimizer = _trained(loaded_to, steps=0)
    target.load_state_dict(loaded["model"])
    target_optimizer.load_state_dict(loaded["optimizer"])
    np.testing.assert_array_equal(_host(target[0].weight), _host(model[0].weight))


@pytest.mark.skipif(HAS_CUDA, reason="checks the message given where there is no GPU")
def test_a_gpu_checkpoint_without_a_gpu_says_to_pass_device_cpu(tmp_path):
    td.save({"w": td.ones(2)}, tmp_path / "ckpt.npz")
    _rewrite(tmp_path / "ckpt.npz", lambda m: m["arrays"][0].update(device="cuda:0"))
    with pytest.raises(RuntimeError, match=r"saved on cuda:0.*td.load\(path, device='cpu'\)"):
        td.load(tmp_path / "ckpt.npz")
    np.testing.assert_array_equal(td.load(tmp_path / "ckpt.npz", device="cpu")["w"].data, [1.0, 1.0])


def test_a_state_dict_that_does_not_fit_is_an_error_naming_the_keys(tmp_path):
    model, _ = _trained(steps=0)
    state = dict(model.state_dict())
    state["extra.weight"] = state.pop("3.bias")
    td.save(state, tmp_path / "model.npz")
    with pytest.raises(RuntimeError, match=r"missing keys: 3\.bias; unexpected keys: extra\.weight"):
        model.load_state_dict(td.load(tmp_path / "model.npz"))
    td.save({**model.state_dict(), "0.bias": td.zeros(3)}, tmp_path / "shape.npz")
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.bias"):
        model.load_state_dict(td.load(tmp_path / "shape.npz"))


def test_what_cannot_be_saved_is_named(tmp_path):
    model, _ = _trained(steps=0)
    with pytest.raises(TypeError, match=r"Sequential at obj\['model'\].*save model.state_dict\(\)"):
        td.save({"model": model}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"dtype object at obj\[1\]"):
        td.save([1, np.array([{}], dtype=object)], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be str or int"):
        td.save({(1, 2): 3}, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


# ---------------------------------------------------------------- atomic writes


def test_a_failure_mid_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.ones(3)}, path)
    old = path.read_bytes()
    calls = []

    def crash_on_second_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C halfway through
        return write_array(*args, **kwargs)

    write_array = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second_array)
    with pytest.raises(KeyboardInterrupt):
        td.save({"w": td.zeros(3), "v": td.zeros(3)}, path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # the temporary file is gone


def test_a_process_killed_mid_save_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.ones(3)}, path)
    old = path.read_bytes()
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        import tinygrad_drop as td

        def die(*args, **kwargs):
            os._exit(3)  # the process dies on the spot: no cleanup, no exception handlers

        np.lib.format.write_array = die
        td.save({{"w": td.zeros(3)}}, {str(path)!r})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert path.read_bytes() == old
    np.testing.assert_array_equal(td.load(path)["w"].data, np.ones(3))


# ---------------------------------------------------------------- damaged files


def test_truncated_files_are_refused(tmp_path):
    model, optimizer = _trained()
    path = tmp_path / "ckpt.npz"
    td.save(_checkpoint(model, optimizer), path)
    data = path.read_bytes()
    for size in (0, 3, 100, len(data) // 2, len(data) - 22, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(td.CheckpointError, match="ckpt.npz"):
            td.load(path)


def test_every_bit_flip_is_refused_or_harmless(tmp_path):
    path = tmp_path / "ckpt.npz"
    saved = {"w": td.randn(3, 2), "state": {0: {"step": 3}}}
    td.save(saved, path)
    data = path.read_bytes()
    refused = 0
    for position in range(len(data)):
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        path.write_bytes(flipped)
        try:
            loaded = td.load(path)
        except td.CheckpointError:
            refused += 1
        else:  # a flip in a field nothing reads (a timestamp, say) must change nothing
            assert _same(saved, loaded), f"a flipped bit at byte {position} changed what was loaded"
    assert refused > 0.6 * len(data)


def test_a_flipped_bit_in_the_array_data_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    data[-2000] ^= 1  # inside the 4,000 bytes of zeros
    path.write_bytes(data)
    with pytest.raises(td.CheckpointError, match="truncated or damaged"):
        td.load(path)


def _rewrite(path, edit_manifest=None, replace=None):
    """Rewrite a checkpoint's zip with an edited manifest and/or replaced members, as an attacker could."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    if edit_manifest:
        edit_manifest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    members.update(replace or {})
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_a_manifest_that_does_not_match_its_arrays_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"a": td.ones(2), "b": td.zeros(2)}, path)

    def swap_checksums(manifest):
        a, b = manifest["arrays"]
        a["sha256"], b["sha256"] = b["sha256"], a["sha256"]

    _rewrite(path, swap_checksums)
    with pytest.raises(td.CheckpointError, match=r"array0.npy \(at obj\['a'\]\) does not match the manifest"):
        td.load(path)


def test_a_manifest_missing_an_array_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"a": td.ones(2), "b": td.zeros(2)}, path)
    _rewrite(path, lambda m: m["arrays"].pop())
    with pytest.raises(td.CheckpointError, match=r"holds \['array1.npy'\] that the manifest does not list"):
        td.load(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        td.load(tmp_path / "nothing.npz")


# ---------------------------------------------------------------- pickles are refused


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "ckpt.npz"
    path.write_bytes(pickle.dumps({"w": _Payload(str(marker))}))
    with pytest.raises(td.CheckpointError, match="never unpickles"):
        td.load(path)
    assert not marker.exists()


def test_an_npz_carrying_a_pickled_array_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.ones(2)}, path)
    crafted = tmp_path / "object.npy"
    np.save(crafted, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True)
    _rewrite(path, lambda m: m["arrays"][0].update(dtype="|O", shape=[1]), {"array0.npy": crafted.read_bytes()})
    with pytest.raises(td.CheckpointError, match="pickled objects; td.load refuses to unpickle"):
        td.load(path)
    assert not marker.exists()


def test_no_temporary_files_are_left_by_a_normal_save(tmp_path):
    td.save({"w": td.ones(2)}, tmp_path / "ckpt.npz")
    td.save({"w": td.zeros(2)}, tmp_path / "ckpt.npz")
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(td.load(tmp_path / "ckpt.npz")["w"].data, [0.0, 0.0])
