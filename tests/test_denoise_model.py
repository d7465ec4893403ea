"""The denoiser network and its windowing: shapes, montages, cross-fade, loading, training."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from backend.channels import channel_positions, standard_montage
from backend.denoise.inference import (
    CONFIG,
    WEIGHTS,
    crossfade_weights,
    denoise_array,
    load_model,
    run_windows,
    window_starts,
)
from backend.denoise.model import Denoiser


def _positions(names):
    pos = standard_montage().get_positions()["ch_pos"]
    return np.array([pos[n] for n in names])


NAMES_64 = [n for n in standard_montage().ch_names if n not in ("T3", "T4", "T5", "T6", "A1", "A2", "M1", "M2")][:64]


@pytest.mark.parametrize("n_chans", [19, 32, 64, 128])
def test_forward_keeps_shape_for_any_channel_count(n_chans):
    model = Denoiser(n_chans=32, n_times=256, patch=32).eval()
    names = standard_montage().ch_names[:n_chans]
    pos = torch.as_tensor(_positions(names), dtype=torch.float32)[None].expand(3, -1, -1)
    x = torch.randn(3, n_chans, 256)
    with torch.no_grad():
        y = model(x, pos)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


def test_output_scales_with_input():
    """Normalisation inside the model: volts in, volts out, for any amplitude."""
    torch.manual_seed(0)
    model = Denoiser(n_times=128, patch=32).eval()
    with torch.no_grad():
        for p in model.unembed.parameters():
            p.normal_(0, 0.1)
    x = torch.randn(2, 20, 128, dtype=torch.float32)
    pos = torch.as_tensor(_positions(NAMES_64[:20]), dtype=torch.float32)[None].expand(2, -1, -1)
    with torch.no_grad():
        y1 = model(x * 1e-5, pos)
        y2 = model(x, pos)
    assert torch.allclose(y1 / 1e-5, y2, rtol=1e-3, atol=1e-4)
    assert not torch.allclose(y2, x, atol=1e-3)  # the perturbed network does change the signal


def test_crossfade_weights_sum_to_one():
    n_times, n_overlap = 512, 128
    w = crossfade_weights(n_times, n_overlap)
    total = np.zeros(n_times * 5)
    for s in range(0, len(total) - n_times + 1, n_times - n_overlap):
        total[s : s + n_times] += w
    inner = total[n_overlap : len(total) - n_times]
    assert np.allclose(inner, 1.0, atol=1e-12)
    assert w.min() > 0


def test_window_starts_cover_the_end():
    assert window_starts(1000, 512, 384) == [0, 384, 488]
    assert window_starts(300, 512, 384) == [0]


@pytest.mark.parametrize("n_samples", [100, 512, 1000, 5003])
def test_identity_network_returns_input(n_samples):
    """Window/cross-fade path with an identity network gives back the input within 1e-6 (relative)."""
    rng = np.random.default_rng(1)
    data = rng.standard_normal((24, n_samples)) * 2e-5
    out = run_windows(lambda x, pos: x, data, np.zeros((24, 3)), 512, 128, batch_size=3)
    assert out.shape == data.shape
    assert np.max(np.abs(out - data)) <= 1e-6 * np.max(np.abs(data))


def test_denoise_array_resamples_back_and_keeps_reference():
    """At another rate the output has the input's length; the removed part sums to zero across channels."""
    model = load_model()
    rng = np.random.default_rng(2)
    names = NAMES_64[:32]
    data = rng.standard_normal((32, 160 * 9)) * 1e-5 + 3e-5  # a common offset the reference must keep
    out = denoise_array(model, data, 160.0, _positions(names))
    assert out.shape == data.shape
    removed = data - out
    # band-limiting at 64 Hz also removes a little of the white noise; the offset stays
    assert np.allclose(out.mean(), data.mean(), rtol=0.05)
    assert np.abs(removed.mean(axis=0)).max() < 0.2 * np.abs(removed).max()


def test_shipped_model_loads_fast_and_matches_config():
    t = time.perf_counter()
    model = load_model(WEIGHTS, CONFIG)
    assert time.perf_counter() - t < 2.0
    meta = json.loads(CONFIG.read_text())
    assert model.config == meta["model"]
    assert WEIGHTS.stat().st_size < 5 * 1024 * 1024
    assert not set(meta["training"]["train_recordings"]) & {
        f"{s}R{r}" for s in ("S009", "S010") for r in ("04", "08", "12")
    }


def test_positions_from_names_and_file(physionet_recording):
    raw = physionet_recording.raw
    pos = channel_positions(raw.ch_names, raw.info, prefer="template")
    assert pos.shape == (64, 3)
    assert np.isfinite(pos).all()
    # Same electrode, same coordinates, whatever the recording: the template's.
    assert np.allclose(pos[raw.ch_names.index("Cz")], standard_montage().get_positions()["ch_pos"]["Cz"])


def test_montages_denoise_consistently(physionet_recording):
    """The same channels denoised within the full 64 and as a 19-channel montage agree broadly."""
    model = load_model()
    raw = physionet_recording.raw.copy().load_data().crop(0, 20).filter(1, 40)
    names = [
        "Fp1",
        "Fp2",
        "F7",
        "F3",
        "Fz",
        "F4",
        "F8",
        "T7",
        "C3",
        "Cz",
        "C4",
        "T8",
        "P7",
        "P3",
        "Pz",
        "P4",
        "P8",
        "O1",
        "O2",
    ]
    full = raw.get_data()
    sub = [raw.ch_names.index(n) for n in names]
    pos = channel_positions(raw.ch_names, raw.info, prefer="template")
    out_full = denoise_array(model, full, raw.info["sfreq"], pos)[sub]
    x19 = full[sub] - full[sub].mean(0)
    out_19 = denoise_array(model, x19, raw.info["sfreq"], pos[sub])
    ref_full = out_full - out_full.mean(0)
    corr = np.corrcoef(ref_full.ravel(), out_19.ravel())[0, 1]
    assert out_19.shape == (19, full.shape[1])
    assert corr > 0.8


def test_common_mode_of_a_local_artifact_is_recovered():
    """A blink-like field that fades to ~0 away from its source: its common mode in the input's
    reference comes back from the network's average-referenced artifact (here with some of the
    brain signal mistaken for artifact, as a network does) and the input's channel mean; the
    brain's own common mode is not taken for it."""
    from backend.denoise.inference import common_mode_artifact

    rng = np.random.default_rng(1)
    n_chans, n_times, sfreq = 32, 128 * 60, 128.0
    topo = np.exp(-np.linspace(0, 6, n_chans))  # strong at the front, ~0 at the back
    course = np.zeros(n_times)
    for start in rng.integers(0, n_times - 40, 20):
        course[start : start + 40] += np.hanning(40)
    art = 1e-4 * topo[:, None] * course  # 100 µV at the front
    brain = 1e-5 * (rng.standard_normal((n_chans, n_times)) + 0.5 * rng.standard_normal(n_times))  # its own common mode
    leak = 0.3 * (brain - brain.mean(axis=0))
    channel_mean = (brain + art).mean(axis=0)
    est = common_mode_artifact(art - art.mean(axis=0) + leak, channel_mean, sfreq)
    truth = art.mean(axis=0)
    assert np.sqrt(np.mean((est - truth) ** 2) / np.mean(truth**2)) < 0.15
    no_artifact = common_mode_artifact(leak, brain.mean(axis=0), sfreq)
    assert np.sqrt(np.mean(no_artifact**2) / np.mean(brain.mean(axis=0) ** 2)) < 0.05
    assert not np.any(
        common_mode_artifact(art - art.mean(axis=0), np.zeros(n_times), sfreq)
    )  # average-referenced input
