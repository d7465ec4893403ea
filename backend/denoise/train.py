"""Train the denoiser on ART-recipe and semi-synthetic pairs, for a bounded time, checkpointing."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from backend.denoise.data import MODEL_SFREQ, ArtifactSplit, PairSampler, split_files
from backend.denoise.model import Denoiser, n_parameters
from backend.errors import EEGError

DEFAULT_MODEL = dict(n_times=512, sfreq=MODEL_SFREQ, patch=32, d_model=64, n_heads=4, n_layers=2, d_ff=128)


def _loss(model: Denoiser, noisy, clean, pos, relative: bool = False, spectral: float = 0.0) -> torch.Tensor:
    """MSE on windows scaled by the noisy window's median channel std (as the model scales them);
    ``relative``: each window's squared error over its clean energy, i.e. the mean RRMSE_t², which
    weighs the windows an artifact dominates as much as the others. ``spectral`` > 0 adds that
    weight times the relative error of the Hann-tapered amplitude spectra (an RRMSE_s-like term)."""
    scale = noisy.std(dim=-1).median(dim=-1).values.clamp_min(1e-12)[:, None, None]
    out, target = model(noisy / scale, pos), clean / scale
    err = (out - target) ** 2
    if not relative:
        loss = err.mean()
    else:
        energy = target.pow(2).mean(dim=(1, 2))
        loss = (err.mean(dim=(1, 2)) / energy.clamp_min(1e-3)).mean()
    if spectral > 0:
        taper = torch.hann_window(out.shape[-1], dtype=out.dtype)
        amp_out, amp_clean = (torch.fft.rfft(a * taper).abs() for a in (out, target))
        spec_err = (amp_out - amp_clean).pow(2).mean(dim=(1, 2)) / amp_clean.pow(2).mean(dim=(1, 2)).clamp_min(1e-6)
        loss = loss + spectral * spec_err.mean()
    return loss


def validation_set(sampler: PairSampler, n_batches: int, batch_size: int):
    return [tuple(torch.from_numpy(a) for a in sampler.batch(batch_size)) for _ in range(n_batches)]


def _rms(a: torch.Tensor) -> torch.Tensor:
    """Root mean square of each example of a batch ``(n, channels, times)``."""
    return a.pow(2).mean(dim=(1, 2)).sqrt()


def evaluate(model: Denoiser, batches) -> dict:
    """Mean normalised MSE and RRMSE_t (output vs clean, relative to clean) over ``batches``."""
    model.eval()
    mse, rr, rr_none = [], [], []
    with torch.no_grad():
        for noisy, clean, pos in batches:
            out = model(noisy, pos)
            mse.append(float(_loss(model, noisy, clean, pos)))
            rr.append((_rms(out - clean) / _rms(clean)).mean().item())
            rr_none.append((_rms(noisy - clean) / _rms(clean)).mean().item())
    model.train()
    return {"mse": float(np.mean(mse)), "rrmse_t": float(np.mean(rr)), "rrmse_t_noisy": float(np.mean(rr_none))}


def train(
    train_splits,
    val_splits,
    out: Path,
    minutes: float = 30.0,
    batch_size: int = 12,
    lr: float = 1e-3,
    warmup: int = 200,
    seed: int = 0,
    threads: int = 2,
    model_kwargs: dict | None = None,
    log: Callable[[str], None] = print,
    max_steps: int | None = None,
    data_note: dict | None = None,
    init: Path | str | None = None,
    injected_fraction: float = 0.5,
    relative_loss: bool = False,
    snr_range=(-9.0, 4.0),
    sampler_kwargs: dict | None = None,
    spectral_loss: float = 0.0,
) -> dict:
    """Train for ``minutes`` (or ``max_steps``), keep the weights with the best validation RRMSE_t.

    ``spectral_loss`` weights the spectral term of :func:`_loss`.
    ``sampler_kwargs`` go to both :class:`PairSampler` (e.g. ``class_p``/``inject_p`` to weight one artifact type).
    Writes ``out`` (a plain state_dict) and ``out.with_suffix('.json')`` (model config,
    training data, schedule and metrics). Returns that JSON as a dict.
    """
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {**DEFAULT_MODEL, **(model_kwargs or {})}
    model = Denoiser(n_chans=64, **kwargs)
    if init:  # continue from earlier weights (same configuration)
        model.load_state_dict(torch.load(init, map_location="cpu", weights_only=True))
    sampler = PairSampler(
        train_splits,
        n_times=model.n_times,
        seed=seed,
        injected_fraction=injected_fraction,
        snr_range=snr_range,
        **(sampler_kwargs or {}),
    )
    val = validation_set(
        PairSampler(
            val_splits,
            n_times=model.n_times,
            seed=seed + 1,
            injected_fraction=injected_fraction,
            snr_range=snr_range,
            **(sampler_kwargs or {}),
        ),
        8,
        16,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    est_steps = max_steps or 10_000

    def lr_at(step):  # warm-up then cosine, as ART's Adam with warm-up
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, est_steps - warmup))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    start = time.monotonic()
    best = {"rrmse_t": float("inf")}
    history: list[dict] = []
    running: list[float] = []
    step = 0

    def write_meta() -> dict:
        meta = {
            "model": {**model.config},
            "parameters": n_parameters(model),
            "training": {
                "steps": step,
                "seconds": round(time.monotonic() - start, 1),
                "batch_size": batch_size,
                "lr": lr,
                "warmup": warmup,
                "threads": threads,
                "seed": seed,
                "device": "cpu",
                "init": str(init) if init else None,
                "injected_fraction": injected_fraction,
                "relative_loss": relative_loss,
                "spectral_loss": spectral_loss,
                "snr_range_db": list(snr_range),
                "sampler": sampler_kwargs or {},
                "train_recordings": [d.name for d in train_splits],
                "val_recordings": [d.name for d in val_splits],
                **(data_note or {}),
            },
            "best_validation": best,
            "history": history,
        }
        out.with_suffix(".json").write_text(json.dumps(meta, indent=1))
        return meta

    while True:
        elapsed = time.monotonic() - start
        if (max_steps is not None and step >= max_steps) or elapsed > minutes * 60:
            break
        if step == 50 and max_steps is None:  # now the pace is known, fit the schedule to the time budget
            est_steps = int(step * minutes * 60 / max(elapsed, 1e-3))
        noisy, clean, pos = (torch.from_numpy(a) for a in sampler.batch(batch_size))
        loss = _loss(model, noisy, clean, pos, relative_loss, spectral_loss)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running.append(loss.item())
        step += 1
        if step % 100 == 0 or (max_steps is not None and step == max_steps):
            metrics = evaluate(model, val)
            history.append(
                {
                    "step": step,
                    "seconds": round(time.monotonic() - start, 1),
                    "train_mse": round(float(np.mean(running)), 5),
                    **{k: round(v, 5) for k, v in metrics.items()},
                }
            )
            running = []
            log(json.dumps(history[-1]))
            if metrics["rrmse_t"] < best["rrmse_t"]:  # the benchmark's measure picks the checkpoint
                best = {**metrics, "step": step}
                torch.save(model.state_dict(), out)
                write_meta()  # a checkpoint is usable even if training is stopped
    if not history:
        raise EEGError("training stopped before its first checkpoint; give it more time or steps")
    return write_meta()


def train_from_folder(
    data: Path,
    out: Path,
    cache: Path | None = None,
    minutes: float = 30.0,
    held_out=("S009", "S010"),
    val_subjects=("S008",),
    max_steps: int | None = None,
    log: Callable[[str], None] = print,
    note: dict | None = None,
    **kwargs,
) -> dict:
    """Split the PhysioNet runs under ``data`` (cached) and train on all but held-out subjects.

    ``note`` is added to the JSON's ``training`` section (e.g. the command line that ran it)."""
    data = Path(data)
    root = data / "eegbci_physionet" if (data / "eegbci_physionet").is_dir() else data
    subjects = sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.edf")))
    if not subjects:
        raise EEGError(f"no subject folders with EDF files under {root}")
    train_s = [s for s in subjects if s not in held_out and s not in val_subjects]
    val_s = [s for s in subjects if s in val_subjects] or train_s[-1:]
    if not train_s:
        raise EEGError("no training subjects left after holding out the evaluation ones")
    cache = Path(cache) if cache else out.parent / "cache"

    def splits(subs):
        files = sorted(f for s in subs for f in (root / s).glob("*.edf"))
        return [ArtifactSplit.load(p) for p in split_files(files, cache, progress=log)]

    return train(
        splits(train_s),
        splits(val_s),
        out,
        minutes=minutes,
        max_steps=max_steps,
        log=log,
        data_note={"held_out_subjects": list(held_out), **(note or {})},
        **kwargs,
    )
