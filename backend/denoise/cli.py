"""``python -m backend train-denoiser``: reproduce the shipped denoiser weights."""

from __future__ import annotations

from pathlib import Path

from backend.cli import add_command, parse_floats, print_json
from backend.errors import EEGError

# The shipped weights' last stage (assets/denoiser/art_denoiser.json, "training"): the defaults below,
# continued (--init) from the stage before; its "command" field gives the exact line.
DEFAULTS = dict(
    lr=2e-4,
    warmup=50,
    batch_size=12,
    seed=5,
    injected_fraction=0.8,
    snr_range="-12,4",
    class_p="0.2,0.6,0.1,0.05,0.05",
    inject_p="0.45,0.12,0.2,0.15,0.03,0.03,0.02",
    spectral_loss=0.3,
)


def _command(args) -> list[str]:
    """The options of this run as a command line (paths as given), for the weights' JSON."""
    line = ["train-denoiser"]
    for key, value in vars(args).items():
        if key in ("func", "command") or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        line += [flag] if value is True else [f"{flag}={value}"]
    return line


def add_commands(sub) -> None:
    from backend.denoise.data import ARTIFACT_CLASSES, INJECT_GROUPS

    p = add_command(sub, "train-denoiser")
    p.add_argument("--data", required=True, help="folder holding eegbci_physionet/S0xx/*.edf (e.g. ../shared/data)")
    p.add_argument("--out", required=True, help="weights file to write (.pt); its JSON config goes beside it")
    p.add_argument("--minutes", type=float, default=32.0, help="training time budget (default 32)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps instead")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for torch (default 1: on a shared 2-core machine two threads ran 7x slower)",
    )
    p.add_argument("--cache", default=None, help="folder for cached ICA decompositions (default: beside --out)")
    p.add_argument("--init", default=None, help="start from these weights (.pt of the same configuration)")
    p.add_argument("--held-out", default="S009,S010", help="subjects never trained on (comma-separated)")
    p.add_argument("--d-model", type=int, default=64, help="transformer width (default 64)")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="peak learning rate (default %(default)g)")
    p.add_argument("--warmup", type=int, default=DEFAULTS["warmup"], help="warm-up steps (default %(default)d)")
    p.add_argument(
        "--batch-size", type=int, default=DEFAULTS["batch_size"], help="windows per step (default %(default)d)"
    )
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="random seed (default %(default)d)")
    p.add_argument(
        "--injected-fraction",
        type=float,
        default=DEFAULTS["injected_fraction"],
        help="share of semi-synthetic windows with Clean-injector artifacts (default %(default)g)",
    )
    p.add_argument(
        "--snr-range",
        default=DEFAULTS["snr_range"],
        help="semi-synthetic SNR range in dB, as --snr-range=LOW,HIGH (default %(default)s)",
    )
    p.add_argument(
        "--class-p",
        default=DEFAULTS["class_p"],
        help=f"weights of real artifact components by class ({', '.join(ARTIFACT_CLASSES)}; default %(default)s)",
    )
    p.add_argument(
        "--inject-p",
        default=DEFAULTS["inject_p"],
        help="weights of the injector groups ("
        + ", ".join("+".join(g) for g in INJECT_GROUPS)
        + "; default %(default)s)",
    )
    p.add_argument(
        "--raw-input-p",
        type=float,
        default=0.0,
        help="share of injector windows whose input keeps the recording's own artifacts (default 0)",
    )
    p.add_argument(
        "--spectral-loss",
        type=float,
        default=DEFAULTS["spectral_loss"],
        help="weight of the relative amplitude-spectrum error added to the time-domain loss (default %(default)g)",
    )
    p.add_argument(
        "--mse-loss",
        action="store_true",
        help="plain MSE instead of the mean RRMSE_t² (the relative loss of the later stages)",
    )
    p.set_defaults(func=_train)


def _train(args) -> int:
    from backend.denoise.data import ARTIFACT_CLASSES, INJECT_GROUPS
    from backend.denoise.train import train_from_folder

    data, out = Path(args.data), Path(args.out)
    if not data.is_dir():
        raise EEGError(f"data folder {data} does not exist")
    if out.suffix != ".pt":
        raise EEGError("--out must name a .pt file")
    if args.minutes <= 0 or (args.max_steps is not None and args.max_steps <= 0):
        raise EEGError("--minutes and --max-steps must be positive")
    if args.d_model <= 0 or args.d_model % 4:
        raise EEGError("--d-model must be a positive multiple of 4 (4 attention heads)")
    if not (0 <= args.injected_fraction <= 1 and 0 <= args.raw_input_p <= 1):
        raise EEGError("--injected-fraction and --raw-input-p must lie in 0..1")
    if args.spectral_loss < 0 or args.lr <= 0 or args.batch_size < 1:
        raise EEGError("--spectral-loss must be >= 0, --lr and --batch-size positive")
    snr = parse_floats(args.snr_range, "--snr-range", 2)
    if snr[0] >= snr[1]:
        raise EEGError("--snr-range must be LOW,HIGH with LOW < HIGH")
    sampler = {
        "class_p": parse_floats(args.class_p, "--class-p", len(ARTIFACT_CLASSES), non_negative=True),
        "inject_p": parse_floats(args.inject_p, "--inject-p", len(INJECT_GROUPS), non_negative=True),
        "raw_input_p": args.raw_input_p,
    }
    if not sum(sampler["class_p"]) or not sum(sampler["inject_p"]):
        raise EEGError("--class-p and --inject-p need at least one positive weight")
    meta = train_from_folder(
        data,
        out,
        cache=Path(args.cache) if args.cache else None,
        minutes=args.minutes,
        max_steps=args.max_steps,
        threads=args.threads,
        init=args.init,
        held_out=tuple(s.strip() for s in args.held_out.split(",") if s.strip()),
        model_kwargs={"d_model": args.d_model, "d_ff": 2 * args.d_model},
        lr=args.lr,
        warmup=args.warmup,
        batch_size=args.batch_size,
        seed=args.seed,
        injected_fraction=args.injected_fraction,
        relative_loss=not args.mse_loss,
        snr_range=tuple(snr),
        sampler_kwargs=sampler,
        spectral_loss=args.spectral_loss,
        note={"command": "python -m backend " + " ".join(_command(args))},
    )
    print_json(
        {
            "weights": str(out),
            "config": str(out.with_suffix(".json")),
            "steps": meta["training"]["steps"],
            "seconds": meta["training"]["seconds"],
            "best_validation": meta["best_validation"],
        }
    )
    return 0
