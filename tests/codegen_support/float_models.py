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


def _tensor_op_models() -> dict:
    """Small float32 Keras graphs, each exercising some of the element-wise, reduction and
    data-movement operators (float_tensor_ops.py)."""
    import keras
    from keras import layers, ops

    def binary_and_unary():
        inp = keras.Input((4, 5, 3), batch_size=1)
        a = layers.Conv2D(3, 1)(inp)
        x = layers.Subtract()([inp, a])
        x = layers.Multiply()([x, layers.Activation("sigmoid")(a)])
        x = layers.Activation("tanh")(x)
        y = layers.LeakyReLU(negative_slope=0.2)(layers.Conv2D(3, 1)(x))
        z = layers.ReLU(6.0)(layers.Conv2D(3, 1, use_bias=False)(y))
        w = layers.ReLU()(layers.Subtract()([y, z]))
        return keras.Model(inp, layers.Concatenate(axis=-1)([x, y, w])), (4, 5, 3)

    def reduce_and_move():
        inp = keras.Input((6, 4, 2), batch_size=1)
        x = layers.ZeroPadding2D(((1, 0), (2, 1)))(inp)
        x = layers.Permute((2, 1, 3))(x)
        m = layers.GlobalAveragePooling2D()(x)
        s = ops.sum(ops.slice(x, (0, 1, 2, 0), (1, 3, 4, 2)), axis=(1, 3))
        r = ops.sqrt(ops.abs(s) + 0.5)
        return keras.Model(inp, layers.Concatenate()([m, r])), (6, 4, 2)

    def activations():
        inp = keras.Input((12,), batch_size=1)
        x = layers.Concatenate()([inp, layers.Dense(4)(inp)])
        x = layers.ReLU()(x)
        y = layers.Activation("hard_swish")(layers.Reshape((4, 4))(layers.Dense(16)(x)))
        z = layers.ReLU(6.0)(layers.Concatenate()([y, y]))
        return keras.Model(inp, layers.Concatenate()([layers.Flatten()(z), x])), (12,)

    return {"binary_and_unary": binary_and_unary, "reduce_and_move": reduce_and_move,
            "activations": activations}


def build_tensor_op_model(name: str, out_dir: Path, seed: int = 0) -> tuple[Path, tuple]:
    import keras

    keras.utils.set_random_seed(seed)
    model, shape = _tensor_op_models()[name]()
    _randomize(model, seed)
    return convert_float(model, out_dir / f"{name}_f32.tflite"), shape


TENSOR_OP_MODELS = ("binary_and_unary", "reduce_and_move", "activations")
