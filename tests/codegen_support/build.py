"""Build generated models with host gcc (ctypes) or arm-none-eabi-gcc, and run references."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

from kenning_tasks.codegen import GeneratedModel, runtime_dir
from kenning_tasks.codegen.reference import TflmReference

WARN_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]

# Host variants of the runtime: the reference loops, the portable fast path and the DSP fast
# path with C models of SXTB16/SMLAD.
HOST_VARIANTS = {
    "ref": ["-DKT_FAST_KERNELS=0"],
    "fast": ["-DKT_FAST_KERNELS=1"],
    "dsp": ["-DKT_FAST_KERNELS=1", "-DKT_EMULATE_DSP"],
}

ARM_CPUS = {
    "cortex-m3": ["-mcpu=cortex-m3", "-mthumb"],
    "cortex-m4f": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "cortex-m7": ["-mcpu=cortex-m7", "-mthumb"],
}


def runtime_sources() -> list[Path]:
    return sorted(runtime_dir().glob("*.c"))


def host_runtime_objects(work: Path, variant: str) -> list[Path]:
    """Compile the runtime once per variant (cached in ``work``)."""
    out_dir = work / f"rt_{variant}"
    if out_dir.exists():
        return sorted(out_dir.glob("*.o"))
    tmp = work / f".rt_{variant}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in runtime_sources():
        obj = tmp / (src.stem + ".o")
        subprocess.run(["gcc", "-O2", "-fPIC", *WARN_FLAGS, *HOST_VARIANTS[variant],
                        "-I", str(runtime_dir()), "-c", str(src), "-o", str(obj)],
                       check=True, capture_output=True, text=True)
        objs.append(obj)
    shutil.move(str(tmp), str(out_dir))
    return sorted(out_dir.glob("*.o"))


class HostModel:
    """A generated model built into a shared library and called through ctypes."""

    def __init__(self, gen: GeneratedModel, work: Path, variant: str = "ref") -> None:
        self.gen = gen
        lib_path = gen.header.parent / f"libmodel_{variant}.so"
        objs = host_runtime_objects(work, variant)
        result = subprocess.run(
            ["gcc", "-O2", "-fPIC", "-shared", *WARN_FLAGS, *HOST_VARIANTS[variant],
             "-I", str(runtime_dir()), "-I", str(gen.header.parent),
             *[str(s) for s in gen.sources], *[str(o) for o in objs], "-o", str(lib_path)],
            capture_output=True, text=True)
        if result.returncode:
            raise AssertionError(f"host build failed:\n{result.stderr}")
        self.lib = ctypes.CDLL(str(lib_path))
        self.lib.kt_model_invoke.restype = ctypes.c_int
        self.lib.kt_model_invoke.argtypes = [ctypes.c_void_p, ctypes.c_void_p]

    def __call__(self, x: np.ndarray, out_dtype: type = np.int8) -> np.ndarray:
        x = np.ascontiguousarray(x)
        assert x.nbytes == self.gen.input_bytes
        out = np.zeros(self.gen.output_bytes, dtype=np.uint8)
        rc = self.lib.kt_model_invoke(x.ctypes.data, out.ctypes.data)
        assert rc == 0
        return out.view(out_dtype)


class TflmModel(TflmReference):
    """TFLite Micro's host interpreter: the bit-exact reference (adds the test's `interp`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.interp = self.interpreter


def arm_compile(sources: list[Path], include_dirs: list[Path], cpu: str, work: Path) -> None:
    """Compile-only check with the firmware flags; raises with gcc's output on any warning."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = ["arm-none-eabi-gcc", *ARM_CPUS[cpu], "-O2", "-ffunction-sections",
           "-fdata-sections", *WARN_FLAGS, "-c"]
    for inc in include_dirs:
        cmd += ["-I", str(inc)]
    for src in sources:
        result = subprocess.run([*cmd, str(src), "-o", str(work / (src.stem + ".o"))],
                                capture_output=True, text=True)
        if result.returncode:
            raise AssertionError(f"{cpu}: {src.name} failed:\n{result.stderr}")
