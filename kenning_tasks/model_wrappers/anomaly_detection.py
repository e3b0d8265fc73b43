"""Kenning's anomaly-detection model wrappers, PyTorch, trained here (seeded, deterministic) or
loaded from ``model_path`` (a state dict of the same architecture, ``pretrained.py``).

- ``PyTorchAnomalyDetectionVAE``: a VAE reconstructing the last row of a window; its anomaly
  score is the reconstruction distance and the threshold is the ``1 - contamination``
  percentile of the train split's distances (contamination = the train split's anomaly share),
  as Kenning's ``calibrate_threshold``.
- ``PyTorchAnomalyDetectionCNN``: a small 2-D CNN giving normal/anomaly logits.

Parameter names and defaults are Kenning's (``arguments_structure`` of v0.8.2). Kenning trains
without a seed; ``seed`` here makes the model bytes the same every time. The threshold is not
compared inside the graph (Kenning's VAE outputs 0/1): the model outputs the distance and the
threshold travels in the I/O spec, so ROC-AUC/PR-AUC can be measured.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from kenning_tasks import iospec
from kenning_tasks.datasets.base import load_splits
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.model_wrappers.base import (
    KENNING_WRAPPER_PARAMETERS,
    KenningModelWrapper,
    kenning_training_parameters,
)
from kenning_tasks.params import Param

NETS = "kenning_tasks.model_wrappers.anomaly_nets"
_ACTIVATIONS = ("elu", "leaky_relu", "relu", "sigmoid", "softmax", "softplus", "tanh")
_COMMON = (
    *KENNING_WRAPPER_PARAMETERS,
    Param("export_dict", bool, False, "Kenning saves only the state dict when true; here the "
          "model file always holds the architecture and the state dict"),
    Param("evaluate", bool, True, "log validation-split metrics after each epoch (Kenning "
          "uses the test split; here it is never seen in training)"),
    *kenning_training_parameters(None, None, None),
)


class _AnomalyWrapper(KenningModelWrapper):
    FORMAT = "torch"
    PRETRAINED_FORMATS = ("torch",)  # Kenning's .pth: a state dict of this architecture
    NET: ClassVar[str] = ""
    _NET_KEYS: ClassVar[tuple[str, ...]] = ()
    REQUIRES = ("torch", "numpy", "scikit-learn")
    MODULES = (NETS, "kenning_tasks.model_wrappers.torch_training",
               "kenning_tasks.model_wrappers.torch", "kenning_tasks.datasets.base")

    def _spec(self, dataset_info: dict[str, Any]) -> dict[str, Any]:
        window, features = dataset_info["input_shape"]
        return {"window_size": window, "feature_size": features,
                **{k: self.parameters[k] for k in self._NET_KEYS}}

    def torch_architecture(self, dataset_info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"{NETS}:{self.NET}", self._spec(dataset_info)

    def _log_epoch(self, log: Callable[[str], None], epoch: int, loss: float,
                   validation: dict[str, float] | None) -> None:
        extra = "".join(f" val_{k}={v:.4f}" for k, v in (validation or {}).items())
        log(f"epoch {epoch + 1}/{self.parameters['num_epochs']} loss={loss:.6f}{extra}")


class PyTorchAnomalyDetectionVAE(_AnomalyWrapper):
    """Kenning's VAE for anomaly detection in time series (PyTorch)."""

    NET = "AnomalyDetectionVAE"
    _NET_KEYS = ("encoder_neuron_list", "decoder_neuron_list", "latent_dim",
                 "hidden_activation", "output_activation", "batch_norm", "dropout_rate")

    PARAMETERS = (
        Param("encoder_neuron_list", list, [16, 8], "dense layer sizes of the encoder",
              item_type=int),
        Param("decoder_neuron_list", list, [16, 32], "dense layer sizes of the decoder",
              item_type=int),
        Param("latent_dim", int, 2, "dimensions of the latent layer", minimum=1, maximum=4096),
        Param("hidden_activation", str, "relu", "activation of hidden layers",
              enum=_ACTIVATIONS),
        Param("output_activation", str, "sigmoid", "activation of the output layer",
              enum=("sigmoid", "tanh")),
        Param("batch_norm", bool, False, "batch normalisation in hidden layers"),
        Param("dropout_rate", float, 0.0, "dropout rate (0 disables it)", minimum=0.0,
              maximum=0.99),
        Param("loss_beta", float, 1.0, "VAE loss: scale of the KL divergence"),
        Param("loss_capacity", float, 0.0, "VAE loss: upper limit of the KL divergence",
              minimum=0.0),
        Param("clip_grad_max_norm", float, 2.0, "max norm for gradient clipping", minimum=0.0),
        *_COMMON,
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        super().check(parameters, where)
        for key in ("encoder_neuron_list", "decoder_neuron_list"):
            sizes = parameters[key]
            if not sizes or min(sizes) < 1:
                raise ScenarioError(f"{where}.{key}: expected a non-empty list of positive "
                                    f"sizes, got {sizes}")

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        import numpy as np
        import torch

        from kenning_tasks.model_wrappers import anomaly_nets as nets
        from kenning_tasks.model_wrappers.torch_training import (
            batches,
            deterministic_torch,
            save_torch,
        )

        p = self.parameters
        splits = load_splits(splits_path)
        features = dataset_info["input_shape"][1]
        spec = self._spec(dataset_info)
        history: dict[str, list[float]] = {"loss": []}
        with deterministic_torch(p["seed"]) as generator:
            model = nets.AnomalyDetectionVAE(**spec)
            model.apply(nets.xavier_linear)
            optimizer = torch.optim.Adam(model.parameters(), lr=p["learning_rate"])
            x_train = torch.from_numpy(splits["x_train"]).reshape(len(splits["x_train"]), -1)
            batch_size = self.training_batch_size(dataset_info)
            for epoch in range(p["num_epochs"]):
                model.train()
                total = 0.0
                for batch in batches(len(x_train), batch_size, generator):
                    flat = x_train[batch]
                    optimizer.zero_grad()
                    recon, mu, logvar = model.reconstruct(flat, sample=True)
                    loss = nets.vae_loss(flat[:, -features:], recon, mu, logvar,
                                         p["loss_beta"], p["loss_capacity"])
                    if not torch.isfinite(loss):
                        raise StageError(f"train: VAE loss became {loss.item()} in epoch "
                                         f"{epoch + 1}; lower learning_rate")
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), p["clip_grad_max_norm"])
                    optimizer.step()
                    total += loss.item() * len(batch)
                history["loss"].append(total / len(x_train))
                validation = None
                if p["evaluate"] and len(splits["y_val"]):
                    self._calibrate(model, splits)
                    validation = _anomaly_scores(model, splits["x_val"], splits["y_val"])
                    for key, value in validation.items():
                        history.setdefault(f"val_{key}", []).append(value)
                self._log_epoch(log, epoch, history["loss"][-1], validation)
            threshold = self._calibrate(model, splits)
        log(f"anomaly threshold {threshold:.6f} (train-split distances, contamination "
            f"{float(np.mean(splits['y_train'] > 0)):.4f})")
        save_torch(out_model, f"{NETS}:AnomalyDetectionVAE", spec, model)
        history["threshold"] = [threshold]
        return history

    def output_size(self, dataset_info: dict[str, Any]) -> int:
        return 1  # the reconstruction distance

    def install_pretrained(self, source: Path, dataset_info: dict[str, Any], out_model: Path,
                           log: Callable[[str], None], splits_path: Path | None = None
                           ) -> dict[str, Any]:
        """A given VAE keeps the threshold in its ``threshold`` buffer; a state dict without
        one (0) is calibrated on the train split, as Kenning's ``calibrate_threshold``."""
        from kenning_tasks.model_wrappers.torch import load_torch
        from kenning_tasks.model_wrappers.torch_training import save_torch

        super().install_pretrained(source, dataset_info, out_model, log)
        model = load_torch(out_model)
        self._threshold = float(model.threshold)
        if self._threshold <= 0.0 and splits_path is not None:
            threshold = self._calibrate(model, load_splits(splits_path))
            log(f"anomaly threshold {threshold:.6f} calibrated on the train split "
                f"({source.name} has none)")
            save_torch(out_model, *self.torch_architecture(dataset_info), model)
        return {"threshold": [self._threshold]}

    def _calibrate(self, model: Any, splits: dict[str, Any]) -> float:
        """Kenning's calibrate_threshold on the train split; stores and returns it."""
        import numpy as np
        import torch

        model.eval()
        with torch.no_grad():
            distances = model(torch.from_numpy(splits["x_train"])).numpy().reshape(-1)
        contamination = float(np.mean(splits["y_train"] > 0))
        threshold = np.float32(np.percentile(distances, 100 * (1 - contamination)))
        model.threshold.fill_(float(threshold))
        self._threshold = float(threshold)
        return self._threshold

    def io_spec(self, dataset_info: dict[str, Any]) -> tuple[list, list, dict[str, Any]]:
        inputs, _, extra = super().io_spec(dataset_info)
        outputs = [iospec.tensor("distances", [1, 1], "float32")]
        return inputs, outputs, {**extra, "anomaly": {"score": "distance",
                                                      "threshold": self._threshold}}


class PyTorchAnomalyDetectionCNN(_AnomalyWrapper):
    """Kenning's CNN for anomaly detection in time series (PyTorch)."""

    PARAMETERS = (
        Param("filters", list, [8, 16], "filters of each convolution layer", item_type=int),
        Param("kernel_size", int, 3, "kernel size of all convolutions", enum=(1, 3)),
        Param("conv_padding", int, 0, "padding of all convolutions", minimum=0, maximum=64),
        Param("conv_stride", int, 1, "stride of all convolutions", minimum=1, maximum=64),
        Param("conv_dilation", int, 1, "dilation of all convolutions", minimum=1, maximum=64),
        Param("conv_activation", str, None, "activation after each convolution",
              enum=("ReLU", "Abs"), nullable=True),
        Param("conv_batch_norm", str, None, "batch normalisation after each convolution",
              enum=("Affine", "NoAffine"), nullable=True),
        Param("pooling", str, None, "pooling after the last convolution", enum=("Max", "Avg"),
              nullable=True),
        Param("pool_size", int, 1, "pooling kernel size", minimum=1, maximum=64),
        Param("pool_stride", int, 1, "pooling stride", minimum=1, maximum=64),
        Param("pool_dilation", int, 1, "pooling dilation (max pooling only)", minimum=1,
              maximum=64),
        Param("fc_neurons", list, [16, 8, 4], "sizes of the hidden fully connected layers",
              item_type=int),
        *_COMMON,
    )
    NET = "AnomalyDetectionCNN"
    _NET_KEYS = ("filters", "kernel_size", "conv_padding", "conv_stride", "conv_dilation",
                 "conv_activation", "conv_batch_norm", "pooling", "pool_size", "pool_stride",
                 "pool_dilation", "fc_neurons")

    def output_size(self, dataset_info: dict[str, Any]) -> int:
        return 2  # normal / anomaly logits

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        import torch

        from kenning_tasks.model_wrappers import anomaly_nets as nets
        from kenning_tasks.model_wrappers.torch_training import (
            batches,
            deterministic_torch,
            save_torch,
        )

        p = self.parameters
        splits = load_splits(splits_path)
        window, features = dataset_info["input_shape"]
        spec = self._spec(dataset_info)
        history: dict[str, list[float]] = {"loss": []}
        with deterministic_torch(p["seed"]) as generator:
            try:
                model = nets.AnomalyDetectionCNN(**spec)
            except RuntimeError as failure:  # a window too small for the convolutions
                raise StageError(f"model_wrapper PyTorchAnomalyDetectionCNN: the convolutions "
                                 f"do not fit a {window}×{features} window "
                                 f"({str(failure).splitlines()[0]}); raise window_size or "
                                 "conv_padding") from None
            model.apply(nets.xavier_linear)
            optimizer = torch.optim.Adam(model.parameters(), lr=p["learning_rate"])
            loss_fn = torch.nn.CrossEntropyLoss()
            x_train = torch.from_numpy(splits["x_train"])
            y_train = torch.from_numpy(splits["y_train"])
            batch_size = self.training_batch_size(dataset_info)
            for epoch in range(p["num_epochs"]):
                model.train()
                total = 0.0
                for batch in batches(len(x_train), batch_size, generator):
                    optimizer.zero_grad()
                    loss = loss_fn(model(x_train[batch]), y_train[batch])
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(batch)
                history["loss"].append(total / len(x_train))
                validation = None
                if p["evaluate"] and len(splits["y_val"]):
                    validation = _anomaly_scores(model, splits["x_val"], splits["y_val"])
                    for key, value in validation.items():
                        history.setdefault(f"val_{key}", []).append(value)
                self._log_epoch(log, epoch, history["loss"][-1], validation)
        model.eval()
        save_torch(out_model, f"{NETS}:AnomalyDetectionCNN", spec, model)
        return history

    def io_spec(self, dataset_info: dict[str, Any]) -> tuple[list, list, dict[str, Any]]:
        inputs, _, extra = super().io_spec(dataset_info)
        outputs = [iospec.tensor("distances", [1, 2], "float32")]
        return inputs, outputs, {**extra, "anomaly": {"score": "logits"}}


def _anomaly_scores(model: Any, x: Any, y: Any) -> dict[str, float]:
    """F1 and ROC-AUC of a model's decisions on a split (validation progress lines)."""
    import numpy as np
    import torch

    from kenning_tasks import metrics

    model.eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(x)).numpy()
    kind = "distance" if scores.shape[1] == 1 else "logits"
    spec = {"anomaly": {"score": kind, "threshold": float(getattr(model, "threshold", 0.0))}}
    result = metrics.anomaly_metrics(np.asarray(y), scores, spec)["anomaly_metrics"]
    return {"f1": result["f1"], "roc_auc": result["roc_auc"] or float("nan")}
