"""Checkpoints that lose nothing and run no code: `td.save(obj, path)` and `td.load(path)`.

A checkpoint is an .npz file (a zip of .npy arrays) with one more member, manifest.json, which
describes the saved object: dicts (str or int keys), lists, tuples, numbers, strings, None, and
arrays or tensors, each array with its dtype, shape, device and SHA-256 checksum. Nothing is
pickled, and loading runs no code: arrays are read with np.load(allow_pickle=False).

The write is atomic: the file is written under a temporary name in the same folder, flushed to
disk (fsync) and then renamed over the target (os.replace), so a crash mid-save leaves the old
file as it was. Reading checks everything before returning anything: a truncated or damaged file
raises CheckpointError instead of giving back part of a model.
"""

import hashlib
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from . import backend
from .tensor import Tensor

FORMAT, VERSION = "tinygrad_drop checkpoint", 1
MANIFEST = "manifest.json"
_ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, damaged, not written by td.save, or holds something td.load refuses."""


def save(obj, path):
    """Write a state_dict, an optimizer state, or nested dicts, lists and tuples of them to `path`, atomically."""
    arrays, entries = [], []
    root = _encode(obj, arrays, entries, "obj")
    manifest = {"format": FORMAT, "version": VERSION, "arrays": entries, "root": root}
    _atomic_write(os.fspath(path), lambda file: _write_zip(file, manifest, arrays))


def load(path, device=None):
    """Read a checkpoint written by td.save; arrays go back to the device they came from, or to `device`."""
    path = os.fspath(path)
    device = None if device is None else backend.parse_device(device)
    with open(path, "rb") as file:
        if file.read(4) != _ZIP_MAGIC:
            raise CheckpointError(f"{path} is not a checkpoint written by td.save: it does not start as an .npz "
                                  "(zip) file does, so it is truncated or something else. td.load never unpickles")
    try:
        with np.load(path, allow_pickle=False) as npz:
            manifest = _read_manifest(npz)
            arrays = [_read_array(npz, i, entry) for i, entry in enumerate(manifest["arrays"])]
            saved_on = [entry["device"] for entry in manifest["arrays"]]
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError,
            NotImplementedError, RuntimeError) as err:  # what zipfile and np.load raise for damaged bytes
        raise CheckpointError(f"{path} is truncated or damaged, and nothing was loaded from it ({err}). "
                              "Restore it from a backup, or save it again.") from None
    arrays = [_to_device(array, device or where, path) for array, where in zip(arrays, saved_on, strict=True)]
    try:
        return _decode(manifest["root"], arrays)
    except (KeyError, IndexError, TypeError) as err:
        raise CheckpointError(f"{path}: the manifest does not describe a saved object ({err!r})") from None


# ---------------------------------------------------------------- writing


def _encode(obj, arrays, entries, where):
    """The manifest node for `obj`; its arrays are appended to `arrays`, their descriptions to `entries`."""
    if obj is None or isinstance(obj, (bool, int, str)) or type(obj) is float:
        return obj
    if isinstance(obj, Tensor):
        return {"tensor": _add_array(obj.data, arrays, entries, where), "requires_grad": obj.requires_grad}
    if isinstance(obj, np.generic):
        return {"scalar": _add_array(np.asarray(obj), arrays, entries, where)}
    if isinstance(obj, np.ndarray) or backend.get_array_module(obj) is not np:
        return {"array": _add_array(obj, arrays, entries, where)}
    if isinstance(obj, dict):
        for key in obj:
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"td.save: the dict at {where} has the key {key!r}; keys must be str or int")
        return {"dict": [[key, _encode(value, arrays, entries, f"{where}[{key!r}]")] for key, value in obj.items()]}
    if type(obj) in (list, tuple):
        return {type(obj).__name__: [_encode(v, arrays, entries, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"td.save cannot store the {type(obj).__name__} at {where}: it stores dicts, lists, tuples, "
                    "numbers, strings, None, arrays and tensors (save model.state_dict(), not the model)")


def _add_array(array, arrays, entries, where):
    """Append a host copy of `array` and its manifest entry; return its index."""
    host = np.asarray(backend.to_numpy(array), order="C")
    if host.dtype.kind not in "biufc":
        raise TypeError(f"td.save stores numeric and bool arrays only, got dtype {host.dtype} at {where}")
    entries.append({"file": f"array{len(arrays)}.npy", "where": where, "dtype": host.dtype.str,
                    "shape": list(host.shape), "device": backend.device_of(array), "sha256": _checksum(host)})
    arrays.append(host)
    return len(arrays) - 1


def _checksum(array):
    return hashlib.sha256(array.tobytes()).hexdigest()


def _write_zip(file, manifest, arrays):
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(MANIFEST), json.dumps(manifest, indent=1))  # dated 1980 like the arrays
        for entry, array in zip(manifest["arrays"], arrays, strict=True):
            with zf.open(entry["file"], "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _atomic_write(path, write):
    """write(file) into a temporary file beside `path`, fsync it, then rename it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable (a folder cannot be fsync'ed on Windows)
        folder_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(folder_fd)
        finally:
            os.close(folder_fd)


# ---------------------------------------------------------------- reading


def _read_manifest(npz):
    """The parsed manifest, after checking that it describes exactly the arrays the file holds."""
    if MANIFEST not in npz.files:
        raise CheckpointError(f"there is no {MANIFEST}, so this .npz was not written by td.save")
    manifest = json.loads(npz[MANIFEST].decode("utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{MANIFEST} does not describe a {FORMAT}")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"it is version {manifest.get('version')!r} of the format; this td.load reads "
                              f"version {VERSION}")
    listed = {entry["file"] for entry in manifest["arrays"]}
    held = {name + ".npy" for name in npz.files if name != MANIFEST}
    if listed != held:
        raise CheckpointError(f"the manifest lists the arrays {sorted(listed - held)} that the file lacks, and the "
                              f"file holds {sorted(held - listed)} that the manifest does not list")
    return manifest


def _read_array(npz, index, entry):
    """Array `index`, after checking its dtype, shape and checksum against the manifest."""
    if entry["file"] != f"array{index}.npy":
        raise CheckpointError(f"manifest entry {index} names {entry['file']!r}, expected 'array{index}.npy'")
    try:
        array = npz[entry["file"][: -len(".npy")]]
    except ValueError as err:
        if "pickle" in str(err) or "Object arrays" in str(err):
            raise CheckpointError(f"{entry['file']} (at {entry['where']}) holds pickled objects; td.load refuses "
                                  "to unpickle, because unpickling can run any code") from None
        raise
    found = (array.dtype.str, list(array.shape), _checksum(array))
    expected = (entry["dtype"], entry["shape"], entry["sha256"])
    if found != expected:
        raise CheckpointError(f"{entry['file']} (at {entry['where']}) does not match the manifest: it has dtype "
                              f"{found[0]} and shape {tuple(found[1])}, checksum {found[2][:12]}..., the manifest "
                              f"says {expected[0]}, {tuple(expected[1])}, {expected[2][:12]}...")
    return array


def _to_device(array, device, path):
    """Move a loaded host array to `device`, saying how to load elsewhere when that device is missing."""
    try:
        return backend.to_device(array, backend.parse_device(device))
    except RuntimeError as err:
        raise RuntimeError(f"{path} holds arrays saved on {device}, which is not available here ({err}); "
                           "load them elsewhere with td.load(path, device='cpu')") from None


def _decode(node, arrays):
    """The object a manifest node describes, with its arrays filled in."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if "dict" in node:
        return {key: _decode(value, arrays) for key, value in node["dict"]}
    if "list" in node:
        return [_decode(value, arrays) for value in node["list"]]
    if "tuple" in node:
        return tuple(_decode(value, arrays) for value in node["tuple"])
    if "tensor" in node:
        return Tensor._wrap(arrays[node["tensor"]], requires_grad=bool(node["requires_grad"]))
    if "array" in node:
        return arrays[node["array"]]
    if "scalar" in node:
        return arrays[node["scalar"]][()]
    raise CheckpointError(f"the manifest holds an entry td.load does not know: {node!r}")
