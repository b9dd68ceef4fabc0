"""A stand-in for the few parts of CuPy that the dropout kernels use, so that their CUDA source runs on the CPU.

`ElementwiseKernel` works as CuPy's does for kernels whose array parameters are all `raw`: it reads
the parameter lists the way CuPy does (comma-separated `[raw] TYPE NAME`, TYPE a NumPy dtype name
or a one-letter type placeholder bound from the arguments' dtypes), writes the C source CuPy would
(the preamble, then a function whose loop runs `operation` for i = 0 .. size - 1, raw arrays as
pointers, scalars by value, each placeholder a typedef), compiles it once with the host's C compiler
and runs it on the arrays' memory through ctypes. CUDA's `__device__` and `__umul64hi` get host
definitions, as in tests/test_random.py. Around it: `ndarray` (host memory that, like a CuPy array,
refuses NumPy arrays as operands), `asarray`, `asnumpy`, `empty`, `empty_like`,
`ascontiguousarray` and `cuda` with one device.

Not emulated: parallel threads (the loop is sequential, so a race between threads goes unseen),
non-raw array parameters (broadcasting), outputs that CuPy would allocate, strided raw arrays,
float16, streams and real device memory. Tests point `tinygrad_drop.backend._cupy` at this module
with monkeypatch, so that the framework treats these arrays as arrays on GPU 0.
"""

import ctypes
import hashlib
import re
import shutil
import subprocess
import tempfile

import numpy as np

C_TYPES = {"bool": "bool", "int32": "int", "uint32": "unsigned int", "int64": "long long",
           "uint64": "unsigned long long", "float32": "float", "float64": "double"}  # as CuPy names them
CUDA_ON_THE_HOST = """#include <stdbool.h>
#define __device__ static
static unsigned long long __umul64hi(unsigned long long a, unsigned long long b)
{ return (unsigned long long)(((unsigned __int128)a * b) >> 64); }
"""
created, launches = [], []  # every ElementwiseKernel made, and every launch as (name, size)
_libraries = {}  # C source -> its compiled function
_build_dir = tempfile.TemporaryDirectory(prefix="host_cupy_")


def compiler():
    """The host's C compiler, or None."""
    return shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


class cuda:
    """cupy.cuda with a single device, 0."""

    class Device:
        def __init__(self, id=0):
            self.id = id

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class runtime:
        @staticmethod
        def getDeviceCount():
            return 1


class ndarray(np.ndarray):
    """An array "on GPU 0": NumPy's maths, but a NumPy array as an operand is an error, as in CuPy."""

    @property
    def device(self):
        return cuda.Device(0)

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        for a in inputs + (out or ()):
            if isinstance(a, np.ndarray) and not isinstance(a, ndarray):
                raise TypeError(f"Unsupported type {type(a)}")  # CuPy never copies host arrays silently
        plain = [a.view(np.ndarray) if isinstance(a, ndarray) else a for a in inputs]
        if out is not None:
            getattr(ufunc, method)(*plain, out=tuple(o.view(np.ndarray) for o in out), **kwargs)
            return out[0]
        result = getattr(ufunc, method)(*plain, **kwargs)
        return result.view(ndarray) if isinstance(result, np.ndarray) else result


def asarray(a, dtype=None):
    return np.array(a, dtype=dtype).view(ndarray)  # a copy, as a host-to-device copy is


array = asarray  # cupy.array copies too


def asnumpy(a):
    return np.array(a.view(np.ndarray))


def empty(shape, dtype=float):
    return np.empty(shape, dtype).view(ndarray)


def empty_like(a):
    return empty(a.shape, a.dtype)


def ascontiguousarray(a):
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected ndarray, got {type(a).__name__})")
    return np.ascontiguousarray(a).view(ndarray)


def _parameters(params):
    """[(raw, type, name)] of "raw T x, uint64 k0": type is a NumPy dtype name or a one-letter placeholder."""
    parsed = []
    for param in params.split(","):
        words = param.split()
        if len(words) < 2:
            raise ValueError(f"Syntax error: {param}")
        *keywords, type_, name = words
        if any(k != "raw" for k in keywords):
            raise ValueError(f'Unknown keyword "{keywords[0]}"')
        if len(type_) != 1 and np.dtype(type_).name != type_:  # np.dtype raises TypeError for unknown names
            raise ValueError(f"Wrong type {type_}")
        parsed.append((keywords == ["raw"], type_, name))
    return parsed


class ElementwiseKernel:
    """cupy.ElementwiseKernel for raw arrays and scalars: the loop body runs once for each i < size."""

    def __init__(self, in_params, out_params, operation, name="kernel", preamble=""):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):  # a valid C name (None is a TypeError here)
            raise ValueError(f'Invalid kernel name: "{name}"')
        self.inputs, self.outputs = _parameters(in_params), _parameters(out_params)
        self.operation, self.name, self.preamble = operation, name, preamble
        created.append(self)

    def __call__(self, *args, size=None):
        params = [(raw, t, name, True) for raw, t, name in self.inputs] + [
            (raw, t, name, False) for raw, t, name in self.outputs]
        if len(args) != len(params):
            raise TypeError(f"Wrong number of arguments for {self.name!r}: {len(args)} for {len(params)}")
        if size is None:
            raise ValueError("Loop size is undecided: every array is raw, so pass size=")
        placeholders = {}  # a placeholder takes the dtype of the first array of its type (else of a scalar)
        for (_, t, _, _), arg in sorted(zip(params, args, strict=True), key=lambda pa: not isinstance(pa[1], ndarray)):
            if len(t) == 1 and t not in placeholders:
                placeholders[t] = arg.dtype if isinstance(arg, ndarray) else np.asarray(arg).dtype
        c_params, c_args = [], []
        for (raw, t, name, is_input), arg in zip(params, args, strict=True):
            if raw != isinstance(arg, ndarray):
                raise TypeError(f"{name}: a raw parameter takes a GPU array, any other a scalar ({type(arg)} given)")
            dtype, c_type = np.dtype(placeholders.get(t, t)), t if len(t) == 1 else C_TYPES[t]
            if raw:
                if arg.dtype != dtype or not arg.flags.c_contiguous:
                    raise TypeError(f"{name}: wanted a C-contiguous {dtype} array, got {arg.dtype}")
                c_params.append(f"{'const ' if is_input else ''}{c_type} *{name}")
                c_args.append(ctypes.c_void_p(arg.ctypes.data))
            else:
                if not isinstance(arg, (bool, int, float, np.generic)):
                    raise TypeError(f"Unsupported type {type(arg)}")
                c_params.append(f"{c_type} {name}")
                c_args.append(np.ctypeslib.as_ctypes_type(dtype)(dtype.type(arg)))
        typedefs = "".join(f"typedef {C_TYPES[np.dtype(d).name]} {t};\n" for t, d in placeholders.items())
        source = (f"{CUDA_ON_THE_HOST}{self.preamble}\n{typedefs}"
                  f"void {self.name}({', '.join(c_params)}, long long _size) {{\n"
                  f"    for (long long i = 0; i < _size; i++) {{\n{self.operation};\n    }}\n}}\n")
        launches.append((self.name, size))
        function = _compiled(source, self.name)
        function.argtypes = [type(a) for a in c_args] + [ctypes.c_longlong]
        function(*c_args, size)


def _compiled(source, name):
    """The function `name` of C `source`, compiled on its first use only."""
    if source not in _libraries:
        path = f"{_build_dir.name}/{hashlib.sha256(source.encode()).hexdigest()[:16]}"
        with open(path + ".c", "w") as f:
            f.write(source)
        subprocess.run([compiler(), "-O1", "-shared", "-fPIC", "-o", path + ".so", path + ".c"], check=True)
        _libraries[source] = getattr(ctypes.CDLL(path + ".so"), name)
    return _libraries[source]
