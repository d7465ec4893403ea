"""Parameters that exercise every registered step on the bundled EEGLAB tutorial recording.

Tests that must cover every step (reports, scripts, replay) take their parameters from
here, and fail when a step is registered without an example.
"""

from __future__ import annotations

STEP_EXAMPLES: dict[str, dict] = {
    "rename_channels": {"mapping": {"EOG1": "VEOG"}},
    "set_channel_types": {"mapping": {"EOG2": "misc"}},
    "set_bads": {"bads": ["T7"]},
    "ica_remove": {"method": "fastica", "n_components": 10, "exclude": [0]},
    "ica_iclabel": {"method": "fastica", "n_components": 10, "threshold": 0.5},
    "add_annotation": {"onset": 1.0, "duration": 0.5, "description": "spike"},
    "edit_annotation": {"index": 0, "onset": 2.0, "duration": 1.0, "description": "blink"},
    "delete_annotation": {"index": 0},
    "import_annotations": {"rows": [[3.0, 0.0, "marker"]]},
    "bandpass": {"l_freq": 1.0, "h_freq": 40.0},
    "notch": {"freq": 50.0},
    "resample": {"sfreq": 100.0},
    "reref": {"ref": "average"},
    "bad_channels": {"methods": ["flat", "deviation", "correlation"], "interpolate": True},
    "interpolate_bads": {},
    "asr": {"cutoff": 20.0},
    "art": {},
}

# Steps that need an earlier one: name -> steps applied first.
PREREQUISITES: dict[str, list[tuple[str, dict]]] = {
    "interpolate_bads": [("set_bads", {"bads": ["T7"]})],
}
