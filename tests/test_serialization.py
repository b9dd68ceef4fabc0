"""td.save / td.load: exact round trips, atomic writes, damaged files, and files that try to carry a pickle."""

import inspect
import json
import math
import os
import pickle
import re
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


# ---------------------------------------------------------------- permissions, modes and symlinks

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def read_only(monkeypatch):
    """chmod a file to 0o444; as root (who may write any file) os.access is made to answer as for other users."""

    def make_read_only(path):
        os.chmod(path, 0o444)
        if IS_ROOT:
            real_access = os.access
            monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == os.fspath(path)
                                and mode & os.W_OK else real_access(p, mode, **kw))

    return make_read_only


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_read_only_checkpoint_is_refused_as_open_would(tmp_path, read_only):
    path = tmp_path / "best.npz"
    td.save({"w": td.ones(2)}, path)
    old = path.read_bytes()
    read_only(path)
    with pytest.raises(PermissionError, match="read-only") as info:
        td.save({"w": td.zeros(2)}, path)
    assert info.value.filename == str(path) and str(path) in str(info.value)
    assert path.read_bytes() == old and (path.stat().st_mode & 0o777) == 0o444
    assert os.listdir(tmp_path) == ["best.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_saving_over_a_checkpoint_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.ones(2)}, path)
    os.chmod(path, mode)
    td.save({"w": td.zeros(2)}, path)
    assert (path.stat().st_mode & 0o777) == mode  # a private 0600 checkpoint stays private
    np.testing.assert_array_equal(td.load(path)["w"].data, [0.0, 0.0])


@pytest.mark.skipif(os.name != "posix", reason="POSIX umask")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_checkpoint_gets_the_umasks_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        td.save({"w": td.ones(2)}, tmp_path / "ckpt.npz")
        (tmp_path / "plain").write_bytes(b"")  # what open() gives under the same umask
    finally:
        os.umask(old)
    assert ((tmp_path / "ckpt.npz").stat().st_mode & 0o777) == mode == ((tmp_path / "plain").stat().st_mode & 0o777)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_an_unwritable_folder_is_a_permission_error_naming_the_target(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "best.npz"
    if IS_ROOT:  # root may write into any folder: refuse creating files there as the kernel would for others
        real_open = os.open

        def refusing_open(name, flags, *args, **kwargs):
            if os.path.dirname(os.fspath(name)) == str(folder) and flags & os.O_CREAT:
                raise PermissionError(13, "Permission denied", name)
            return real_open(name, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(PermissionError, match=f"cannot create files in {folder}") as info:
            td.save({"w": td.ones(2)}, path)
    finally:
        os.chmod(folder, 0o755)
    assert info.value.filename == str(path)  # the target, not the hidden temporary file
    assert os.listdir(folder) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_to_a_symlink_writes_through_to_its_target(tmp_path):
    target, link = tmp_path / "run1" / "best.npz", tmp_path / "latest.npz"
    target.parent.mkdir()
    td.save({"w": td.ones(2)}, target)
    link.symlink_to(target)
    td.save({"w": td.zeros(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link is kept, as torch.save keeps it
    np.testing.assert_array_equal(td.load(target)["w"].data, [0.0, 0.0])
    assert sorted(os.listdir(tmp_path / "run1")) == ["best.npz"]


# ---------------------------------------------------------------- crafted files: sizes checked before reading


def _npy(array=None, header=None):
    """The bytes of an .npy file holding `array`, or only a header {descr, fortran_order, shape}."""
    import io

    buffer = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buffer, array, allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


@pytest.fixture
def small_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.ones(1000, dtype=td.float64)}, path)
    return path


def test_a_header_declaring_a_petabyte_is_refused_before_allocating(small_checkpoint):
    # the manifest is honest (1000 float64), the member's header declares 10**15 of them
    _rewrite(small_checkpoint, replace={"array0.npy": _npy(header={"descr": "<f8", "fortran_order": False,
                                                                   "shape": (10**15,)}) + bytes(8000)})
    with pytest.raises(td.CheckpointError, match=r"header declares dtype <f8, shape \(1000000000000000,\)"):
        td.load(small_checkpoint)


def test_a_manifest_declaring_a_petabyte_is_refused_before_reading(small_checkpoint):
    _rewrite(small_checkpoint, lambda m: m["arrays"][0].update(shape=[10**15]),
             {"array0.npy": _npy(header={"descr": "<f8", "fortran_order": False, "shape": (10**15,)})})
    with pytest.raises(td.CheckpointError, match=r"declare 8000000000000000 bytes, but the file is only \d+ bytes"):
        td.load(small_checkpoint)


def test_max_bytes_limits_what_a_load_may_allocate(small_checkpoint):
    assert td.serialization.DEFAULT_MAX_BYTES == 2**32
    with pytest.raises(td.CheckpointError, match=r"declare 8000 bytes, more than max_bytes=7999.*max_bytes=None"):
        td.load(small_checkpoint, max_bytes=7999)
    assert td.load(small_checkpoint, max_bytes=8000)["w"].shape == (1000,)
    assert td.load(small_checkpoint, max_bytes=None)["w"].shape == (1000,)
    with pytest.raises(td.CheckpointError, match="manifest.json claims"):
        td.load(small_checkpoint, max_bytes=10)  # the manifest counts too


def test_a_deflated_member_that_expands_is_refused_without_decompressing(small_checkpoint):
    import tracemalloc

    # 40 MB of zeros behind an honest 8,000-byte header: about 40 kB deflated
    with zipfile.ZipFile(small_checkpoint) as zf:
        manifest = zf.read("manifest.json")
    bomb = _npy(np.zeros(1000)) + bytes(40_000_000)
    with zipfile.ZipFile(small_checkpoint, "w") as zf:
        zf.writestr("manifest.json", manifest)
        zf.writestr("array0.npy", bomb, compress_type=zipfile.ZIP_DEFLATED)
    del bomb
    tracemalloc.start()
    try:
        with pytest.raises(td.CheckpointError, match=r"members \['array0.npy'\] are compressed"):
            td.load(small_checkpoint)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_the_zip_directorys_size_must_match_the_header(small_checkpoint):
    # an extra byte after the data: the uncompressed size no longer matches header + shape * itemsize
    _rewrite(small_checkpoint, replace={"array0.npy": _npy(np.ones(1000)) + b"\0"})
    with pytest.raises(td.CheckpointError, match=r"array0.npy \(at obj\['w'\]\) is 8129 bytes uncompressed, but its "
                                                 r"header and shape account for 8128"):
        td.load(small_checkpoint)


def test_a_member_in_fortran_order_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"w": td.ones(2, 3)}, path)
    _rewrite(path, replace={"array0.npy": _npy(np.asfortranarray(np.ones((2, 3), dtype=np.float32)))})
    with pytest.raises(td.CheckpointError, match="Fortran order"):
        td.load(path)


# ---------------------------------------------------------------- crafted manifests


def test_a_manifest_that_is_really_an_npy_array_is_refused(small_checkpoint):
    _rewrite(small_checkpoint)  # keep the arrays; then swap the manifest member's bytes
    with zipfile.ZipFile(small_checkpoint) as zf:
        array = zf.read("array0.npy")
    with zipfile.ZipFile(small_checkpoint, "w") as zf:
        zf.writestr("manifest.json", _npy(np.arange(3.0)))
        zf.writestr("array0.npy", array)
    with pytest.raises(td.CheckpointError, match="manifest.json is not JSON text but an .npy array"):
        td.load(small_checkpoint)


@pytest.mark.parametrize("device", ["tpu:0", "cuda", "CPU", 0, "cuda:x"])
def test_an_unknown_device_is_refused(small_checkpoint, device):
    _rewrite(small_checkpoint, lambda m: m["arrays"][0].update(device=device))
    with pytest.raises(td.CheckpointError, match=f"names the unknown device {re.escape(repr(device))}; td.save "
                                                 "writes 'cpu' or 'cuda:N'"):
        td.load(small_checkpoint)


@pytest.mark.parametrize(("root", "problem"), [
    ({"tensor": -1, "requires_grad": False}, r"refers to array -1, but the file holds 1 arrays \(0 to 0\)"),
    ({"array": 1}, r"refers to array 1, but the file holds 1 arrays"),
    ({"array": True}, r"refers to array True"),
    ({"array": "0"}, r"refers to array '0'"),
    ({"list": [{"array": 0}, {"array": 0}]}, "refers to array 0 twice"),
    ({"tensor": 0}, "an entry td.load does not know"),
    ({"tensor": 0, "requires_grad": "yes"}, "requires_grad='yes'"),
    ({"scalar": 0}, "an entry td.load does not know"),  # a scalar is a 0-d array, not 1000 values
    ({"dict": [[None, 1]]}, "an entry td.load does not know"),
    ({"dict": {"a": 1}}, "an entry td.load does not know"),
    ({"list": 3}, "an entry td.load does not know"),
    ([1, 2], "an entry td.load does not know"),
    ({"array": 0, "list": []}, "an entry td.load does not know"),
])
def test_a_crafted_root_is_refused(small_checkpoint, root, problem):
    _rewrite(small_checkpoint, lambda m: m.update(root=root))
    with pytest.raises(td.CheckpointError, match=problem):
        td.load(small_checkpoint)


def test_a_tensor_of_integers_cannot_require_grad(tmp_path):
    path = tmp_path / "ckpt.npz"
    td.save({"i": td.tensor([1, 2])}, path)
    _rewrite(path, lambda m: m["root"]["dict"][0][1].update(requires_grad=True))
    with pytest.raises(td.CheckpointError, match="a tensor of dtype int64 has requires_grad=True"):
        td.load(path)


def test_a_string_array_is_refused_as_save_refuses_to_write_one(small_checkpoint):
    strings = np.array(["a", "b"])
    with pytest.raises(TypeError, match="numeric and bool arrays only"):
        td.save({"s": strings}, small_checkpoint.parent / "s.npz")
    _rewrite(small_checkpoint, lambda m: m["arrays"][0].update(dtype=strings.dtype.str, shape=[2]),
             {"array0.npy": _npy(strings)})
    with pytest.raises(td.CheckpointError, match=r"declared as a <U1 array; td.save writes bool and numeric arrays"):
        td.load(small_checkpoint)


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda m: m["arrays"][0].update(dtype="not a dtype"), "'not a dtype', which is not a NumPy dtype"),
    (lambda m: m["arrays"][0].update(dtype=[["a", "<f8"]]), "which is not a NumPy dtype"),
    (lambda m: m["arrays"][0].update(shape=[-1000]), r"shape \[-1000\], which is not a list of non-negative ints"),
    (lambda m: m["arrays"][0].update(shape=[1000.0]), "which is not a list of non-negative ints"),
    (lambda m: m["arrays"][0].update(shape=1000), "which is not a list of non-negative ints"),
    (lambda m: m["arrays"][0].update(sha256=None), "has no SHA-256 checksum"),
    (lambda m: m["arrays"][0].pop("where"), "is not an array description with the fields"),
    (lambda m: m["arrays"][0].update(file="array7.npy"), "names 'array7.npy', expected 'array0.npy'"),
    (lambda m: m["arrays"].append("array1.npy"), "manifest entry 1 is not an array description"),
    (lambda m: m.update(arrays={}), "lacks the list of arrays or the root object"),
    (lambda m: m.pop("root"), "lacks the list of arrays or the root object"),
    (lambda m: m.update(version=2), "version 2 of the format"),
    (lambda m: m.update(format="other"), "does not describe a tinygrad_drop checkpoint"),
])
def test_each_crafted_manifest_field_is_named(small_checkpoint, edit, problem):
    _rewrite(small_checkpoint, edit)
    with pytest.raises(td.CheckpointError, match=problem):
        td.load(small_checkpoint)


def _nest(path, depth):
    """Make the checkpoint's root `depth` tuples deep, writing the JSON text directly."""
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["root"] = "ROOT"
    deep = '{"tuple": [' * depth + "null" + "]}" * depth
    _rewrite(path, replace={"manifest.json": json.dumps(manifest).replace('"ROOT"', deep).encode()})


def test_a_deeply_nested_manifest_is_refused(small_checkpoint, monkeypatch):
    _nest(small_checkpoint, 300)  # json parses it; decoding it on a stack that is already deep fails
    limit = sys.getrecursionlimit()
    to_device = td.serialization._to_device

    def then_little_stack(*args):
        sys.setrecursionlimit(len(inspect.stack()) + 100)
        return to_device(*args)

    monkeypatch.setattr(td.serialization, "_to_device", then_little_stack)
    try:
        with pytest.raises(td.CheckpointError, match="nested too deeply"):
            td.load(small_checkpoint)
    finally:
        sys.setrecursionlimit(limit)
    _nest(small_checkpoint, 100_000)  # beyond what json parses
    with pytest.raises(td.CheckpointError, match="not JSON text"):
        td.load(small_checkpoint)


def test_duplicate_members_are_refused(small_checkpoint):
    with zipfile.ZipFile(small_checkpoint) as zf:
        array = zf.read("array0.npy")
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(small_checkpoint, "a") as zf:
        zf.writestr("array0.npy", array)
    with pytest.raises(td.CheckpointError, match="two members of one name"):
        td.load(small_checkpoint)
