"""Randomised one-kernel Keras models (seeded) for the bit-exact kernel tests.

Each builder draws shapes and layer options from ``rng``; quantisation parameters vary through
the random weight scale and the random (often asymmetric) calibration input range.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class OpCase:
    name: str
    model: Any
    input_shape: tuple[int, ...]
    input_range: tuple[float, float]
    float_io: bool = False


def _input_range(rng: np.random.Generator) -> tuple[float, float]:
    lo = -rng.uniform(0.05, 4.0) if rng.random() < 0.8 else rng.uniform(0.0, 0.5)
    return lo, lo + rng.uniform(0.2, 6.0)


def _randomize(model: Any, rng: np.random.Generator) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            scale = rng.uniform(0.05, 1.5)
            layer.set_weights([rng.normal(0.0, scale, w.shape).astype(np.float32)
                               for w in weights])


def _activation(rng: np.random.Generator) -> str | None:
    return [None, "relu", "relu6"][int(rng.integers(0, 3))]


def conv2d(rng: np.random.Generator) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(3, 10, 2))
    c = int(rng.integers(1, 6))
    k = int(rng.integers(1, 4))
    stride = int(rng.integers(1, 3))
    dilation = 2 if stride == 1 and k > 1 and rng.random() < 0.3 and min(h, w) > 5 else 1
    inp = keras.Input((h, w, c), batch_size=1)
    out = keras.layers.Conv2D(int(rng.integers(1, 20)), k, strides=stride,
                              dilation_rate=dilation,
                              padding=["same", "valid"][int(rng.integers(0, 2))],
                              activation=_activation(rng),
                              use_bias=bool(rng.random() < 0.8))(inp)
    return OpCase("conv2d", keras.Model(inp, out), (h, w, c), _input_range(rng))


def depthwise_conv2d(rng: np.random.Generator) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(3, 9, 2))
    c = int(rng.integers(1, 6))
    inp = keras.Input((h, w, c), batch_size=1)
    out = keras.layers.DepthwiseConv2D(int(rng.integers(1, 4)),
                                       strides=int(rng.integers(1, 3)),
                                       depth_multiplier=int(rng.integers(1, 3)),
                                       padding=["same", "valid"][int(rng.integers(0, 2))],
                                       activation=_activation(rng))(inp)
    return OpCase("depthwise_conv2d", keras.Model(inp, out), (h, w, c), _input_range(rng))


def fully_connected(rng: np.random.Generator) -> OpCase:
    import keras

    shape: tuple[int, ...] = (int(rng.integers(1, 70)),)
    if rng.random() < 0.3:
        shape = (int(rng.integers(2, 4)), *shape)  # several rows: FC with batches > 1
    inp = keras.Input(shape, batch_size=1)
    out = keras.layers.Dense(int(rng.integers(1, 40)), activation=_activation(rng),
                             use_bias=bool(rng.random() < 0.8))(inp)
    return OpCase("fully_connected", keras.Model(inp, out), shape, _input_range(rng))


def _pool(rng: np.random.Generator, layer_cls: Any, name: str) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(2, 10, 2))
    c = int(rng.integers(1, 6))
    k = int(rng.integers(1, min(h, w, 3) + 1))
    inp = keras.Input((h, w, c), batch_size=1)
    out = layer_cls(k, strides=int(rng.integers(1, 3)),
                    padding=["same", "valid"][int(rng.integers(0, 2))])(inp)
    return OpCase(name, keras.Model(inp, out), (h, w, c), _input_range(rng))


def max_pool2d(rng: np.random.Generator) -> OpCase:
    import keras

    return _pool(rng, keras.layers.MaxPooling2D, "max_pool2d")


def average_pool2d(rng: np.random.Generator) -> OpCase:
    import keras

    return _pool(rng, keras.layers.AveragePooling2D, "average_pool2d")


def add(rng: np.random.Generator) -> OpCase:
    """Residual add of two differently scaled branches (different scales on both inputs)."""
    import keras

    h, w = (int(v) for v in rng.integers(2, 7, 2))
    c = int(rng.integers(1, 6))
    inp = keras.Input((h, w, c), batch_size=1)
    branch = keras.layers.Conv2D(c, 1, activation=_activation(rng))(inp)
    out = keras.layers.Add()([inp, branch])
    if rng.random() < 0.5:
        out = keras.layers.ReLU(max_value=6.0)(out)
    # A range straddling zero: a one-sided one can give a degenerate output scale for which
    # TFLite Micro's ADD prepare aborts the process (output multiplier > 1).
    input_range = (-rng.uniform(0.3, 4.0), rng.uniform(0.3, 4.0))
    return OpCase("add", keras.Model(inp, out), (h, w, c), input_range)


def softmax(rng: np.random.Generator) -> OpCase:
    import keras

    shape: tuple[int, ...] = (int(rng.integers(2, 40)),)
    if rng.random() < 0.3:
        shape = (int(rng.integers(2, 4)), *shape)
    inp = keras.Input(shape, batch_size=1)
    out = keras.layers.Softmax()(inp)
    lo = -rng.uniform(0.5, 30.0)
    return OpCase("softmax", keras.Model(inp, out), shape, (lo, lo + rng.uniform(1.0, 40.0)))


def quantize_dequantize(rng: np.random.Generator) -> OpCase:
    """Float I/O: the converter adds QUANTIZE at the input and DEQUANTIZE at the output."""
    import keras

    n = int(rng.integers(2, 30))
    inp = keras.Input((n,), batch_size=1)
    out = keras.layers.Dense(int(rng.integers(1, 20)), activation=_activation(rng))(inp)
    return OpCase("quantize_dequantize", keras.Model(inp, out), (n,), _input_range(rng),
                  float_io=True)


BUILDERS = [conv2d, depthwise_conv2d, fully_connected, max_pool2d, average_pool2d, add, softmax,
            quantize_dequantize]


def convert(case: OpCase, out: Path, rng: np.random.Generator) -> Path:
    import tensorflow as tf

    _randomize(case.model, rng)
    lo, hi = case.input_range
    samples = rng.uniform(lo, hi, size=(24, 1, *case.input_shape)).astype(np.float32)

    def representative():
        for sample in samples:
            yield [sample]

    conv = tf.lite.TFLiteConverter.from_keras_model(case.model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    io_type = tf.float32 if case.float_io else tf.int8
    conv.inference_input_type = io_type
    conv.inference_output_type = io_type
    out.write_bytes(conv.convert())
    return out


# -- the ops real TinyML models add (tests/test_kernels.py::test_more_ops_match_tflm) --------
# Element-wise ops take a 256-value input so that every int8 value can be fed at once.

def _unary(rng: np.random.Generator, name: str, layer: Any, input_range=None) -> OpCase:
    import keras

    inp = keras.Input((256,), batch_size=1)
    return OpCase(name, keras.Model(inp, layer(inp)), (256,), input_range or _input_range(rng))


def tanh(rng: np.random.Generator) -> OpCase:
    import keras

    return _unary(rng, "tanh", keras.layers.Activation("tanh"))


def logistic(rng: np.random.Generator) -> OpCase:
    import keras

    return _unary(rng, "logistic", keras.layers.Activation("sigmoid"))


def relu(rng: np.random.Generator) -> OpCase:
    import keras

    return _unary(rng, "relu", keras.layers.ReLU())


def relu6(rng: np.random.Generator) -> OpCase:
    import keras

    return _unary(rng, "relu6", keras.layers.ReLU(6.0), (-3.0, 9.0))


def leaky_relu(rng: np.random.Generator) -> OpCase:
    import keras

    return _unary(rng, "leaky_relu", keras.layers.LeakyReLU(float(rng.uniform(0.05, 0.5))))


def hard_swish(rng: np.random.Generator) -> OpCase:
    import keras

    return _unary(rng, "hard_swish", keras.layers.Activation("hard_swish"), (-5.0, 5.0))


def _two_branches(rng: np.random.Generator, name: str, merge: Any) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(2, 6, 2))
    c = int(rng.integers(1, 5))
    inp = keras.Input((h, w, c), batch_size=1)
    a = keras.layers.Conv2D(c, 1)(inp)
    b = keras.layers.Conv2D(c, 1, activation="relu")(inp)
    return OpCase(name, keras.Model(inp, merge([a, b])), (h, w, c), (-2.0, 2.0))


def mul(rng: np.random.Generator) -> OpCase:
    import keras

    return _two_branches(rng, "mul", keras.layers.Multiply())


def sub(rng: np.random.Generator) -> OpCase:
    import keras

    return _two_branches(rng, "sub", keras.layers.Subtract())


def concatenation(rng: np.random.Generator) -> OpCase:
    import keras

    return _two_branches(rng, "concatenation", keras.layers.Concatenate(axis=-1))


def mean(rng: np.random.Generator) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(2, 8, 2))
    c = int(rng.integers(1, 9))
    inp = keras.Input((h, w, c), batch_size=1)
    x = keras.layers.Conv2D(c, 1)(inp)
    out = keras.layers.GlobalAveragePooling2D()(x)
    return OpCase("mean", keras.Model(inp, out), (h, w, c), _input_range(rng))


def pad(rng: np.random.Generator) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(2, 6, 2))
    c = int(rng.integers(1, 5))
    inp = keras.Input((h, w, c), batch_size=1)
    x = keras.layers.Conv2D(c, 1)(inp)
    out = keras.layers.ZeroPadding2D(((1, 2), (0, 1)))(x)
    return OpCase("pad", keras.Model(inp, out), (h, w, c), _input_range(rng))


def transpose(rng: np.random.Generator) -> OpCase:
    import keras

    h, w = (int(v) for v in rng.integers(2, 7, 2))
    inp = keras.Input((h, w), batch_size=1)
    x = keras.layers.Dense(w)(inp)
    out = keras.layers.Permute((2, 1))(x)
    return OpCase("transpose", keras.Model(inp, out), (h, w), _input_range(rng))


def _rank_input(rng: np.random.Generator) -> tuple[Any, Any, tuple[int, ...]]:
    """A 2-, 3- or 4-D activation (batch 1 included) behind a layer with its own quantization:
    (the Keras input, the activation, the input shape without the batch)."""
    import keras

    rank = int(rng.integers(2, 5))
    shape = tuple(int(v) for v in rng.integers(1, 7, rank - 1))
    shape = (*shape[:-1], max(shape[-1], 2))
    inp = keras.Input(shape, batch_size=1)
    layer = keras.layers.Conv2D(shape[-1], 1) if rank == 4 else keras.layers.Dense(shape[-1])
    return inp, layer(inp), shape


def slice_(rng: np.random.Generator) -> OpCase:
    """SLICE (keras.ops.slice) of a random box of a 2- to 4-D tensor."""
    import keras

    inp, x, shape = _rank_input(rng)
    begin = [0] + [int(rng.integers(0, d)) for d in shape]
    size = [1] + [int(rng.integers(1, d - b + 1)) for d, b in zip(shape, begin[1:],
                                                                   strict=True)]
    out = keras.ops.slice(x, begin, size)
    return OpCase("slice", keras.Model(inp, out), shape, _input_range(rng))


def sum_(rng: np.random.Generator) -> OpCase:
    """SUM (keras.ops.sum) over one or two random axes of a 2- to 4-D tensor, keepdims or not;
    the output's own scale makes TFLite requantize the int32 sums."""
    import keras

    inp, x, shape = _rank_input(rng)
    axes = sorted({int(a) for a in rng.choice(np.arange(1, len(shape) + 1),
                                              size=min(len(shape), int(rng.integers(1, 3))),
                                              replace=False)})
    out = keras.ops.sum(x, axis=tuple(axes), keepdims=bool(rng.random() < 0.5))
    return OpCase("sum", keras.Model(inp, out), shape, _input_range(rng))


MORE_BUILDERS = [tanh, logistic, relu, relu6, leaky_relu, hard_swish, mul, sub, concatenation,
                 mean, pad, transpose, slice_, sum_]
