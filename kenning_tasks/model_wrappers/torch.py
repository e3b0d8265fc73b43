"""PyTorch models mirroring the Keras ones; saved as a .pt holding architecture + weights."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.datasets.base import load_splits
from kenning_tasks.errors import StageError
from kenning_tasks.model_wrappers.base import ModelWrapper
from kenning_tasks.model_wrappers.torch_training import deterministic_torch


class TorchModel(ModelWrapper):
    """PyTorch (CPU), trained deterministically; saved as .pt (architecture + state dict)."""

    FORMAT = "torch"
    REQUIRES = ("torch", "numpy")
    MODULES = ("kenning_tasks.datasets.base",)

    def torch_architecture(self, dataset_info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return f"{__name__}:build_model", self._spec(dataset_info)

    def _spec(self, dataset_info: dict[str, Any]) -> dict[str, Any]:
        return {"architecture": self.architecture(dataset_info["kind"]),
                "input_shape": list(dataset_info["input_shape"]),
                "classes": len(dataset_info["class_names"])}

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        import numpy as np
        import torch

        p = self.parameters
        # One thread as well: the trained bytes must not depend on the core count (a shared
        # run cache serves them to every machine).
        with deterministic_torch(p["seed"]) as generator:
            splits = load_splits(splits_path)
            spec = self._spec(dataset_info)
            model = build_model(**spec)
            optimizer = torch.optim.Adam(model.parameters(), lr=p["learning_rate"])
            loss_fn = torch.nn.CrossEntropyLoss()
            x_train = torch.from_numpy(splits["x_train"])
            y_train = torch.from_numpy(splits["y_train"])
            history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_accuracy": []}
            for epoch in range(p["epochs"]):
                model.train()
                order = torch.randperm(len(y_train), generator=generator)
                total_loss = 0.0
                for start in range(0, len(order), p["batch_size"]):
                    batch = order[start:start + p["batch_size"]]
                    optimizer.zero_grad()
                    # The network ends in softmax (like the Keras one); train on its log.
                    probabilities = model(x_train[batch])
                    loss = loss_fn(torch.log(probabilities + 1e-12), y_train[batch])
                    loss.backward()
                    optimizer.step()
                    total_loss += loss.item() * len(batch)
                model.eval()
                with torch.no_grad():
                    train_acc = float((model(x_train).argmax(1) == y_train).float().mean())
                    val_acc = float("nan")
                    if len(splits["y_val"]):
                        val_pred = model(torch.from_numpy(splits["x_val"])).argmax(1).numpy()
                        val_acc = float(np.mean(val_pred == splits["y_val"]))
                history["loss"].append(total_loss / len(y_train))
                history["accuracy"].append(train_acc)
                history["val_accuracy"].append(val_acc)
                log(f"epoch {epoch + 1}/{p['epochs']} accuracy={train_acc:.4f} "
                    f"loss={history['loss'][-1]:.4f} val_accuracy={val_acc:.4f}")
            buffer = io.BytesIO()
            torch.save({"spec": spec, "state_dict": model.state_dict()}, buffer)
            artifacts.write_bytes(out_model, buffer.getvalue())
            return history


def build_model(architecture: str, input_shape: list[int], classes: int) -> Any:
    """A torch.nn.Module taking channels-last input, like the Keras networks."""
    import torch
    from torch import nn

    class ChannelsLastNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if architecture == "cnn":
                height, width, channels = input_shape
                self.features = nn.Sequential(
                    nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
                flat = 16 * (height // 4) * (width // 4)
            elif architecture == "conv1d":
                steps, channels = input_shape
                self.features = nn.Sequential(
                    nn.Conv1d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
                    nn.Flatten())
                flat = 16 * (steps // 2)
            else:
                flat = 1
                for size in input_shape:
                    flat *= size
                self.features = nn.Sequential(nn.Flatten(), nn.Linear(flat, 64), nn.ReLU())
                flat = 64
            self.head = nn.Sequential(nn.Linear(flat, 32), nn.ReLU(), nn.Linear(32, classes),
                                      nn.Softmax(dim=1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if architecture == "cnn":
                x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW
            elif architecture == "conv1d":
                x = x.permute(0, 2, 1)  # NTC -> NCT
            return self.head(self.features(x))

    return ChannelsLastNet()


def load_torch(path: Path) -> Any:
    """Rebuild a saved model: ``builder`` names its architecture (TorchModel's when absent)."""
    import torch

    from kenning_tasks.registry import load_object

    saved = torch.load(path, weights_only=True)
    builder = saved.get("builder", "")
    if builder and not builder.startswith("kenning_tasks.model_wrappers."):
        raise StageError(f"{path}: unknown architecture builder {builder!r}")
    build = load_object(builder) if builder else build_model
    model = build(**saved["spec"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model
