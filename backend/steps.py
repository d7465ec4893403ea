"""Registry of processing steps: the one place that knows where each step lives, what
it takes and how to write it as MNE-Python code.

A step is a pure function of a Raw copy and JSON-serialisable parameters, so a
recording's history can be replayed from the original file (``recipe.replay``)
and exported as a runnable script (``recipe.to_script``). What a step needs
beyond the signals (the ICA stored in the file) it receives from the Recording,
never from a process-wide cache, so any process can replay it from its inputs.

The registry is a table: a step's module is imported only when the step runs or
is written as code, so listing steps (the Clean page's picker, the CLI's parser)
imports no stage and light commands stay light. ``tests/test_steps.py`` checks
the table against the functions' signatures.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.components import ARTIFACT_CLASSES
from backend.errors import EEGError

REQUIRED = inspect.Parameter.empty  # the default of a parameter that has none

BAD_CHANNEL_DETECTORS = ("flat", "deviation", "correlation", "ransac")


@dataclass(frozen=True)
class StepKind:
    """Where one kind of step lives, what it takes, and how to run it or write it as code.

    ``apply(raw, **params)`` (the function ``function`` of ``module``) receives a
    copy it may change and returns the new Raw, or ``(raw, report)`` where
    ``report`` is a small dict saying what it changed. ``script(**params)`` (the
    function ``_<function>_script`` beside it) returns MNE-Python lines acting on
    a variable ``raw``. ``needs`` names Recording attributes passed to ``apply``
    as keyword arguments of the same name (not parameters: never in a recipe).
    """

    name: str
    module: str
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    function: str = ""

    def _attr(self, attr: str) -> Callable[..., Any]:
        return getattr(importlib.import_module(self.module), attr)

    @property
    def apply(self) -> Callable[..., Any]:
        """The step's function (its module is imported now)."""
        return self._attr(self.function or self.name)

    @property
    def script(self) -> Callable[..., list[str]]:
        """The function writing the step as MNE-Python lines."""
        return self._attr(f"_{self.function or self.name}_script")

    def run(self, raw, params: dict[str, Any], context: Any = None) -> tuple[Any, dict[str, Any]]:
        """Apply the step to ``raw`` (changed in place); returns ``(raw, report)``.

        ``context`` (a Recording) supplies what the step ``needs``.
        """
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise EEGError(
                f"{self.name} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are {', '.join(self.params) or 'none'}"
            )
        extra = {need: getattr(context, need, None) for need in self.needs}
        result = self.apply(raw, **params, **extra)
        return result if isinstance(result, tuple) else (result, {})


def _kind(name: str, module: str, summary: str, needs: tuple[str, ...] = (), **params: Any) -> StepKind:
    return StepKind(name, module, summary, params, needs)


# Every step, in the order pages list them by default (a new stage adds its rows).
_REGISTRY: dict[str, StepKind] = {
    k.name: k
    for k in (
        _kind(
            "rename_channels",
            "backend.channels",
            "Rename channels (for example to standard 10-05 labels).",
            mapping=REQUIRED,
        ),
        _kind(
            "set_channel_types",
            "backend.channels",
            "Change channel types (EEG, EOG, EMG, ECG, misc, stim).",
            mapping=REQUIRED,
        ),
        _kind(
            "set_bads",
            "backend.channels",
            "Mark channels as bad: they are kept but left out of averages, ICA and models.",
            bads=REQUIRED,
        ),
        _kind(
            "ica_remove",
            "backend.components.ica",
            "Remove chosen ICA components (artifacts) from the signals.",
            needs=("ica",),
            method="picard",
            n_components=None,
            seed=97,
            exclude=(),
            stored=None,
            source_file=None,
        ),
        _kind(
            "ica_iclabel",
            "backend.components.ica",
            "Fit ICA, label components with ICLabel and remove those of the chosen artifact classes.",
            method="picard",
            n_components=None,
            seed=97,
            classes=ARTIFACT_CLASSES,
            threshold=0.8,
        ),
        _kind(
            "add_annotation",
            "backend.browse.annotations",
            "Add an annotation (onset and duration in seconds from the start, and a label).",
            onset=REQUIRED,
            duration=REQUIRED,
            description=REQUIRED,
        ),
        _kind(
            "edit_annotation",
            "backend.browse.annotations",
            "Change an annotation's onset, duration or label.",
            index=REQUIRED,
            onset=REQUIRED,
            duration=REQUIRED,
            description=REQUIRED,
        ),
        _kind("delete_annotation", "backend.browse.annotations", "Delete an annotation.", index=REQUIRED),
        _kind(
            "import_annotations",
            "backend.browse.annotations",
            "Add annotations read from a CSV file (onset, duration, description).",
            rows=REQUIRED,
        ),
        _kind(
            "bandpass",
            "backend.clean.steps",
            "Band-pass filter (zero-phase FIR): keeps l_freq–h_freq Hz; 1–40 Hz removes drifts, line noise and most muscle.",
            l_freq=1.0,
            h_freq=40.0,
        ),
        _kind(
            "notch",
            "backend.clean.steps",
            "Notch filter at the mains frequency (50 or 60 Hz) and its harmonics below Nyquist: removes line noise only.",
            freq=50.0,
        ),
        _kind(
            "resample",
            "backend.clean.steps",
            "Resample to a new rate (with anti-alias filtering): smaller files and faster steps; "
            "keep it above twice your highest frequency.",
            sfreq=128.0,
        ),
        _kind(
            "reref",
            "backend.clean.steps",
            "Re-reference EEG: 'average' (common average), 'mastoids' or 'ears' (linked), or chosen channel(s).",
            ref="average",
        ),
        _kind(
            "bad_channels",
            "backend.clean.badchannels",
            "Find bad channels as in PREP (flat, robust deviation, low correlation, RANSAC) and repair them by "
            "spherical-spline interpolation.",
            methods=BAD_CHANNEL_DETECTORS,
            interpolate=True,
            seed=97,
        ),
        _kind(
            "interpolate_bads",
            "backend.clean.badchannels",
            "Replace the channels marked bad by spherical-spline interpolation from their neighbours.",
        ),
        _kind(
            "asr",
            "backend.clean.asr",
            "Artifact Subspace Reconstruction: repairs short high-variance bursts (blinks, movement, muscle) against "
            "clean calibration data; lower cutoff = more aggressive (5–30, 20 is a safe default).",
            cutoff=20.0,
            calib_start_s=None,
            calib_stop_s=None,
            win_len=0.5,
            method="euclid",
        ),
        _kind(
            "art",
            "backend.denoise.inference",
            "Remove artifacts with the ART-style transformer denoiser (any montage, any rate).",
            overlap_s=2.0,
        ),
    )
}


def available() -> list[StepKind]:
    """Every registered step, in the table's order; imports no stage."""
    return list(_REGISTRY.values())


def get(name: str) -> StepKind:
    """The registered step ``name``; an :class:`EEGError` naming the known ones if absent."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise EEGError(f"unknown step {name!r}; known steps: {known}") from None


def source_lines(function: Callable[..., Any]) -> list[str]:
    """A small pure helper as script lines: the module constants it reads, then its source.

    A step calls the helper and its script defines and calls the same one, so a
    formula (the ICA's decimation, the notch frequencies) is written once.
    """
    import textwrap

    names = function.__code__.co_names
    scope = function.__globals__
    constants = [n for n in names if isinstance(scope.get(n), (int, float, str)) and not isinstance(scope[n], bool)]
    lines = ["", *(f"{n} = {scope[n]!r}" for n in constants)]
    return lines + textwrap.dedent(inspect.getsource(function)).rstrip().splitlines() + [""]
