"""CLI of the sources stage: ``python -m backend source ...``."""

from __future__ import annotations

from pathlib import Path

from backend.cli import add_command, print_json
from backend.errors import EEGError


def add_commands(sub) -> None:
    from backend.sources.forward import HEAD_MODELS
    from backend.sources.inverse import COVARIANCES, METHODS

    source = add_command(
        sub,
        "source",
        description="Print the peak of a source estimate (template coordinates in mm, region, value, time), "
        "or with --simulate the localisation errors of simulated dipoles.",
    )
    source.add_argument("paths", nargs="*", help="the recording's files (not with --simulate)")
    source.add_argument("--method", default="eLORETA", help=f"one of {', '.join(METHODS)} (default eLORETA)")
    source.add_argument("--tmin", type=float, help="window start (s)")
    source.add_argument("--tmax", type=float, help="window end (s); at most 20 s after --tmin")
    source.add_argument("--event", help="annotation label to average around (epochs -0.2 to 0.5 s unless --epoch)")
    source.add_argument(
        "--epoch", type=float, nargs=2, metavar=("T0", "T1"), help="epoch around each --event (s), e.g. -0.2 0.5"
    )
    source.add_argument(
        "--cov", choices=COVARIANCES, help="noise covariance (default: baseline for --event, else ad hoc)"
    )
    source.add_argument(
        "--stretch", type=float, nargs=2, metavar=("T0", "T1"), help="noise stretch (s) for --cov stretch"
    )
    source.add_argument("--reg-snr", type=float, default=3.0, help="regularisation: lambda2 = 1/SNR^2 (default 3)")
    source.add_argument("--model", choices=HEAD_MODELS, default="bem", help="head model (default bem)")
    source.add_argument(
        "--out-stc",
        metavar="PATH",
        help="write the source estimate: PATH-lh.stc and PATH-rh.stc (MNE's format), or PATH ending .h5 (needs h5io)",
    )
    source.add_argument("--peaks-csv", metavar="PATH", help="write the strongest sources (the peak table) as CSV")
    source.add_argument("--simulate", action="store_true", help="simulate dipoles and print localisation errors")
    source.add_argument("--n", type=int, default=200, help="simulated dipoles (default 200)")
    source.add_argument("--snr", type=float, default=10.0, help="simulated sensor SNR in dB (default 10)")
    source.add_argument("--channels", type=int, choices=(32, 64), default=64, help="simulated cap (default 64)")
    source.add_argument(
        "--simulate-model",
        choices=HEAD_MODELS,
        default="bem",
        help="head model that makes the simulated scalp fields (default bem)",
    )
    source.add_argument("--json", action="store_true", help="last line: one JSON object")
    source.set_defaults(func=_source)


def _source(args) -> int:
    if args.simulate:
        if args.paths:
            raise EEGError("--simulate takes no recording")
        return _simulate(args)
    if not args.paths:
        raise EEGError("give a recording's files, or --simulate")
    if args.event is not None and (args.tmin is not None or args.tmax is not None):
        raise EEGError("give either --tmin/--tmax or --event, not both")
    if args.epoch is not None and args.event is None:
        raise EEGError("--epoch goes with --event")
    for out in (args.out_stc, args.peaks_csv):  # before the slow part, not after it
        if out and not Path(out).resolve().parent.is_dir():
            raise EEGError(f"folder {Path(out).resolve().parent} does not exist")
    from backend.io import load_recording
    from backend.sources import export
    from backend.sources.inverse import EPOCH, check_epoch, localise

    epoch = EPOCH if args.epoch is None else check_epoch(*args.epoch)
    rec = load_recording(args.paths, look_beside=True)
    result = localise(
        rec.raw,
        args.method,
        tmin=args.tmin,
        tmax=args.tmax,
        event=args.event,
        epoch=epoch,
        covariance=args.cov,
        stretch=args.stretch,
        snr=args.reg_snr,
        model=args.model,
    )
    peak = dict(
        result.peak,
        method=result.method,
        covariance=result.covariance,
        model=result.model,
        lambda2=result.lambda2,
        channels_used=len(result.electrodes.used),
        channels_unmatched=result.electrodes.unmatched,
    )
    written = [str(p) for p in export.write_stc(result, args.out_stc)] if args.out_stc else []
    if args.peaks_csv:
        _write_text(args.peaks_csv, export.peaks_csv(export.peak_table(result)))
        written.append(args.peaks_csv)
    peak["written"] = written
    if not args.json:
        x, y, z = peak["pos_mm"]
        print(
            f"method      {result.method} ({result.model} head model, {result.covariance} noise covariance, lambda2 {result.lambda2:.3g})"
        )
        print(f"channels    {result.electrodes.note()}")
        print(f"peak        {peak['region']}")
        print(f"position    x {x:.1f}  y {y:.1f}  z {z:.1f} mm (fsaverage template)")
        print(f"time        {peak['time']:.3f} s")
        print(f"value       {peak['value']:.4g} {peak['unit']}")
        for path in written:
            print(f"wrote       {path}")
    else:
        print_json(peak)
    return 0


def _write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    except OSError as err:
        raise EEGError(f"cannot write {path}: {err.strerror}") from None


def _simulate(args) -> int:
    from backend.sources.simulate import LAMBDA2_FACTOR, localisation_errors

    out = localisation_errors(
        n=args.n,
        snrs_db=(args.snr,),
        channels=args.channels,
        simulate_model=args.simulate_model,
        inverse_model=args.model,
    )
    table = out["results"][args.snr]
    print(
        f"{args.n} dipoles, {args.channels} channels, SNR {args.snr:g} dB, simulated with the {args.simulate_model} model at "
        f"random cortical points (off every source grid), inverted with the {args.model} model "
        f"(lambda2 = {LAMBDA2_FACTOR:g} / SNR^2)"
    )
    print(f"{'method':9s} {'median mm':>10s} {'p90 mm':>8s} {'dispersion mm':>14s}")
    for method, row in table.items():
        print(f"{method:9s} {row['median_mm']:10.1f} {row['p90_mm']:8.1f} {row['dispersion_mm']:14.1f}")
    if args.json:
        print_json(table)
    return 0
