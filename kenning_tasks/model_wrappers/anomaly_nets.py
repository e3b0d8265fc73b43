"""PyTorch networks of Kenning's anomaly-detection wrappers (imported only when a stage runs).

Both take a window of standardised rows, shape (batch, window_size, features), like the
dataset's splits, and do the wrapper-side preprocessing of Kenning inside the graph (the VAE
flattens the window; the CNN scales it by 1/3 and adds a channel axis), so the model file's
input is what the host and the target feed it.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import nn

ACTIVATIONS = {
    "elu": lambda: nn.ELU(), "leaky_relu": lambda: nn.LeakyReLU(0.01), "relu": lambda: nn.ReLU(),
    "sigmoid": lambda: nn.Sigmoid(), "softmax": lambda: nn.Softmax(dim=1),
    "softplus": lambda: nn.Softplus(), "tanh": lambda: nn.Tanh(),
}


class Abs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(x)


CNN_ACTIVATIONS = {"ReLU": nn.ReLU, "Abs": Abs}


def linear_block(inputs: int, outputs: int, activation: str, batch_norm: bool,
                 dropout_rate: float) -> nn.Sequential:
    """Linear → (batch norm) → activation → (dropout), as pyod's LinearBlock."""
    layers: list[nn.Module] = [nn.Linear(inputs, outputs)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(outputs))
    layers.append(ACTIVATIONS[activation]())
    if dropout_rate > 0:
        layers.append(nn.Dropout(dropout_rate))
    return nn.Sequential(*layers)


class AnomalyDetectionVAE(nn.Module):
    """Kenning's VAE: encodes a flattened window and reconstructs its last row.

    ``forward`` returns the anomaly score, the Euclidean distance between the last row and its
    reconstruction from the latent mean (batch, 1); the threshold that turns it into a decision
    is kept in the ``threshold`` buffer and in the I/O spec rather than compared in the graph,
    so ROC/PR curves can be computed and the int8 model stays a plain regression.
    """

    def __init__(self, window_size: int, feature_size: int, encoder_neuron_list: list[int],
                 decoder_neuron_list: list[int], latent_dim: int, hidden_activation: str,
                 output_activation: str, batch_norm: bool, dropout_rate: float) -> None:
        super().__init__()
        self.window_size, self.feature_size = window_size, feature_size
        sizes = [window_size * feature_size, *encoder_neuron_list]
        self.encoder = nn.Sequential(*[
            linear_block(a, b, hidden_activation, batch_norm, dropout_rate)
            for a, b in itertools.pairwise(sizes)])
        sizes = [latent_dim, *decoder_neuron_list]
        self.decoder = nn.Sequential(*[
            linear_block(a, b, hidden_activation, batch_norm, dropout_rate)
            for a, b in itertools.pairwise(sizes)],
            linear_block(sizes[-1], feature_size, output_activation, False, 0.0))
        self.encoder_mu = nn.Linear(encoder_neuron_list[-1], latent_dim)
        self.encoder_logvar = nn.Linear(encoder_neuron_list[-1], latent_dim)
        self.register_buffer("threshold", torch.tensor(0.0))

    def reconstruct(self, flat: torch.Tensor, sample: bool) -> tuple[torch.Tensor, ...]:
        hidden = self.encoder(flat)
        mu, logvar = self.encoder_mu(hidden), self.encoder_logvar(hidden)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return self.decoder(z), mu, logvar

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], self.window_size * self.feature_size)
        recon, _, _ = self.reconstruct(flat, sample=False)
        last = flat[:, -self.feature_size:]
        return torch.sqrt(torch.sum(torch.square(recon - last), dim=1, keepdim=True))


def vae_loss(target: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float, capacity: float) -> torch.Tensor:
    """MSE + beta * KL divergence clamped to [0, capacity] (pyod's vae_loss, Kenning's VAE)."""
    kl = torch.mean(-0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1), dim=0)
    return nn.functional.mse_loss(recon, target) + beta * torch.clamp(kl, min=0, max=capacity)


class AnomalyDetectionCNN(nn.Module):
    """Kenning's anomaly-detection CNN: 2-D convolutions over (window, features), two logits."""

    def __init__(self, window_size: int, feature_size: int, **p: Any) -> None:
        super().__init__()
        channels = [1, *p["filters"]]
        layers: list[nn.Module] = []
        for inputs, outputs in itertools.pairwise(channels):
            layers.append(nn.Conv2d(inputs, outputs, p["kernel_size"], stride=p["conv_stride"],
                                    padding=p["conv_padding"], dilation=p["conv_dilation"]))
            if p["conv_batch_norm"]:
                layers.append(nn.BatchNorm2d(outputs, affine=p["conv_batch_norm"] == "Affine"))
            if p["conv_activation"]:
                layers.append(CNN_ACTIVATIONS[p["conv_activation"]]())
        if p["pooling"] == "Max":
            layers.append(nn.MaxPool2d(p["pool_size"], stride=p["pool_stride"],
                                       dilation=p["pool_dilation"]))
        elif p["pooling"] == "Avg":
            layers.append(nn.AvgPool2d(p["pool_size"], stride=p["pool_stride"]))
        self.features = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            flat = self.features(torch.zeros(1, 1, window_size, feature_size)).shape[1]
        neurons = [flat, *p["fc_neurons"], 2]
        fc: list[nn.Module] = []
        for inputs, outputs in itertools.pairwise(neurons):
            fc.append(nn.Linear(inputs, outputs))
            if p.get("fc_activation"):
                fc.append(CNN_ACTIVATIONS[p["fc_activation"]]())
        self.classifier = nn.Sequential(*fc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Kenning feeds (x - mean) / (3 std); the dataset already divided by std.
        return self.classifier(self.features((x / 3.0).unsqueeze(1)))


def xavier_linear(module: nn.Module) -> None:
    """Kenning's weight initialisation for both networks: Xavier-uniform Linear, zero bias."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)
