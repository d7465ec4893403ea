"""The step registry: a table that agrees with the functions it names, read without importing them."""

import inspect
import subprocess
import sys

import pytest

from backend import steps
from backend.errors import EEGError


@pytest.mark.parametrize("kind", steps.available(), ids=lambda k: k.name)
def test_table_agrees_with_the_step_functions(kind):
    signature = inspect.signature(kind.apply)
    params = list(signature.parameters.values())
    assert params[0].name == "raw"
    declared = {p.name: p.default for p in params[1:] if p.name not in kind.needs}
    assert declared == kind.params, f"steps.py's row for {kind.name} differs from {kind.module}.{kind.name}"
    for need in kind.needs:  # what the Recording passes: keyword-only, never a recipe parameter
        assert signature.parameters[need].kind is inspect.Parameter.KEYWORD_ONLY
    script = inspect.signature(kind.script)
    assert {p.name: p.default for p in script.parameters.values()} == kind.params
    assert kind.summary.strip() and "\n" not in kind.summary


def test_listing_and_looking_up_steps_imports_no_stage():
    code = (
        "import sys\n"
        "from backend import steps\n"
        "from backend.clean.pipeline import cleaning_steps, parse_pipeline, step_parameters\n"
        "assert [k.summary for k in steps.available()]\n"
        "step_parameters('art'); parse_pipeline('bandpass:1,40;ica_iclabel;art')\n"
        # backend.components itself holds only names (methods, classes); its modules are the stage
        "stages = [m for m in sys.modules if m.startswith(('backend.components.', 'backend.denoise', 'torch', 'sklearn'))]\n"
        "assert not stages, stages\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_step_names_the_known_ones():
    with pytest.raises(EEGError, match="known steps: .*bandpass"):
        steps.get("rm_rf")


def test_parameters_outside_the_table_are_refused(physionet_recording):
    with pytest.raises(EEGError, match="ica_remove has no parameter 'ica'"):
        physionet_recording.apply("ica_remove", method="stored", exclude=[0], ica="from a recipe")
    with pytest.raises(EEGError, match="its parameters are l_freq, h_freq"):
        physionet_recording.apply("bandpass", low=1.0)


def test_set_bads_imports_no_torch(physionet_file):
    code = (
        "import sys\n"
        "from backend.io import load_recording\n"
        f"rec = load_recording([{str(physionet_file)!r}]).apply('set_bads', bads=['FC5'])\n"
        "assert rec.raw.info['bads'] == ['FC5']\n"
        "heavy = [m for m in ('torch', 'sklearn', 'pyriemann', 'onnxruntime') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registered_step_has_a_case():
    from tests.step_examples import CASES

    assert {case.split(":")[0] for case in CASES} == {kind.name for kind in steps.available()}


@pytest.mark.parametrize(
    "name, params, words",
    [
        ("bandpass", {"l_freq": 1.0, "h_freq": 40.0}, "Band-pass 1–40 Hz"),
        ("bandpass", {"l_freq": 1.0, "h_freq": None}, "Low cut 1 Hz"),
        ("bandpass", {"l_freq": None, "h_freq": 30.0}, "High cut 30 Hz"),
        ("art", {}, "Transformer denoiser"),
        ("resample", {"sfreq": 100.0}, "Resample to 100 Hz"),
        ("reref", {"ref": "mastoids"}, "Re-reference: linked mastoids"),
        (
            "ica_remove",
            {"method": "picard", "n_components": 20, "exclude": [0, 3]},
            "Removed ICA components 0 and 3 (Picard, 20 components)",
        ),
        (
            "ica_remove",
            {"method": "picard", "n_components": None, "exclude": [2]},
            "Removed ICA component 2 (Picard, all components)",
        ),
        (
            "ica_iclabel",
            {"classes": ["eye"], "threshold": 0.7},
            "ICA + ICLabel removal: Eye at p ≥ 0.7 (Picard, all components)",
        ),
        ("set_bads", {"bads": [f"E{i}" for i in range(10)]}, "Mark bad channels: E0, E1, E2, E3, E4 and 5 more"),
    ],
)
def test_a_step_reads_as_a_person_would_say_it(name, params, words):
    assert steps.describe(name, params) == words
    assert name not in steps.settings_words(name, params)


def test_only_cleaning_steps_are_offered_for_cleaning():
    from backend.clean.pipeline import cleaning_steps

    offered = {k.name for k in cleaning_steps()}
    assert not offered & {"add_annotation", "edit_annotation", "delete_annotation", "import_annotations"}
    assert not offered & {"rename_channels", "set_channel_types", "set_bads", "ica_remove"}
    assert {"bandpass", "asr", "ica_iclabel", "art"} <= offered
    with pytest.raises(EEGError, match="add_annotation is not a cleaning step"):
        from backend.clean.pipeline import parse_pipeline

        parse_pipeline("add_annotation:1,1,x")
