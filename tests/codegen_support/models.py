"""Tiny Keras models converted to full-int8 .tflite files for the runtime/codegen tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np


def convert_int8(model, sample_shape: tuple[int, ...], out: Path, seed: int = 0) -> Path:
    """Convert a batch-1 Keras model to a full-int8 .tflite with a random representative set."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(32):
            yield [rng.uniform(-1.0, 1.0, size=(1, *sample_shape)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    out.write_bytes(conv.convert())
    return out


def _randomize(model, seed: int) -> None:
    # Untrained Keras init leaves biases at zero; random biases exercise the bias path too.
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in weights])


def digits_cnn():
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 1), batch_size=1)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(10)(x)
    out = layers.Softmax()(x)
    return keras.Model(inp, out), (8, 8, 1)


def mlp():
    import keras
    from keras import layers

    inp = keras.Input((40,), batch_size=1)
    x = layers.Dense(24, activation="relu")(inp)
    x = layers.Dense(16, activation="relu")(x)
    out = layers.Dense(10)(x)
    return keras.Model(inp, out), (40,)


def cnn1d():
    import keras
    from keras import layers

    inp = keras.Input((40, 1), batch_size=1)
    x = layers.Conv1D(8, 5, padding="same", activation="relu")(inp)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(12, 3, strides=2, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(10)(x)
    out = layers.Softmax()(x)
    return keras.Model(inp, out), (40, 1)


def mixed():
    """Depthwise conv, average pooling, a residual add and ReLU6 in one graph."""
    import keras
    from keras import layers

    inp = keras.Input((10, 10, 3), batch_size=1)
    x = layers.Conv2D(6, 3, strides=2, padding="same")(inp)
    x = layers.ReLU(6.0)(x)
    y = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=1, activation="relu6")(x)
    x = layers.Add()([x, y])
    x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    out = layers.Dense(5)(x)
    return keras.Model(inp, out), (10, 10, 3)


EXAMPLES: dict[str, Callable] = {"digits": digits_cnn, "mlp": mlp, "cnn1d": cnn1d, "mixed": mixed}


def build_example(name: str, out_dir: Path, seed: int = 0) -> Path:
    import keras

    keras.utils.set_random_seed(seed)
    model, shape = EXAMPLES[name]()
    _randomize(model, seed)
    return convert_int8(model, shape, out_dir / f"{name}.tflite", seed)


def conv_layer(h: int, w: int, c: int, filters: int, k: int):
    """One CONV_2D (SAME, ReLU) for kernel benchmarks."""
    import keras

    inp = keras.Input((h, w, c), batch_size=1)
    out = keras.layers.Conv2D(filters, k, padding="same", activation="relu")(inp)
    return keras.Model(inp, out), (h, w, c)


def dense_layer(n_in: int, n_out: int):
    """One FULLY_CONNECTED (ReLU) for kernel benchmarks."""
    import keras

    inp = keras.Input((n_in,), batch_size=1)
    return keras.Model(inp, keras.layers.Dense(n_out, activation="relu")(inp)), (n_in,)
