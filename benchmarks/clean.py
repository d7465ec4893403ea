"""Benchmark of the cleaning methods on known truth (semi-synthetic, EEGdenoiseNet protocol).

Usage::

    python benchmarks/clean.py                # full run (2 recordings x 3 artifacts x 4 SNRs)
    python benchmarks/clean.py --quick        # one recording, SNR -7 and 2 dB
    python benchmarks/clean.py --methods none,asr --snrs -7,-1

Data: real 32-channel EEG from ``../shared/data`` (or $EEG_SHARED_DATA): the EEGLAB
tutorial recording (30 EEG + 2 EOG electrodes, all used as scalp channels) and
PhysioNet motor-imagery runs S001R04 (and with --recordings 3 or 4, S002R04,
S003R04; the 32 channels of a 10-20 cap picked from their 64). From each, the quietest 60 s, band-passed 1–80 Hz below
Nyquist, is the clean signal x; seeded artifacts n are added, y = x + λn, with λ
set so that SNR = 10·log10(RMS(x)/RMS(λn)) (:mod:`backend.clean.inject`).

Each method is a pipeline of registered steps run on y; its output f(y) is scored
against x (:mod:`backend.clean.metrics`): RRMSE in time, RRMSE of the Welch
spectrum, correlation, percent of the artifact removed, and the seconds of compute
per minute of 32-channel data. A step registered as ``art`` (the transformer
denoiser) is benchmarked too when it exists. Prints tables, then one JSON object
on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRETCH_S = 60.0
SNRS_DB = (-7.0, -4.0, -1.0, 2.0)
ARTIFACTS = ("eye", "muscle", "mixed")
CAP_32 = [
    "Fp1",
    "Fp2",
    "AF3",
    "AF4",
    "F7",
    "F3",
    "Fz",
    "F4",
    "F8",
    "FC5",
    "FC1",
    "FC2",
    "FC6",
    "T7",
    "C3",
    "Cz",
    "C4",
    "T8",
    "CP5",
    "CP1",
    "CP2",
    "CP6",
    "P7",
    "P3",
    "Pz",
    "P4",
    "P8",
    "PO3",
    "PO4",
    "O1",
    "Oz",
    "O2",
]
METHODS = {
    "none": [],
    "band-pass 1-40 Hz": [{"name": "bandpass", "params": {"l_freq": 1.0, "h_freq": 40.0}}],
    "ASR (cutoff 20)": [{"name": "asr", "params": {"cutoff": 20.0}}],
    "band-pass + ASR": [
        {"name": "bandpass", "params": {"l_freq": 1.0, "h_freq": 40.0}},
        {"name": "asr", "params": {"cutoff": 20.0}},
    ],
    "ICA + ICLabel": [{"name": "ica_iclabel", "params": {}}],
}
TRANSFORMER = ("transformer (ART)", [{"name": "art", "params": {}}])


def shared_data() -> Path:
    for candidate in (os.environ.get("EEG_SHARED_DATA"), ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate, "README.md").exists():
            return Path(candidate)
    sys.exit("error: ../shared/data not found (set EEG_SHARED_DATA)")


def recordings(data: Path, n: int):
    """(label, Raw) of the 32-channel recordings the benchmark uses."""
    from backend.io import load_recording

    eeglab = load_recording([data / "eeglab_sample/eeglab_data.set", data / "eeglab_sample/eeglab_data.fdt"]).raw
    eeglab = eeglab.copy().load_data().set_channel_types({"EOG1": "eeg", "EOG2": "eeg"}, on_unit_change="ignore")
    out = [("EEGLAB tutorial", eeglab)]
    for subject in ("S001", "S002", "S003"):
        raw = load_recording([data / f"eegbci_physionet/{subject}/{subject}R04.edf"]).raw
        out.append((f"PhysioNet {subject}R04", raw.copy().pick(CAP_32).load_data()))
    return out[:n]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one recording, SNR -7 and 2 dB")
    parser.add_argument("--recordings", type=int, default=2, help="how many recordings (1-4)")
    parser.add_argument("--snrs", help="comma-separated SNRs in dB (default -7,-4,-1,2)")
    parser.add_argument("--methods", help="comma-separated method names or step pipelines (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    import mne
    import numpy as np

    from backend import steps
    from backend.clean.teach import known_truth_case, run_on_case, score_case

    mne.set_log_level("error")
    methods = dict(METHODS)
    if "art" in [k.name for k in steps.available()]:
        methods[TRANSFORMER[0]] = TRANSFORMER[1]
    if args.methods:
        wanted = [m.strip() for m in args.methods.split(",")]
        methods = {k: v for k, v in methods.items() if any(w.lower() in k.lower() for w in wanted)}
    snrs = [float(s) for s in args.snrs.split(",")] if args.snrs else list(SNRS_DB)
    n_recordings = args.recordings
    if args.quick:
        snrs, n_recordings = [-7.0, 2.0], 1
    raws = recordings(shared_data(), n_recordings)

    rows = []
    for label, raw in raws:
        for k, artifact in enumerate(ARTIFACTS):
            for j, snr in enumerate(snrs):
                case = known_truth_case(raw, artifact, snr, seed=args.seed + 100 * k + j, duration_s=STRETCH_S)
                minutes_32 = (case.injection.clean.shape[1] / case.injection.sfreq / 60) * (
                    len(case.info["ch_names"]) / 32
                )
                for method, pipeline in methods.items():
                    cleaned, _, seconds = run_on_case(case, pipeline)
                    rows.append(
                        {
                            "recording": label,
                            "artifact": artifact,
                            "snr_db": snr,
                            "method": method,
                            **score_case(case, cleaned),
                            "s_per_min_32ch": seconds / minutes_32,
                        }
                    )
                print(f"  {label:<20} {artifact:<7} SNR {snr:+5.1f} dB done", file=sys.stderr, flush=True)

    def mean(values):
        return statistics.fmean(values) if values else float("nan")

    summary = []
    print(
        f"\nKnown-truth benchmark: {len(raws)} recording(s) x {len(ARTIFACTS)} artifacts x SNR {', '.join(f'{s:g}' for s in snrs)} dB, "
        f"{STRETCH_S:g} s stretches, 32 channels"
    )
    header = (
        f"{'method':<20} {'artifact':<8} {'RRMSE_t':>8} {'RRMSE_s':>8} {'CC':>6} {'removed%':>9} {'s/min 32ch':>11}"
    )
    print(header)
    print("-" * len(header))
    for method in methods:
        for artifact in ARTIFACTS:
            sel = [r for r in rows if r["method"] == method and r["artifact"] == artifact]
            entry = {
                "method": method,
                "artifact": artifact,
                **{
                    m: round(mean([r[m] for r in sel]), 4)
                    for m in ("rrmse_t", "rrmse_s", "cc", "removed_pct", "s_per_min_32ch")
                },
            }
            summary.append(entry)
            print(
                f"{method:<20} {artifact:<8} {entry['rrmse_t']:>8.3f} {entry['rrmse_s']:>8.3f} {entry['cc']:>6.3f} "
                f"{entry['removed_pct']:>9.1f} {entry['s_per_min_32ch']:>11.2f}"
            )
    print("\nRRMSE_t by SNR (all artifacts):")
    print(f"{'method':<20} " + " ".join(f"{s:>+7.1f}" for s in snrs))
    by_snr = {}
    for method in methods:
        values = [mean([r["rrmse_t"] for r in rows if r["method"] == method and r["snr_db"] == s]) for s in snrs]
        by_snr[method] = dict(zip([str(s) for s in snrs], [round(v, 4) for v in values]))
        print(f"{method:<20} " + " ".join(f"{v:>7.3f}" for v in values))
    print(
        json.dumps(
            {
                "benchmark": "clean",
                "recordings": [r[0] for r in raws],
                "artifacts": list(ARTIFACTS),
                "snrs_db": snrs,
                "stretch_s": STRETCH_S,
                "n_channels": 32,
                "summary": summary,
                "rrmse_t_by_snr": by_snr,
                "cpu_count": os.cpu_count(),
                "numpy": np.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
