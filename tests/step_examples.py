"""One example of every registered step, on real recordings.

Tests that must cover every step (its report, its exported script, its replay) take
their cases from here; a step registered without a case fails
``tests/test_steps.py::test_every_registered_step_has_a_case``.
"""

from __future__ import annotations

from pathlib import Path

from backend.config import SAMPLES
from backend.io import load_recording
from backend.recording import Recording

PHYSIONET = ("S001R04.edf",)
EEGLAB = ("eeglab_data.set", "eeglab_data.fdt")
EEGLAB_ICA = ("eeglab_data_epochs_ica.set", "eeglab_data_epochs_ica.fdt")  # in ../shared/data/eeglab_sample


def _stored_removal(rec):
    from backend.components.ica import from_stored, removal_params

    return removal_params(from_stored(rec.raw, rec.ica), [0, 2], rec.name)


# step -> (files, the steps up to and including it); a params callable receives the recording so far.
CASES = {
    "rename_channels": (PHYSIONET, [("rename_channels", {"mapping": {"FC5": "FC5x", "Cz": "vertex"}})]),
    "set_channel_types": (PHYSIONET, [("set_channel_types", {"mapping": {"Fp1": "eog", "Fp2": "eog"}})]),
    "set_bads": (PHYSIONET, [("set_bads", {"bads": ["FC5", "T9"]})]),
    "ica_remove": (EEGLAB, [("ica_remove", {"method": "fastica", "n_components": 10, "exclude": [0, 3]})]),
    "ica_remove:stored": (EEGLAB_ICA, [("ica_remove", _stored_removal)]),
    "ica_iclabel": (EEGLAB, [("ica_iclabel", {"method": "fastica", "n_components": 10, "threshold": 0.5})]),
    "add_annotation": (PHYSIONET, [("add_annotation", {"onset": 12.5, "duration": 1.25, "description": "blink"})]),
    "edit_annotation": (
        PHYSIONET,
        [("edit_annotation", {"index": 2, "onset": 9.0, "duration": 0.5, "description": "moved"})],
    ),
    "delete_annotation": (PHYSIONET, [("delete_annotation", {"index": 1})]),
    "import_annotations": (PHYSIONET, [("import_annotations", {"rows": [[1.0, 0.5, "a"], [30.25, 0.0, "b"]]})]),
    "bandpass": (PHYSIONET, [("bandpass", {"l_freq": 1.0, "h_freq": 30.0})]),
    "notch": (PHYSIONET, [("notch", {"freq": 30.0})]),
    "resample": (PHYSIONET, [("resample", {"sfreq": 100.0})]),
    "reref": (PHYSIONET, [("reref", {"ref": ["C3", "C4"]})]),
    "bad_channels": (PHYSIONET, [("bad_channels", {"methods": ["flat", "deviation", "correlation"]})]),
    "interpolate_bads": (PHYSIONET, [("set_bads", {"bads": ["C3", "Oz"]}), ("interpolate_bads", {})]),
    "asr": (PHYSIONET, [("asr", {"cutoff": 10.0, "calib_start_s": 0.0, "calib_stop_s": 60.0})]),
    "asr:blocks": (PHYSIONET, [("asr", {"cutoff": 10.0, "mode": "blocks"})]),
    "asr:single": (EEGLAB, [("asr", {"cutoff": 5.0, "mode": "single"})]),
    "art": (PHYSIONET, [("art", {"overlap_s": 1.0})]),
}


def build(case: str, request, folder: Path) -> tuple[list[Path], Recording]:
    """Links to the case's files in ``folder`` and the recording after its steps."""
    names, pipeline = CASES[case]
    for name in names:
        source = (request.getfixturevalue("shared_data") / "eeglab_sample" if names == EEGLAB_ICA else SAMPLES) / name
        (folder / name).symlink_to(source)
    files = [folder / n for n in names]
    rec = load_recording(files)
    for name, params in pipeline:
        rec = rec.apply(name, **(params(rec) if callable(params) else params))
    return files, rec
