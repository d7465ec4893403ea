"""The `art` step on the bundled samples, the scikit-learn wrapper and the train-denoiser CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend import steps
from backend.cli import main
from backend.denoise.inference import CONFIG, DEFAULT_OVERLAP_S, ArtDenoiser
from backend.errors import EEGError
from backend.recipe import to_script


def test_art_step_on_eeglab_sample(eeglab_recording):
    rec = eeglab_recording
    out = rec.apply("art")
    before, after = rec.raw.get_data(), out.raw.get_data()
    assert after.shape == before.shape
    assert np.isfinite(after).all()
    step = out.history[-1]
    assert step.name == "art" and step.report["channels_denoised"] >= 19
    # It removes something (eye blinks are plentiful here) but keeps most of the signal.
    assert 0.01 < step.report["removed_rms_fraction"] < 0.9
    # The removed part lies mostly in the frontal channels (eye blinks), not the occipital ones
    removed = np.sqrt(np.mean((before - after) ** 2, axis=1))
    names = rec.raw.ch_names
    frontal = [names.index(n) for n in ("Fpz", "F3", "Fz", "F4")]
    occipital = [names.index(n) for n in ("O1", "Oz", "O2")]
    assert removed[frontal].mean() > 2 * removed[occipital].mean()
    # EOG channels are not EEG: left as recorded
    eog = [names.index(n) for n in ("EOG1", "EOG2")]
    assert np.array_equal(before[eog], after[eog])
    assert "art" in to_script(out)


def test_wrapper_matches_step_and_reports_progress(physionet_recording):
    from backend.recording import Step

    # 30 s keep it quick; the cut is not a registered step, which the step path does not need
    rec = physionet_recording.with_raw(physionet_recording.raw.copy().crop(0, 30), Step("crop", {"tmax": 30}))
    seen = []
    out = ArtDenoiser(progress=seen.append).fit(rec).transform(rec)
    via_step = rec.apply("art")
    assert np.allclose(out.raw.get_data(), via_step.raw.get_data())
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    assert out.history[-1].params == {"overlap_s": DEFAULT_OVERLAP_S}


def test_art_step_refuses_bad_overlap_and_too_few_channels(eeglab_recording):
    with pytest.raises(EEGError, match="overlap"):
        eeglab_recording.apply("art", overlap_s=5)
    few = eeglab_recording.apply("set_bads", bads=eeglab_recording.raw.ch_names[:-6])
    with pytest.raises(EEGError, match="at least"):
        few.apply("art")


def test_art_is_registered():
    assert steps.get("art").summary


def test_train_denoiser_cli_refuses_missing_folder(tmp_path, capsys):
    code = main(["train-denoiser", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "w.pt")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_train_denoiser_cli_refuses_folder_without_subjects(tmp_path, capsys):
    code = main(["train-denoiser", "--data", str(tmp_path), "--out", str(tmp_path / "w.pt"), "--max-steps", "1"])
    assert code == 2
    assert "no subject folders" in capsys.readouterr().err


def test_train_denoiser_cli_defaults_are_the_shipped_weights_settings(tmp_path):
    """Without options the CLI trains with the sampler, loss and schedule the shipped weights' last stage used."""
    from backend.cli import build_parser

    args = build_parser().parse_args(["train-denoiser", "--data", str(tmp_path), "--out", str(tmp_path / "w.pt")])
    shipped = json.loads(CONFIG.read_text())
    training = shipped["training"]
    assert [float(v) for v in args.class_p.split(",")] == training["sampler"]["class_p"]
    assert [float(v) for v in args.inject_p.split(",")] == training["sampler"]["inject_p"]
    assert [float(v) for v in args.snr_range.split(",")] == training["snr_range_db"]
    assert (args.lr, args.warmup, args.batch_size, args.seed) == (
        training["lr"],
        training["warmup"],
        training["batch_size"],
        training["seed"],
    )
    assert args.injected_fraction == training["injected_fraction"]
    assert args.spectral_loss == training.get("spectral_loss", 0.0)
    assert args.raw_input_p == training["sampler"].get("raw_input_p", 0.0)
    assert args.d_model == shipped["model"]["d_model"] and (not args.mse_loss) == training["relative_loss"]


def test_train_denoiser_cli_refuses_bad_sampler_weights(tmp_path, capsys):
    (tmp_path / "S001").mkdir()
    code = main(["train-denoiser", "--data", str(tmp_path), "--out", str(tmp_path / "w.pt"), "--class-p", "1,2"])
    assert code == 2
    assert "--class-p needs 5" in capsys.readouterr().err
