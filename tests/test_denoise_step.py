"""The `art` step on the bundled samples, the scikit-learn wrapper and the train-denoiser CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend import steps
from backend.cli import main
from backend.denoise.inference import CONFIG, DEFAULT_OVERLAP_S, ArtDenoiser, never_louder
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


def _band_power_db(rec, edges):
    spectrum = rec.raw.compute_psd(method="welch", fmin=0, fmax=edges[-1], picks="eeg", exclude="bads")
    f, power = spectrum.freqs, spectrum.get_data().mean(axis=0)
    return np.array([10 * np.log10(power[(f >= lo) & (f < hi)].sum()) for lo, hi in zip(edges[:-1], edges[1:])])


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["eeglab_recording", "physionet_recording"])
def test_art_adds_no_power_in_any_band(sample, request):
    """A denoiser subtracts: after a 1-40 Hz band-pass, no 5-Hz band of the output is more than
    1 dB above the input's (the network's own floor once lifted 50-65 Hz by 22-24 dB)."""
    rec = request.getfixturevalue(sample).apply("bandpass", l_freq=1.0, h_freq=40.0).apply("reref", ref="average")
    edges = np.arange(0.0, rec.raw.info["sfreq"] / 2 + 1e-9, 5.0)
    rise = _band_power_db(rec.apply("art"), edges) - _band_power_db(rec, edges)
    assert rise.max() <= 1.0, dict(zip(edges[:-1], rise.round(1)))
    assert rise[(edges[:-1] >= 5) & (edges[:-1] < 30)].min() > -3.0  # and the EEG band is kept


def test_never_louder_caps_each_time_frequency_bin():
    rng = np.random.default_rng(0)
    sfreq, n = 100.0, 3000
    t = np.arange(n) / sfreq
    data = np.sin(2 * np.pi * 10 * t)[None] + 0.01 * rng.standard_normal((2, n))
    noisy = (
        data - 0.5 * np.sin(2 * np.pi * 10 * t)[None] + 0.3 * rng.standard_normal((2, n))
    )  # halves 10 Hz, adds noise
    capped = never_louder(data, noisy, sfreq)
    assert capped.shape == data.shape

    def spectrum(x):
        return np.abs(np.fft.rfft(x * np.hanning(n), axis=1)) ** 2

    f = np.fft.rfftfreq(n, 1 / sfreq)
    broadband = (f > 20) & (f < 45)
    assert spectrum(capped)[:, broadband].sum() < 1.5 * spectrum(data)[:, broadband].sum()
    assert spectrum(noisy)[:, broadband].sum() > 100 * spectrum(data)[:, broadband].sum()
    # What was removed stays removed: the 10-Hz line keeps about half its amplitude.
    line = np.argmin(np.abs(f - 10))
    assert np.sqrt(spectrum(capped)[:, line] / spectrum(data)[:, line]) == pytest.approx(0.5, abs=0.05)


def test_mask_weights_each_bins_removal_by_the_artifacts_share_over_the_montage():
    """With ``mask``, a bin the estimate calls mostly artifact over the montage is removed almost
    whole on every channel, the far one where the artifact is faint beside the EEG included,
    while a small removal from a bin the montage calls signal is shrunk (a Wiener mask built
    from the estimate itself, pooled over channels)."""
    sfreq, n = 128.0, 128 * 30
    t = np.arange(n) / sfreq
    signal_10hz = np.sin(2 * np.pi * 10 * t)
    brain_3hz = np.cos(2 * np.pi * 3 * t)  # on the far channel, in the artifact's band
    blink_3hz = np.sin(2 * np.pi * 3 * t)
    artifact = np.vstack([4 * blink_3hz, 0.3 * blink_3hz])  # fading with distance
    clean = np.vstack([signal_10hz, signal_10hz + brain_3hz])
    data = clean + artifact
    estimate = data - artifact - 0.3 * signal_10hz  # all the artifact and 30 % of the 10-Hz signal

    def amplitude(x, freq, phase=np.sin):
        return 2 * np.mean(x * phase(2 * np.pi * freq * t), axis=-1)  # the part in step with the sine

    plain = never_louder(data, estimate, sfreq)
    masked = never_louder(data, estimate, sfreq, mask=True)
    assert amplitude(plain, 10) == pytest.approx([0.7, 0.7], abs=0.02)
    # gain at 10 Hz: 0.3² / (0.3² + 0.7²) = 0.155 on both channels, so 0.3 · 0.155 = 0.047 of the signal goes
    assert amplitude(masked, 10) == pytest.approx([1 - 0.3 * 0.155] * 2, abs=0.02)
    # 3 Hz: Σ removed² / Σ total² = 4.3² / (4.3² + 1) ≈ 0.95 of the artifact goes on both channels,
    # where the far channel alone (0.3² / (0.3² + 1) = 0.08) would have kept nearly all of it
    assert (np.abs(amplitude(masked, 3)) < [0.1 * 4, 0.1 * 0.3]).all(), amplitude(masked, 3)
    assert amplitude(masked, 3, np.cos)[1] == pytest.approx(1.0, abs=0.02)  # the far channel's brain stays


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


@pytest.mark.parametrize(
    "n_channels, n_times, sfreq", [(3, 3000, 100.0), (2, 201, 256.0), (9, 2500, 160.0), (2, 9, 256.0)]
)
def test_never_louder_is_scipys_stft_cap(n_channels, n_times, sfreq):
    """The float32 transform is scipy's stft/istft (odd window lengths and channel chunks included)."""
    from scipy.signal import istft, stft

    rng = np.random.default_rng(1)
    data = 1e-5 * rng.standard_normal((n_channels, n_times))
    cleaned = 0.5 * data + 3e-6 * rng.standard_normal((n_channels, n_times))
    nperseg = min(n_times, 1 << int(np.ceil(np.log2(sfreq))))
    kw = dict(nperseg=nperseg, noverlap=nperseg // 2)
    _, _, before = stft(data, boundary="even", padded=True, **kw)
    _, _, after = stft(cleaned, boundary="even", padded=True, **kw)
    louder = np.abs(after) > np.abs(before)
    after[louder] *= np.abs(before[louder]) / np.abs(after[louder])
    expected = istft(after, boundary=True, **kw)[1][..., :n_times]
    got = never_louder(data, cleaned, sfreq, chunk=4)
    assert got.dtype == np.float64 and got.shape == data.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize(
    "n_times, to, frm", [(19680, 128.0, 160.0), (15744, 160.0, 128.0), (10000, 128.0, 250.0), (10, 128.0, 512.0)]
)
def test_resample_keeps_the_time_axis(n_times, to, frm):
    """A sine resampled is the same sine sampled at the new rate, not one shifted by part of a sample."""
    from backend.denoise.inference import _resample

    t = np.arange(n_times) / frm
    x = np.vstack([np.sin(2 * np.pi * f * t + f) for f in (3.0, 17.0, 35.0)]) * 1e-5
    got = _resample(x, to, frm)
    assert got.dtype == np.float64 and got.shape == (3, int(round(n_times * to / frm)))
    if n_times < 1000:
        return
    t_new = np.arange(got.shape[1]) / to
    ideal = np.vstack([np.sin(2 * np.pi * f * t_new + f) for f in (3.0, 17.0, 35.0)]) * 1e-5
    inner = slice(int(to), -int(to))  # a second from each edge, where the reflection guesses
    # MNE's FFT resampling with npad="auto" (used before) is off by part of a sample: at 35 Hz its
    # largest error is 20 % of the amplitude in the first case, 100 % in the third
    np.testing.assert_allclose(got[:, inner], ideal[:, inner], rtol=0, atol=0.01 * 1e-5)
