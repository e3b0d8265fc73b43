"""Float32 .tflite files for the float32 kernel tests: the example models and the randomised
one-kernel models of ``single_ops``, converted without quantization."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codegen_support import single_ops
from codegen_support.models import EXAMPLES, _randomize


def convert_float(model, out: Path) -> Path:
    """A batch-1 Keras model as a float32 .tflite (TFLiteCompiler target 'default')."""
    import tensorflow as tf

    out.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return out


def build_float_example(name: str, out_dir: Path, seed: int = 0) -> tuple[Path, tuple]:
    import keras

    keras.utils.set_random_seed(seed)
    model, shape = EXAMPLES[name]()
    _randomize(model, seed)
    return convert_float(model, out_dir / f"{name}_f32.tflite"), shape


def build_float_op(builder, seed: int, out_dir: Path) -> tuple[Path, single_ops.OpCase]:
    """One random single-op case (as the int8 kernel tests draw it), in float32."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng([seed, single_ops.BUILDERS.index(builder)])
    case = builder(rng)
    single_ops._randomize(case.model, rng)
    return convert_float(case.model, out_dir / f"{case.name}_f32.tflite"), case


def random_inputs(shape: tuple, input_range: tuple[float, float], count: int,
                  rng: np.random.Generator) -> list[np.ndarray]:
    lo, hi = input_range
    return [rng.uniform(lo, hi, int(np.prod(shape))).astype(np.float32) for _ in range(count)]
