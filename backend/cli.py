"""Command line: ``python -m backend COMMAND ...`` calls the same functions as the pages.

Each stage adds its commands from its own module (a function ``add_commands(subparsers)``
that sets ``func`` on its parsers); this file only dispatches and turns
:class:`EEGError` into ``error: ...`` on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings

from backend.errors import EEGError

# Modules adding subcommands; a new stage appends its own.
COMMAND_MODULES = (
    "backend.cli_io",
    "backend.browse.cli",
    "backend.clean.cli",
    "backend.components.cli",
    "backend.denoise.cli",
    "backend.sources.cli",
    "backend.classify.cli",
    "backend.study.cli",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and status 2, like every other refusal
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m backend", description="EEG Explorer batch commands.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub)
    return parser


def print_json(obj) -> None:
    """Print one JSON object on one line (the last line of ``--json`` output)."""
    print(json.dumps(obj, default=str))


def parse_floats(text: str, what: str, n: int | None = None, *, non_negative: bool = False) -> tuple[float, ...]:
    """The comma-separated numbers of option ``what`` (exactly ``n`` of them when given)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise EEGError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if (n is not None and len(values) != n) or (non_negative and any(v < 0 for v in values)):
        count = f"{n} " if n is not None else ""
        kind = "non-negative " if non_negative else ""
        raise EEGError(f"{what} needs {count}{kind}comma-separated numbers, got {text!r}")
    return values


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore")
    import mne

    mne.set_log_level("error")
    try:
        return args.func(args) or 0
    except EEGError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
