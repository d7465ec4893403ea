"""``python -m backend train-denoiser``: reproduce the shipped denoiser weights."""

from __future__ import annotations

from pathlib import Path

from backend.cli import print_json
from backend.errors import EEGError


def add_commands(sub) -> None:
    p = sub.add_parser("train-denoiser", help="train the ART-style transformer denoiser on PhysioNet recordings")
    p.add_argument("--data", required=True, help="folder holding eegbci_physionet/S0xx/*.edf (e.g. ../shared/data)")
    p.add_argument("--out", required=True, help="weights file to write (.pt); its JSON config goes beside it")
    p.add_argument("--minutes", type=float, default=32.0, help="training time budget (default 32)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps instead")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for torch (default 1: on a shared 2-core machine two threads ran 7x slower)")
    p.add_argument("--cache", default=None, help="folder for cached ICA decompositions (default: beside --out)")
    p.add_argument("--init", default=None, help="start from these weights (.pt of the same configuration)")
    p.add_argument("--held-out", default="S009,S010", help="subjects never trained on (comma-separated)")
    p.set_defaults(func=_train)


def _train(args) -> int:
    from backend.denoise.train import train_from_folder

    data, out = Path(args.data), Path(args.out)
    if not data.is_dir():
        raise EEGError(f"data folder {data} does not exist")
    if out.suffix != ".pt":
        raise EEGError("--out must name a .pt file")
    if args.minutes <= 0 or (args.max_steps is not None and args.max_steps <= 0):
        raise EEGError("--minutes and --max-steps must be positive")
    meta = train_from_folder(data, out, cache=Path(args.cache) if args.cache else None, minutes=args.minutes,
                             max_steps=args.max_steps, threads=args.threads, init=args.init,
                             held_out=tuple(s.strip() for s in args.held_out.split(",") if s.strip()))
    print_json({"weights": str(out), "config": str(out.with_suffix(".json")), "steps": meta["training"]["steps"],
                "seconds": meta["training"]["seconds"], "best_validation": meta["best_validation"]})
    return 0
