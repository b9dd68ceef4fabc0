"""Checkpoints that lose nothing and run no code: `td.save(obj, path)` and `td.load(path)`.

A checkpoint is an .npz file (a zip of .npy arrays) with one more member, manifest.json, which
describes the saved object: dicts (str or int keys), lists, tuples, numbers, strings, None, and
arrays or tensors, each array with its dtype, shape, device and SHA-256 checksum. Nothing is
pickled, and loading runs no code: the manifest is read with json and each array from its raw bytes.

The write is atomic: the file is written under a temporary name in the same folder, flushed to
disk (fsync) and then renamed over the target (os.replace), so a crash mid-save leaves the old
file as it was. A read-only target is refused, as open() would; the new file gets the old one's
permissions (or the umask's for a new file); a symlink is written through to its target.

Reading checks everything before returning anything, and checks sizes before reading data: the
manifest's fields, each member's .npy header and the uncompressed size in the zip directory must
agree, and the arrays must fit in `max_bytes`. A truncated, damaged or crafted file raises
CheckpointError instead of giving back part of a model or allocating what its header claims.
"""

import errno
import hashlib
import json
import math
import os
import re
import secrets
import stat
import zipfile
import zlib

import numpy as np

from . import backend
from .tensor import Tensor

FORMAT, VERSION = "tinygrad_drop checkpoint", 1
MANIFEST = "manifest.json"
DEFAULT_MAX_BYTES = 2**32  # 4 GiB of arrays; pass max_bytes=None to td.load for bigger trusted files
_ZIP_MAGIC = b"PK\x03\x04"
_ENTRY_FIELDS = {"file", "where", "dtype", "shape", "device", "sha256"}


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, damaged, not written by td.save, or holds something td.load refuses."""


def save(obj, path):
    """Write a state_dict, an optimizer state, or nested dicts, lists and tuples of them to `path`, atomically."""
    arrays, entries = [], []
    root = _encode(obj, arrays, entries, "obj")
    manifest = {"format": FORMAT, "version": VERSION, "arrays": entries, "root": root}
    _atomic_write(os.fspath(path), lambda file: _write_zip(file, manifest, arrays))


def load(path, device=None, max_bytes=DEFAULT_MAX_BYTES):
    """Read a checkpoint written by td.save; arrays go back to the device they came from, or to `device`.

    A file whose arrays declare more than `max_bytes` bytes in all is refused before anything is
    allocated (None: no limit).
    """
    path = os.fspath(path)
    device = None if device is None else backend.parse_device(device)
    with open(path, "rb") as file:
        if file.read(4) != _ZIP_MAGIC:
            raise CheckpointError(f"{path} is not a checkpoint written by td.save: it does not start as an .npz "
                                  "(zip) file does, so it is truncated or something else. td.load never unpickles")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _read_manifest(zf, max_bytes, os.path.getsize(path))
            arrays = [_read_array(zf, entry) for entry in manifest["arrays"]]
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError,
            NotImplementedError, RuntimeError) as err:  # what zipfile and the .npy reader raise for damaged bytes
        raise CheckpointError(f"{path} is truncated or damaged, and nothing was loaded from it ({err}). "
                              "Restore it from a backup, or save it again.") from None
    arrays = [_to_device(array, device or entry["device"], path) for array, entry in zip(arrays, manifest["arrays"],
                                                                                         strict=True)]
    try:
        return _decode(manifest["root"], arrays, set())
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: the manifest is nested too deeply to be a saved object") from None


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
    """write(file) into a temporary file beside `path`, fsync it, then rename it over `path`.

    Like open(path, "wb"): a symlink is followed, and a target this process may not write is
    refused. The new file keeps the old file's permission bits; a new file gets the umask's.
    """
    path = os.path.realpath(path)  # through a symlink to the file it points to, as torch.save writes
    folder = os.path.dirname(path)
    old_mode = _mode_of(path)
    if old_mode is not None and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "td.save will not replace a checkpoint that is read-only for this user "
                              "(chmod u+w it first, or save under another name)", path)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:  # 0o666 minus the umask, as open() gives a new file (mkstemp would give 0o600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except PermissionError as err:
        raise PermissionError(err.errno, f"td.save cannot create files in {folder}, where it writes the checkpoint "
                              "before renaming it into place", path) from None
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            if old_mode is not None:
                os.chmod(file.fileno() if os.chmod in os.supports_fd else tmp, old_mode)
            os.fsync(file.fileno())
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


def _mode_of(path):
    """The permission bits of the file at `path`, or None when there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- reading


def _read_manifest(zf, max_bytes, file_size):
    """The parsed manifest, after checking every field, the members it lists and the bytes they declare.

    td.save stores members uncompressed, so a genuine file holds every byte its arrays declare:
    a compressed member (a possible zip bomb) or a declared size beyond the file's is refused.
    """
    names = zf.namelist()
    if len(set(names)) != len(names):
        raise CheckpointError("the zip holds two members of one name, which td.save never writes")
    if MANIFEST not in names:
        raise CheckpointError(f"there is no {MANIFEST}, so this .npz was not written by td.save")
    compressed = sorted(info.filename for info in zf.infolist() if info.compress_type != zipfile.ZIP_STORED)
    if compressed:
        raise CheckpointError(f"the members {compressed} are compressed; td.save stores every member uncompressed")
    if zf.getinfo(MANIFEST).file_size > (file_size if max_bytes is None else min(file_size, max_bytes)):
        raise CheckpointError(f"{MANIFEST} claims {zf.getinfo(MANIFEST).file_size} bytes, more than the file "
                              "holds or max_bytes allows")
    text = zf.read(MANIFEST)
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        what = "an .npy array" if text.startswith(b"\x93NUMPY") else "something else"
        raise CheckpointError(f"{MANIFEST} is not JSON text but {what}, so td.save did not write it") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{MANIFEST} does not describe a {FORMAT}")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"it is version {manifest.get('version')!r} of the format; this td.load reads "
                              f"version {VERSION}")
    if not isinstance(manifest.get("arrays"), list) or "root" not in manifest:
        raise CheckpointError(f"{MANIFEST} lacks the list of arrays or the root object")
    for index, entry in enumerate(manifest["arrays"]):
        _check_entry(index, entry)
    listed = {entry["file"] for entry in manifest["arrays"]}
    held = set(names) - {MANIFEST}
    if listed != held:
        raise CheckpointError(f"the manifest lists the arrays {sorted(listed - held)} that the file lacks, and the "
                              f"file holds {sorted(held - listed)} that the manifest does not list")
    declared = sum(entry["nbytes"] for entry in manifest["arrays"])
    if declared > file_size:
        raise CheckpointError(f"its arrays declare {declared} bytes, but the file is only {file_size} bytes long")
    if max_bytes is not None and declared > max_bytes:
        raise CheckpointError(f"its arrays declare {declared} bytes, more than max_bytes={max_bytes}; if you trust "
                              "the file, pass td.load(path, max_bytes=None) or a larger limit")
    return manifest


def _check_entry(index, entry):
    """Check one manifest entry's fields as td.save writes them, and add its parsed dtype and byte count."""
    if not isinstance(entry, dict) or set(entry) != _ENTRY_FIELDS:
        raise CheckpointError(f"manifest entry {index} is not an array description with the fields "
                              f"{sorted(_ENTRY_FIELDS)}: {entry!r:.200}")
    where = entry["where"] if isinstance(entry["where"], str) else f"manifest entry {index}"
    if entry["file"] != f"array{index}.npy":
        raise CheckpointError(f"manifest entry {index} names {entry['file']!r}, expected 'array{index}.npy'")
    try:
        dtype = np.dtype(entry["dtype"])
    except TypeError:
        raise CheckpointError(f"manifest entry {index} (at {where}) has the dtype {entry['dtype']!r}, which is not "
                              "a NumPy dtype") from None
    if dtype.kind == "O":
        raise CheckpointError(f"{entry['file']} (at {where}) holds pickled objects; td.load refuses to unpickle, "
                              "because unpickling can run any code")
    if dtype.kind not in "biufc" or dtype.fields is not None:
        raise CheckpointError(f"{entry['file']} (at {where}) is declared as a {dtype} array; td.save writes "
                              "bool and numeric arrays only")
    shape = entry["shape"]
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise CheckpointError(f"manifest entry {index} (at {where}) has the shape {shape!r}, which is not a list "
                              "of non-negative ints")
    device = entry["device"]
    if not isinstance(device, str) or not re.fullmatch(r"cpu|cuda:\d+", device):
        raise CheckpointError(f"manifest entry {index} (at {where}) names the unknown device {device!r}; "
                              "td.save writes 'cpu' or 'cuda:N'")
    if not isinstance(entry["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
        raise CheckpointError(f"manifest entry {index} (at {where}) has no SHA-256 checksum")
    entry["dtype"], entry["shape"], entry["nbytes"] = dtype, tuple(shape), math.prod(shape) * dtype.itemsize


def _read_array(zf, entry):
    """The array of a manifest entry: its .npy header and zip size are checked before its data is read."""
    name, where = entry["file"], entry["where"]
    with zf.open(name) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(member)
        else:
            raise CheckpointError(f"{name} (at {where}) is a version {version} .npy file, which td.save never writes")
        shape, fortran_order, dtype = header
        if (dtype, shape, fortran_order) != (entry["dtype"], entry["shape"], False):
            raise CheckpointError(f"{name} (at {where}) does not match the manifest: its header declares dtype "
                                  f"{dtype.str}, shape {shape}{', Fortran order' if fortran_order else ''}; the "
                                  f"manifest says {entry['dtype'].str}, {entry['shape']}")
        size = zf.getinfo(name).file_size
        if size != member.tell() + entry["nbytes"]:
            raise CheckpointError(f"{name} (at {where}) is {size} bytes uncompressed, but its header and shape "
                                  f"account for {member.tell() + entry['nbytes']}")
        data = _read_exactly(member, entry["nbytes"], f"{name} (at {where})")
    array = np.frombuffer(data, dtype=entry["dtype"]).reshape(entry["shape"])
    if _checksum(array) != entry["sha256"]:
        raise CheckpointError(f"{name} (at {where}) does not match the manifest: its checksum is "
                              f"{_checksum(array)[:12]}..., the manifest says {entry['sha256'][:12]}...")
    return array


def _read_exactly(member, nbytes, what):
    """The next `nbytes` bytes of a zip member as a writable buffer, read in chunks (no second full-size copy)."""
    data = bytearray(nbytes)  # within max_bytes, checked before; writable, as parameters must be
    view, filled = memoryview(data), 0
    while filled < nbytes:
        chunk = member.read(min(nbytes - filled, 1 << 20))
        if not chunk:
            raise CheckpointError(f"{what} is truncated: {filled} of its {nbytes} bytes are there")
        view[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    return data


def _to_device(array, device, path):
    """Move a loaded host array to `device`, saying how to load elsewhere when that device is missing."""
    try:
        return backend.to_device(array, backend.parse_device(device))
    except (RuntimeError, ValueError) as err:
        raise RuntimeError(f"{path} holds arrays saved on {device}, which is not available here ({err}); "
                           "load them elsewhere with td.load(path, device='cpu')") from None


def _decode(node, arrays, used):
    """The object a manifest node describes, with its arrays filled in; each array is used once."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and set(node) == {"tensor", "requires_grad"}:
        array, requires_grad = _array_at(node["tensor"], arrays, used), node["requires_grad"]
        if not isinstance(requires_grad, bool) or (requires_grad and array.dtype.kind != "f"):
            raise CheckpointError(f"a tensor of dtype {array.dtype} has requires_grad={requires_grad!r}")
        return Tensor._wrap(array, requires_grad=requires_grad)
    if isinstance(node, dict) and len(node) == 1:
        ((kind, value),) = node.items()
        if kind == "array":
            return _array_at(value, arrays, used)
        if kind == "scalar" and _array_at(value, arrays, used).ndim == 0:
            return arrays[value][()]
        if kind in ("list", "tuple") and isinstance(value, list):
            items = [_decode(item, arrays, used) for item in value]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(value, list) and all(_is_pair(item) for item in value):
            return {key: _decode(item, arrays, used) for key, item in value}
    raise CheckpointError(f"the manifest holds an entry td.load does not know: {node!r:.200}")


def _is_pair(item):
    """True for a [key, value] pair of a saved dict (a str or int key)."""
    return isinstance(item, list) and len(item) == 2 and type(item[0]) in (str, int)


def _array_at(index, arrays, used):
    """arrays[index] for a manifest reference, which must name a saved array not used before."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(arrays):
        raise CheckpointError(f"the manifest refers to array {index!r}, but the file holds {len(arrays)} arrays "
                              f"(0 to {len(arrays) - 1})")
    if index in used:
        raise CheckpointError(f"the manifest refers to array {index} twice, which td.save never writes")
    used.add(index)
    return arrays[index]
