"""The command table: it agrees with the stages' modules, and a light command imports no heavy stage."""

import argparse
import importlib
import subprocess
import sys

import pytest

from backend.cli import COMMAND_MODULES, COMMANDS, build_parser
from tests.conftest import ROOT

HEAVY = ("torch", "sklearn", "pyriemann", "onnxruntime")


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_table_names_the_commands_each_module_builds(module):
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).add_commands(sub)
    assert set(sub.choices) == {name for name, (where, _) in COMMANDS.items() if where == module}
    for name, parser in sub.choices.items():
        assert parser.get_default("func") is not None or parser._subparsers is not None, name


def test_parser_builds_only_the_chosen_command():
    parser = build_parser(["info", "x.edf"])
    assert parser.parse_args(["info", "x.edf", "--json"]).json
    full = build_parser()
    assert full.parse_args(["export", "a.edf", "--to", "b.fif"]).to == "b.fif"


def test_info_imports_no_heavy_stage(physionet_file):
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "backend", "info", str(physionet_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in run.stderr.splitlines() if "|" in line}
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    assert "64 eeg" in run.stdout


def test_help_lists_every_command_without_importing_them():
    code = (
        "import sys\nfrom backend.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m.endswith('.cli') and m != 'backend.cli'], 'a stage was imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for name in COMMANDS:
        assert name in run.stdout


def test_output_cut_short_by_the_reader_is_no_traceback(physionet_file):
    """``python -m backend info FILE | head -0``: the reader is gone before the output, the command stops quietly."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "info", str(physionet_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # as `head` does once it has what it wants
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""
