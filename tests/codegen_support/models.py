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


# -- models shaped like the four MLPerf Tiny reference networks (random weights; for speed and
# bit-exactness figures, benchmarks/target.py --mlperf) ----------------------------------------

def fc_autoencoder():
    """Anomaly detection (ToyADMOS): 640 -> 4x128 -> 8 -> 4x128 -> 640, 264k MACs."""
    import keras
    from keras import layers

    inp = keras.Input((640,), batch_size=1)
    x = inp
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = layers.Dense(units, activation="relu")(x)
    return keras.Model(inp, layers.Dense(640)(x)), (640,)


def resnet8():
    """Image classification (CIFAR-10, 32x32x3): 3 residual stacks of 16/32/64, 12.5M MACs."""
    import keras
    from keras import layers

    inp = keras.Input((32, 32, 3), batch_size=1)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        if stride != 1:
            x = layers.Conv2D(filters, 1, strides=stride)(x)
        x = layers.ReLU()(layers.Add()([x, y]))
    x = layers.AveragePooling2D(8)(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Softmax()(layers.Dense(10)(x))), (32, 32, 3)


def ds_cnn():
    """Keyword spotting (49x10 MFCC): conv 10x4/2, 4 depthwise-separable blocks of 64, 2.7M MACs."""
    import keras
    from keras import layers

    inp = keras.Input((49, 10, 1), batch_size=1)
    x = layers.Conv2D(64, (10, 4), strides=2, padding="same", activation="relu")(inp)
    for _ in range(4):
        x = layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = layers.Conv2D(64, 1, activation="relu")(x)
    x = layers.AveragePooling2D((25, 5))(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Softmax()(layers.Dense(12)(x))), (49, 10, 1)


def mobilenet_v1_025():
    """Visual wake words: MobileNetV1 width 0.25 at 96x96x3, 2 classes, 7.5M MACs."""
    import keras
    from keras import layers

    inp = keras.Input((96, 96, 3), batch_size=1)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
    for filters, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1),
                            (128, 1), (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 1, activation="relu")(x)
    x = layers.AveragePooling2D(3)(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Softmax()(layers.Dense(2)(x))), (96, 96, 3)


MLPERF_TINY: dict[str, Callable] = {
    "fc_autoencoder": fc_autoencoder, "resnet8": resnet8, "ds_cnn": ds_cnn,
    "mobilenet_v1_0.25": mobilenet_v1_025,
}


def build_mlperf_tiny(name: str, out_dir: Path, seed: int = 0) -> Path:
    """One of MLPERF_TINY with seeded random weights, converted to full int8."""
    import keras

    keras.utils.set_random_seed(seed)
    model, shape = MLPERF_TINY[name]()
    # Small weights keep the activations in range through the deep stacks.
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            fan_in = int(np.prod(weights[0].shape[:-1])) or 1
            layer.set_weights([rng.normal(0, 1.0 / np.sqrt(fan_in), w.shape).astype(np.float32)
                               for w in weights])
    return convert_int8(model, shape, out_dir / f"{name}.tflite", seed)
