"""Shared helpers for the target tests: a real generated model, QEMU process checks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

INPUT_SHAPE = (8, 8, 1)


def build_tflite(path: Path, seed: int = 0) -> Path:
    """A small full-int8 CNN (conv, pool, dense) converted from Keras 3 with batch size 1."""
    import keras
    from keras import layers

    from tests.codegen_support.models import convert_int8

    keras.utils.set_random_seed(seed)
    inp = keras.Input(INPUT_SHAPE, batch_size=1)
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    out = layers.Dense(10)(x)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:  # non-zero biases so the bias path is exercised too
            layer.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in weights])
    return convert_int8(model, INPUT_SHAPE, path, seed)


def generated_model(tmp_path_factory) -> tuple[Path, Path]:
    """(tflite, generated model dir), created once per pytest session."""
    from kenning_tasks.codegen import generate_c_model

    base = tmp_path_factory.getbasetemp() / "kt-target-model"
    tflite, model_dir = base / "tiny.tflite", base / "model"
    if not (model_dir / "model.h").is_file():
        base.mkdir(parents=True, exist_ok=True)
        build_tflite(tflite)
        generate_c_model(tflite, model_dir)
    return tflite, model_dir


def sample_inputs(count: int, seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    size = int(np.prod(INPUT_SHAPE))
    return [rng.integers(-128, 128, size, dtype=np.int8).tobytes() for _ in range(count)]


def reference_outputs(tflite: Path, inputs: list[bytes]) -> list[np.ndarray]:
    """TFLite Micro's outputs for the same int8 inputs: the arithmetic the firmware follows."""
    from kenning_tasks.codegen.reference import tflm_outputs

    return [o.astype(np.int8) for o in tflm_outputs(tflite, inputs)]


def write_hanging_model(model_dir: Path, input_bytes: int = 64, output_bytes: int = 10) -> Path:
    """A model whose invoke never returns: the firmware answers PING, then hangs in PROCESS."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.h").write_text(
        "#include <stdint.h>\n"
        f"#define KT_MODEL_INPUT_BYTES {input_bytes}\n"
        f"#define KT_MODEL_OUTPUT_BYTES {output_bytes}\n"
        "#define KT_MODEL_ARENA_BYTES 0\n"
        "int kt_model_invoke(const int8_t *input, int8_t *output);\n"
    )
    (model_dir / "hang.c").write_text(
        '#include "model.h"\n'
        "int kt_model_invoke(const int8_t *input, int8_t *output)\n"
        "{\n    volatile int spin = 1;\n    while (spin) {\n    }\n    return 0;\n}\n"
    )
    return model_dir


def write_loop_model(model_dir: Path, timed: bool = False) -> Path:
    """A model whose invoke runs exactly 2·n more instructions for n = the first three input
    bytes (little endian): a ``subs``/``bne`` loop. Output: the input, copied.
    ``timed``: the loop is one operator between KT_OP_BEGIN/KT_OP_END, as model.c's kernels."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.h").write_text(
        "#include <stdint.h>\n#define KT_MODEL_INPUT_BYTES 4\n#define KT_MODEL_OUTPUT_BYTES 4\n"
        f"#define KT_MODEL_ARENA_BYTES 0\n#define KT_MODEL_KERNEL_OPS {int(timed)}\n"
        "int kt_model_invoke(const int8_t *input, int8_t *output);\n"
    )
    begin, end = ("    KT_OP_BEGIN(0);\n", "    KT_OP_END(0);\n") if timed else ("", "")
    loop = ('    __asm__ volatile("cmp %0, #0\\n\\tbeq 2f\\n1:\\n\\tsubs %0, %0, #1\\n"\n'
            '                     "\\tbne 1b\\n2:" : "+r"(n) : : "cc");\n')
    (model_dir / "loop.c").write_text(
        '#include "model.h"\n'
        "#ifndef KT_OP_BEGIN\n#define KT_OP_BEGIN(index) ((void)0)\n#endif\n"  # as model.c
        "#ifndef KT_OP_END\n#define KT_OP_END(index) ((void)0)\n#endif\n"
        "int kt_model_invoke(const int8_t *input, int8_t *output)\n{\n"
        "    const uint8_t *in = (const uint8_t *)input;\n"
        "    uint32_t n = in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16);\n"
        + begin + loop + end +
        "    for (int i = 0; i < 4; i++) {\n        output[i] = input[i];\n    }\n"
        "    return 0;\n}\n"
    )
    return model_dir


def loop_inputs(counts: list[int]) -> list[bytes]:
    return [bytes([n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF, 0]) for n in counts]


def qemu_children() -> set[int]:
    """PIDs of qemu-system-arm processes whose parent is this test process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("Name", "").strip() == "qemu-system-arm" and \
                int(fields.get("PPid", "0")) == os.getpid():
            found.add(int(entry.name))
    return found


def pid_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists (reaped) or is not a QEMU any more."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return True
    return comm != "qemu-system-arm"
