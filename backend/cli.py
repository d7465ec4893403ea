"""Command line: ``python -m backend COMMAND ...`` calls the same functions as the pages.

Each stage adds its commands from its own module (a function ``add_commands(subparsers)``
that sets ``func`` on its parsers); this file lists every command with the module
that builds it (``COMMANDS``), imports only the chosen command's module, so light
commands stay light (``info`` imports no torch), dispatches, and turns
:class:`EEGError` into ``error: ...`` on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import warnings

from backend.errors import EEGError

# Every command: the module whose ``add_commands`` builds its parser, and its one-line help.
# A new stage adds its rows; ``tests/test_cli.py`` checks them against the modules.
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("backend.cli_io", "summarise a recording"),
    "export": ("backend.cli_io", "convert a recording to FIF, EDF, BrainVision or EEGLAB"),
    "page": ("backend.browse.cli", "build one page of traces (montage, display filters) as HTML or JSON"),
    "annotations": ("backend.browse.cli", "list a recording's annotations or export them as CSV"),
    "clean": ("backend.clean.cli", "run a cleaning pipeline and write the result"),
    "components": (
        "backend.components.cli",
        "fit ICA (or read the file's stored ICA), label components with ICLabel, write a CSV table",
    ),
    "train-denoiser": ("backend.denoise.cli", "train the ART-style transformer denoiser on PhysioNet recordings"),
    "source": (
        "backend.sources.cli",
        "localise a window or an event average on the template brain, or simulate dipoles",
    ),
    "classify": ("backend.classify.cli", "cross-validate, train and apply classifiers on annotated EEG"),
    "library": ("backend.library.cli", "the recordings you have opened, with annotations and results"),
    "study": ("backend.study.cli", "run a recipe, a quality table and classification over a whole dataset on Dask"),
    "report": ("backend.report.cli", "build the recording report (header, pages of traces, methods) as HTML or PDF"),
}
COMMAND_MODULES = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and status 2, like every other refusal
        self.exit(2, f"error: {message}\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command-line parser.

    Given the arguments ``argv``, only the module of the command they name is
    imported; the others are listed (for ``--help``) by their help line alone.
    Without ``argv``, every command's module is imported and fully built.
    """
    parser = _Parser(prog="python -m backend", description="EEG Explorer batch commands.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), None)
    wanted = set(COMMAND_MODULES) if argv is None else {COMMANDS[chosen][0]} if chosen in COMMANDS else set()
    built = set()
    for name, (module, help_line) in COMMANDS.items():
        if module not in wanted:
            sub.add_parser(name, help=help_line, add_help=False)  # listed; built when chosen
        elif module not in built:
            importlib.import_module(module).add_commands(sub)
            built.add(module)
    return parser


def add_command(sub, name: str, **kwargs) -> argparse.ArgumentParser:
    """The parser of command ``name`` (a row of ``COMMANDS``), with its help line from there."""
    return sub.add_parser(name, help=COMMANDS[name][1], **kwargs)


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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # the command's own lines only; the app's server log keeps these
    import mne

    mne.set_log_level("error")
    try:
        status = args.func(args) or 0
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except EEGError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 141
