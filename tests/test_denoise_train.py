"""Training pairs from real recordings and a tiny training run (seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from backend.denoise.data import ArtifactSplit, PairSampler, clean_base, scale_to_snr, split_artifacts
from backend.denoise.inference import load_model
from backend.denoise.train import train


@pytest.fixture(scope="module")
def splits(physionet_recording):
    """Two short splits of the bundled PhysioNet run (first and second 40 s)."""
    raw = physionet_recording.raw.copy().load_data()
    return [
        split_artifacts(raw.copy().crop(0, 40), "first", n_components=10),
        split_artifacts(raw.copy().crop(40, 80), "second", n_components=10),
    ]


def test_split_reconstructs_the_signals(splits):
    dec = splits[0]
    assert dec.sfreq == 128.0
    assert dec.mixing.shape == (64, 10) and dec.sources.shape[0] == 10
    everything = dec.project(np.arange(10))
    # 10 components carry most of the variance of the ICA-ready signals
    assert np.mean((dec.data - everything) ** 2) < 0.5 * np.mean(dec.data**2)
    assert np.allclose(dec.probs.sum(axis=1), 1.0, atol=1e-4)


def test_split_round_trips(splits, tmp_path):
    dec = splits[0]
    dec.save(tmp_path / "d.npz")
    back = ArtifactSplit.load(tmp_path / "d.npz")
    assert back.ch_names == dec.ch_names
    a, b = back.project([0, 1]), dec.project([0, 1])
    assert np.max(np.abs(a - b)) < 1e-5 * np.max(np.abs(b))  # stored as float32


def test_snr_scaling():
    rng = np.random.default_rng(0)
    clean, art = rng.standard_normal((4, 1000)), 5 * rng.standard_normal((4, 1000))
    scaled = scale_to_snr(clean, art, -7.0)
    snr = 10 * np.log10(np.sqrt(np.mean(clean**2)) / np.sqrt(np.mean(scaled**2)))
    assert snr == pytest.approx(-7.0)


def test_pairs_have_montage_shapes(splits):
    sampler = PairSampler(splits, n_times=256, seed=3)
    noisy, clean, pos = sampler.batch(4)
    assert noisy.shape == clean.shape and noisy.shape[0] == 4 and noisy.shape[2] == 256
    assert 19 <= noisy.shape[1] <= 64 and pos.shape == noisy.shape[:2] + (3,)
    assert np.abs(noisy.mean(axis=1)).max() < 1e-9  # average-referenced, as at inference
    assert np.abs(noisy - clean).max() > 0.1 * np.abs(clean).max()
    assert np.isfinite(clean_base(splits[0])).all()


def test_injected_pairs_follow_the_snr(splits):
    """Windows with the Clean stage's injector artifacts sit in the sampler's SNR range."""
    sampler = PairSampler(
        splits,
        n_times=256,
        seed=4,
        art_fraction=0.0,
        injected_fraction=1.0,
        bank_size=8,
        snr_range=(-7.0, 2.0),
        min_chans=64,
    )
    snrs = []
    for _ in range(12):
        noisy, clean, _ = sampler.sample()
        if np.any(noisy != clean):
            snrs.append(10 * np.log10(np.sqrt(np.mean(clean**2)) / np.sqrt(np.mean((noisy - clean) ** 2))))
    assert len(snrs) >= 6
    # the average reference (taken after injection) moves the SNR a little off the drawn value
    assert -8.5 < min(snrs) and max(snrs) < 3.5


@pytest.mark.slow
def test_tiny_training_run_lowers_the_loss(splits, tmp_path):
    out = tmp_path / "tiny.pt"
    meta = train(
        splits[:1],
        splits[1:],
        out,
        max_steps=200,
        batch_size=4,
        threads=1,
        lr=3e-3,
        warmup=10,
        model_kwargs=dict(n_times=128, d_model=16, n_heads=2, n_layers=1, d_ff=32),
        log=lambda m: None,
    )
    history = meta["history"]
    assert out.exists() and json.loads(out.with_suffix(".json").read_text())["training"]["steps"] == 200
    assert (
        min(h["rrmse_t"] for h in history) < history[0]["rrmse_t_noisy"]
    )  # better than returning the input, on unseen data
    model = load_model(out)
    assert model.n_times == 128


def test_sampler_weights_lean_on_one_artifact_type(splits):
    """Blink-only injector weights give frontal artifacts (what an eye-weighted training stage draws)."""
    sampler = PairSampler(
        splits,
        n_times=256,
        seed=5,
        art_fraction=0.0,
        injected_fraction=1.0,
        bank_size=8,
        min_chans=64,
        inject_p=[0, 0, 0, 1, 0, 0, 0],
    )
    names = [n.strip(".").upper() for n in splits[0].ch_names]
    front = [names.index(n) for n in ("FP1", "FPZ", "FP2")]
    back = [names.index(n) for n in ("O1", "OZ", "O2")]
    energy = np.zeros(64)
    for _ in range(10):
        noisy, clean, _ = sampler.sample()
        energy += np.mean((noisy - clean) ** 2, axis=1)
    assert energy.sum() > 0 and energy[front].mean() > 3 * energy[back].mean()
    with pytest.raises(ValueError):
        PairSampler(splits, inject_p=[1, 0])  # one weight per injector group


def test_spectral_loss_term(splits):
    """The spectral term is zero for a perfect output, positive otherwise, and has gradients."""
    from backend.denoise.model import Denoiser
    from backend.denoise.train import _loss

    sampler = PairSampler(splits, n_times=128, seed=6, min_chans=64)
    noisy, clean, pos = (torch.from_numpy(a) for a in sampler.batch(3))
    model = Denoiser(n_times=128, d_model=16, n_heads=2, n_layers=1, d_ff=32)  # starts as the identity
    with torch.no_grad():
        assert float(_loss(model, clean, clean, pos, True, 1.0)) == pytest.approx(0.0, abs=1e-10)
    plain = _loss(model, noisy, clean, pos, True, 0.0)
    both = _loss(model, noisy, clean, pos, True, 0.5)
    assert both.item() > plain.item() > 0
    both.backward()
    assert model.embed.weight.grad is not None and torch.isfinite(model.embed.weight.grad).all()


def test_raw_input_windows_keep_the_recordings_own_artifacts(splits):
    """With raw_input_p=1 the input carries the recording's artifact components too; the target stays clean."""

    def diff(raw_input_p):
        sampler = PairSampler(
            splits,
            n_times=256,
            seed=7,
            art_fraction=0.0,
            injected_fraction=1.0,
            bank_size=4,
            min_chans=64,
            snr_range=(40.0, 40.1),
            raw_input_p=raw_input_p,
        )
        ratios = []
        for _ in range(6):
            noisy, clean, _ = sampler.sample()
            ratios.append(np.sqrt(np.mean((noisy - clean) ** 2) / np.mean(clean**2)))
        return np.median(ratios)

    assert diff(0.0) < 0.05  # injected artifacts at +40 dB are all that differs
    assert diff(1.0) > 0.2
