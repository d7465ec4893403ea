"""A compact ShallowConvNet (Schirrmeister et al., 2017) in torch, with a scikit-learn wrapper.

Our own small implementation (braindecode would add a dependency for one model). The network
mirrors braindecode's ShallowFBCSPNet: temporal convolution, spatial convolution across all
channels, squaring, average pooling, log, dropout, linear read-out. The constructor names the
data it expects (``n_chans``, ``n_times``, ``n_outputs``) so a shape mismatch fails early.
Training is short and CPU-only: a fixed number of epochs of Adam on the whole (small) training set.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from torch import nn

from backend.errors import EEGError


class ShallowConvNet(nn.Module):
    """ShallowConvNet for trials of shape ``(n_chans, n_times)``.

    Parameters
    ----------
    n_chans, n_times, n_outputs : int
        Channels, samples per trial, classes.
    sfreq : float
        Sampling rate in Hz; kernel and pooling lengths scale with it (set at 250 Hz in the paper).
    n_filters : int
        Temporal and spatial filters.
    dropout : float
    """

    def __init__(
        self,
        n_chans: int,
        n_times: int,
        n_outputs: int,
        sfreq: float = 160.0,
        n_filters: int = 20,
        dropout: float = 0.5,
    ):
        super().__init__()
        self.n_chans, self.n_times = n_chans, n_times
        scale = sfreq / 250.0
        kernel = max(3, int(round(25 * scale)))
        pool = max(4, int(round(75 * scale)))
        stride = max(2, int(round(15 * scale)))
        if n_times < kernel + pool:
            raise EEGError(f"trials of {n_times} samples are too short for the CNN; use a longer epoch window")
        self.temporal = nn.Conv2d(1, n_filters, (1, kernel))
        self.spatial = nn.Conv2d(n_filters, n_filters, (n_chans, 1), bias=False)
        self.norm = nn.BatchNorm2d(n_filters)
        self.pool = nn.AvgPool2d((1, pool), stride=(1, stride))
        self.dropout = nn.Dropout(dropout)
        n_out_times = (n_times - kernel + 1 - pool) // stride + 1
        self.classify = nn.Linear(n_filters * n_out_times, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of shape ``(batch, n_chans, n_times)`` → class logits ``(batch, n_outputs)``."""
        if x.shape[1:] != (self.n_chans, self.n_times):
            raise EEGError(
                f"the CNN expects trials of {self.n_chans} channels × {self.n_times} samples, got {tuple(x.shape[1:])}"
            )
        h = self.norm(self.spatial(self.temporal(x.unsqueeze(1))))
        h = torch.log(torch.clamp(self.pool(h * h), min=1e-6))
        return self.classify(self.dropout(h.flatten(1)))


class ShallowConvNetClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn wrapper: ``fit(X, y)``, ``predict_proba(X)`` on trials in volts.

    Each trial is scaled per channel by the training set's standard deviation (kept in
    ``scale_``), so inputs are of order one whatever the amplifier's gain.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    n_epochs : int
        Passes over the training set (kept small: CPU only).
    lr : float
        Adam learning rate.
    batch_size : int
    seed : int
        Seed of weight initialisation and batch order, for reproducible folds.
    """

    def __init__(self, sfreq=160.0, n_epochs=60, lr=1e-3, batch_size=16, n_filters=20, seed=0):
        self.sfreq = sfreq
        self.n_epochs = n_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.n_filters = n_filters
        self.seed = seed

    def _tensor(self, X):
        return torch.as_tensor(np.asarray(X) / self.scale_[None, :, None], dtype=torch.float32)

    def build(self, n_chans: int, n_times: int, n_outputs: int) -> ShallowConvNet:
        """The untrained network for these shapes (also used to restore saved weights)."""
        return ShallowConvNet(n_chans, n_times, n_outputs, sfreq=self.sfreq, n_filters=self.n_filters)

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.scale_ = X.std(axis=(0, 2)) + 1e-12
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        self.module_ = self.build(X.shape[1], X.shape[2], len(self.classes_))
        data, target = self._tensor(X), torch.as_tensor(y_index, dtype=torch.long)
        optimizer = torch.optim.AdamW(self.module_.parameters(), lr=self.lr, weight_decay=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        with torch.set_grad_enabled(True):
            self.module_.train()
            for _ in range(int(self.n_epochs)):
                order = torch.randperm(len(data), generator=generator)
                for start in range(0, len(data), self.batch_size):
                    batch = order[start : start + self.batch_size]
                    if len(batch) < 2:  # batch norm needs two trials
                        continue
                    optimizer.zero_grad()
                    loss_fn(self.module_(data[batch]), target[batch]).backward()
                    optimizer.step()
        self.module_.eval()
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            logits = self.module_(self._tensor(X))
        return torch.softmax(logits, dim=1).numpy().astype(float)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
