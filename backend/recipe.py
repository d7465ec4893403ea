"""A recording's history as a JSON recipe and as a runnable MNE-Python script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend import steps
from backend.errors import EEGError
from backend.recording import Recording

RECIPE_VERSION = 1


def to_recipe(recording: Recording) -> dict[str, Any]:
    """The steps that turn the original files into this recording, as plain data."""
    return {
        "eeg_explorer_recipe": RECIPE_VERSION,
        "source_files": list(recording.source_files),
        "sha256": recording.sha256,
        "format": recording.format,
        "steps": [s.to_dict() for s in recording.history[1:]],
    }


def recipe_json(recording: Recording) -> str:
    return json.dumps(to_recipe(recording), indent=2, default=str)


def parse_recipe(text: str) -> dict[str, Any]:
    """Check a recipe read from a user's file; never executes anything from it."""
    try:
        recipe = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EEGError(f"the recipe is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    if not isinstance(recipe, dict) or recipe.get("eeg_explorer_recipe") != RECIPE_VERSION:
        raise EEGError("this JSON is not an EEG Explorer recipe")
    for step in recipe.get("steps", []):
        if (
            not isinstance(step, dict)
            or not isinstance(step.get("name"), str)
            or not isinstance(step.get("params", {}), dict)
        ):
            raise EEGError("the recipe's steps must each have a name and a params object")
        steps.get(step["name"])  # unknown names are refused here, before anything runs
    return recipe


def replay(recipe: dict[str, Any], recording: Recording) -> Recording:
    """Apply a recipe's steps to ``recording`` (the original, or another upload)."""
    for step in recipe.get("steps", []):
        recording = recording.apply(step["name"], **step.get("params", {}))
    return recording


def to_script(recording: Recording) -> str:
    """A runnable MNE-Python script that reproduces the recording from its file."""
    load = recording.history[0]
    lines = [
        '"""Reproduces an EEG Explorer recording with MNE-Python alone.',
        "",
        f"Source: {', '.join(recording.source_files)} (sha256 {recording.sha256[:16]}…).",
        'Run it in the folder holding those files."""',
        "",
        "import mne",
        "import numpy as np",
        "",
        *load.report.get("reader", []),
    ]
    if load.params.get("types"):
        lines.append(f"raw.set_channel_types({load.params['types']!r}, on_unit_change='ignore')")
    if load.params.get("renames"):
        lines.append(f"raw.rename_channels({load.params['renames']!r})")
    lines += load.report.get("positions", [])
    for step in recording.history[1:]:
        lines += ["", f"# {step.label()}: {steps.get(step.name).summary}"]
        lines += steps.get(step.name).script(**step.params)
    out_name = Path(recording.name).stem + "_explorer_raw.fif"
    lines += ["", f"raw.save({out_name!r}, overwrite=True)", ""]
    return "\n".join(lines)
