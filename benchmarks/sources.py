"""Benchmark of the sources stage: localisation error without the inverse crime, and speed.

Simulates single dipoles at random cortical points (fixed seed; uniform over
the white-matter surface's area, medial wall excluded, inside its triangles, so
off the inverse's ico4 grid and off fsaverage5's own vertices), oriented normal
to the cortex, with their own forward computation; projects them to 32- and 64-channel 10-20/10-10 caps; adds white
sensor noise at 20, 10 and 3 dB; inverts with MNE, dSPM, sLORETA and eLORETA,
regularised with lambda2 = 3 / SNR^2 (``simulate.LAMBDA2_FACTOR``, picked on
held-out dipole sets, the same for every pair, cap and method).

MNE's peaks sit too shallow and dSPM's too deep, the known biases of the two:
on 500 held-out dipoles (64 ch, 10 dB, BEM) whose median depth under the scalp
is 32 mm, their peaks' median depths are 22 and 67 mm, those of sLORETA and
eLORETA 31 mm. Read peaks from the standardised solvers.

Head-model pairs (simulate -> invert):
  bem -> bem        denser, off-grid sources; same 3-layer BEM (the app's default)
  bem -> sphere     the realistic head simulated, the fitted sphere used to invert
  sphere -> bem     the other way round
(the sphere is fitted to the same template: its shells are the template's inner
skull, outer skull and scalp, with the BEM's conductivities)

Then times: forward build for a new montage (not cached), the inverse ready
for a new montage with the forward cached (read + operator + eLORETA weights),
applying it to 10 s of the bundled 64-channel recording, and the 3-D figure's
payload. Last line: one JSON object.

Times are wall and CPU seconds (the CI machine is shared; CPU time is what the
work costs when the cores are free). Run: ``nice python benchmarks/sources.py [--n 1000]`` (1000 dipoles by default,
so the medians do not hang on the luck of a small draw; the first run also
builds the BEM, 1-2 min).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mne  # noqa: E402

from backend.config import SAMPLES  # noqa: E402
from backend.io import load_recording  # noqa: E402
from backend.sources import figures, forward, inverse, simulate  # noqa: E402

PAIRS = (("bem", "bem"), ("bem", "sphere"), ("sphere", "bem"))
SNRS = (20.0, 10.0, 3.0)


def accuracy(n: int) -> dict:
    out = {}
    for channels in (32, 64):
        for sim, inv in PAIRS:
            t0 = time.perf_counter()
            res = simulate.localisation_errors(n, SNRS, channels, simulate_model=sim, inverse_model=inv, ico=4)
            key = f"{channels}ch {sim}->{inv}"
            out[key] = {
                "results": {f"{snr:g}dB": r for snr, r in res["results"].items()},
                "timings": res["timings"],
                "total_s": round(time.perf_counter() - t0, 1),
            }
            for snr, table in res["results"].items():
                cells = "  ".join(
                    f"{m} {r['median_mm']:5.1f}/{r['p90_mm']:5.1f}/{r['dispersion_mm']:5.1f}" for m, r in table.items()
                )
                print(f"{key:18s} {snr:4g} dB  {cells}", flush=True)
    return out


class _Clock:
    """Wall and CPU seconds of a block: the machine is shared, so both are reported."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = round(time.perf_counter() - self.wall, 3)
        self.cpu = round(time.process_time() - self.cpu, 3)


def speed() -> dict:
    mne.set_log_level("error")
    rec = load_recording([SAMPLES / "S001R04.edf"])
    electrodes = forward.electrodes(rec.raw.info)
    out = {}
    forward.head_model("bem")  # built or read once; not part of a montage's cost
    for model in ("bem", "sphere"):
        with _Clock() as c:
            forward.forward(electrodes.info, model, 4, cache=False)
        out[f"forward_build_{model}_64ch_s"] = {"wall": c.wall, "cpu": c.cpu}
    forward.forward(electrodes.info, "bem", 4)  # make sure the cache holds it
    window = inverse.window_evoked(rec.raw, electrodes, 10.0, 20.0)
    cov = mne.make_ad_hoc_cov(electrodes.info, verbose="error")
    raw10 = mne.io.RawArray(window.data, window.info, verbose="error")
    for method in inverse.METHODS:
        lambda2 = inverse.lambda2_from_snr(3.0)
        with _Clock() as c:
            fwd = forward.forward(electrodes.info, "bem", 4)
            inv = inverse.make_inverse(fwd, cov, electrodes.info)
            prepared = mne.minimum_norm.prepare_inverse_operator(inv, 1, lambda2, method, verbose="error")
        out[f"inverse_ready_{method}_s"] = {"wall": c.wall, "cpu": c.cpu}
        with _Clock() as c:
            mne.minimum_norm.apply_inverse_raw(raw10, prepared, lambda2, method, prepared=True, verbose="error")
        out[f"apply_10s_64ch_{method}_s"] = {"wall": c.wall, "cpu": c.cpu}
    out["load_average_1min"] = round(os.getloadavg()[0], 1)
    result = inverse.localise(rec.raw, "eLORETA", tmin=10.0, tmax=20.0, model="bem")
    for surface in ("pial", "inflated"):
        fig = figures.cortex_figure(result, surface=surface, n_frames=30)
        out[f"figure_payload_{surface}_MB"] = round(figures.payload_bytes(fig) / 1e6, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="simulated dipoles (default 1000)")
    parser.add_argument("--speed-only", action="store_true", help="skip the simulations")
    args = parser.parse_args()
    mne.set_log_level("error")
    print(f"{args.n} dipoles; cells: median / p90 localisation error / median spatial dispersion (mm)", flush=True)
    acc = {} if args.speed_only else accuracy(args.n)
    spd = speed()
    for k, v in spd.items():
        print(f"{k:32s} {v}")
    print(json.dumps({"n_dipoles": args.n, "accuracy": acc, "speed": spd}))
    if acc:  # the figures the app states about localisation (backend.report.validation)
        from backend.report import validation

        validation.write(
            "sources",
            {
                "n_dipoles": args.n,
                "channels": 64,
                "snr_db": 10,
                "eLORETA_median_mm": {
                    f"{sim}->{inv}": acc[f"64ch {sim}->{inv}"]["results"]["10dB"]["eLORETA"]["median_mm"]
                    for sim, inv in PAIRS
                },
            },
            benchmark="benchmarks/sources.py",
            protocol="single dipoles at random cortical points of the template head, simulated and inverted with "
            "their own forward models (no inverse crime); median localisation error",
        )


if __name__ == "__main__":
    main()
