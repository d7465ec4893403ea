"""The ART-style denoiser network: a small transformer over (channel, time-patch) tokens.

Unlike ART's fixed 30-channel input, every channel is a token sequence of its own whose
embedding includes its 3-D electrode position, so one network serves any montage
(19–128 channels) without spherical-spline mapping. Attention alternates along time
(within a channel) and across channels (within a time patch), which keeps the cost
linear in the number of channels times patches instead of quadratic in their product.
The network predicts the artifact and subtracts it (residual learning), so clean
stretches pass through nearly untouched.
"""

from __future__ import annotations

import math

import torch
from torch import nn

HEAD_RADIUS_M = 0.095  # positions are divided by this so the scalp sits near the unit sphere


class PositionEmbedding(nn.Module):
    """Fourier features of 3-D electrode positions, projected to ``d_model``."""

    freqs: torch.Tensor  # a buffer, registered in __init__

    def __init__(self, d_model: int, n_freqs: int = 6):
        super().__init__()
        self.register_buffer(
            "freqs", (2.0 ** torch.arange(n_freqs, dtype=torch.float32)) * math.pi / 2, persistent=False
        )
        self.proj = nn.Sequential(nn.Linear(3 + 6 * n_freqs, d_model), nn.GELU(), nn.Linear(d_model, d_model))

    def forward(self, pos: torch.Tensor) -> torch.Tensor:  # (B, C, 3) metres
        p = pos / HEAD_RADIUS_M
        angles = (p[..., None] * self.freqs).flatten(-2)
        return self.proj(torch.cat([p, angles.sin(), angles.cos()], dim=-1))


class Denoiser(nn.Module):
    """Transformer denoiser for windows of multichannel EEG.

    Parameters
    ----------
    n_chans : int | None
        Channels the network was trained with most often; informative only, since any
        count works (channels are tokens with positional embeddings).
    n_times : int
        Samples per window at ``sfreq``; must be a multiple of ``patch``.
    sfreq : float
        Sampling rate the network works at, Hz.
    patch : int
        Samples per time token.
    d_model, n_heads, n_layers, d_ff : int
        Transformer size; ``n_layers`` counts (time, channel) attention pairs.
    dropout : float
    """

    def __init__(
        self,
        n_chans: int | None = None,
        n_times: int = 512,
        sfreq: float = 128.0,
        patch: int = 32,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        d_ff: int = 128,
        dropout: float = 0.0,
    ):
        super().__init__()
        if n_times % patch:
            raise ValueError(f"n_times ({n_times}) must be a multiple of patch ({patch})")
        self.config = dict(
            n_chans=n_chans,
            n_times=n_times,
            sfreq=sfreq,
            patch=patch,
            d_model=d_model,
            n_heads=n_heads,
            n_layers=n_layers,
            d_ff=d_ff,
            dropout=dropout,
        )
        self.n_chans, self.n_times, self.sfreq, self.patch = n_chans, n_times, float(sfreq), patch
        n_patches = n_times // patch
        self.embed = nn.Linear(patch, d_model)
        self.time_pos = nn.Parameter(torch.randn(n_patches, d_model) * 0.02)
        self.chan_pos = PositionEmbedding(d_model)

        def layer():
            return nn.TransformerEncoderLayer(
                d_model, n_heads, d_ff, dropout, activation="gelu", batch_first=True, norm_first=True
            )

        self.time_layers = nn.ModuleList(layer() for _ in range(n_layers))
        self.chan_layers = nn.ModuleList(layer() for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, patch)
        # Smooths the artifact estimate across patch borders (a learned FIR per output).
        self.smooth = nn.Conv1d(1, 1, 9, padding=4, bias=False)
        nn.init.zeros_(self.unembed.weight)
        nn.init.zeros_(self.unembed.bias)
        with torch.no_grad():
            self.smooth.weight.zero_()
            self.smooth.weight[0, 0, 4] = 1.0

    def artifact(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """The predicted artifact of normalised windows ``x`` (B, C, T) at positions ``pos`` (B, C, 3)."""
        b, c, t = x.shape
        n = t // self.patch
        tokens = self.embed(x.reshape(b, c, n, self.patch)) + self.time_pos + self.chan_pos(pos)[:, :, None, :]
        d = tokens.shape[-1]
        for time_layer, chan_layer in zip(self.time_layers, self.chan_layers):
            tokens = time_layer(tokens.reshape(b * c, n, d)).reshape(b, c, n, d)
            tokens = chan_layer(tokens.transpose(1, 2).reshape(b * n, c, d)).reshape(b, n, c, d).transpose(1, 2)
        out = self.unembed(self.norm(tokens)).reshape(b * c, 1, t)
        return self.smooth(out).reshape(b, c, t)

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Denoise windows ``x`` (B, C, n_times), in volts or any unit: the output has the input's.

        Each window is centred per channel and scaled by its median channel standard
        deviation before the network, and the scaling is undone after it.
        """
        mean = x.mean(dim=-1, keepdim=True)
        centred = x - mean
        scale = centred.std(dim=-1).median(dim=-1).values.clamp_min(1e-12)[:, None, None]
        z = centred / scale
        return (z - self.artifact(z, pos)) * scale + mean


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
