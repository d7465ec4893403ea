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

from backend.components import ARTIFACT_CLASSES, CLASS_NAMES
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
    label: str = ""  # what people call the step ("Band-pass filter"); the name if empty
    cleaning: bool = True  # offered in cleaning pipelines (not channel fixes, annotations or hand-picked ICA)

    @property
    def title(self) -> str:
        """The step in people's words, for pickers, tables and the history."""
        return self.label or self.name.replace("_", " ")

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


def _kind(
    name: str,
    label: str,
    module: str,
    summary: str,
    needs: tuple[str, ...] = (),
    cleaning: bool = True,
    **params: Any,
) -> StepKind:
    return StepKind(name, module, summary, params, needs, label=label, cleaning=cleaning)


# Every step, in the order pages list them by default (a new stage adds its rows).
_REGISTRY: dict[str, StepKind] = {
    k.name: k
    for k in (
        _kind(
            "rename_channels",
            "Rename channels",
            "backend.channels",
            "Rename channels (for example to standard 10-05 labels).",
            mapping=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "set_channel_types",
            "Set channel types",
            "backend.channels",
            "Change channel types (EEG, EOG, EMG, ECG, misc, stim).",
            mapping=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "set_bads",
            "Mark bad channels",
            "backend.channels",
            "Mark channels as bad: they are kept but left out of averages, ICA and models.",
            bads=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "ica_remove",
            "Remove ICA components",
            "backend.components.ica",
            "Remove chosen ICA components (artifacts) from the signals.",
            needs=("ica",),
            method="picard",
            n_components=None,
            seed=97,
            exclude=(),
            stored=None,
            source_file=None,
            cleaning=False,
        ),
        _kind(
            "ica_iclabel",
            "ICA + ICLabel removal",
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
            "Add annotation",
            "backend.browse.annotations",
            "Add an annotation (onset and duration in seconds from the start, and a label).",
            onset=REQUIRED,
            duration=REQUIRED,
            description=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "edit_annotation",
            "Edit annotation",
            "backend.browse.annotations",
            "Change an annotation's onset, duration or label.",
            index=REQUIRED,
            onset=REQUIRED,
            duration=REQUIRED,
            description=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "delete_annotation",
            "Delete annotation",
            "backend.browse.annotations",
            "Delete an annotation.",
            index=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "import_annotations",
            "Import annotations",
            "backend.browse.annotations",
            "Add annotations read from a CSV file (onset, duration, description).",
            rows=REQUIRED,
            cleaning=False,
        ),
        _kind(
            "bandpass",
            "Band-pass filter",
            "backend.clean.steps",
            "Band-pass filter (zero-phase FIR): keeps what lies between the low and high cut; 1–40 Hz removes drifts, "
            "line noise and most muscle.",
            l_freq=1.0,
            h_freq=40.0,
        ),
        _kind(
            "notch",
            "Notch filter",
            "backend.clean.steps",
            "Notch filter at the mains frequency (50 or 60 Hz) and its harmonics below Nyquist: removes line noise only.",
            freq=50.0,
        ),
        _kind(
            "resample",
            "Resample",
            "backend.clean.steps",
            "Resample to a new rate (with anti-alias filtering): smaller files and faster steps; "
            "keep it above twice your highest frequency.",
            sfreq=128.0,
        ),
        _kind(
            "reref",
            "Re-reference",
            "backend.clean.steps",
            "Re-reference EEG: 'average' (common average), 'mastoids' or 'ears' (linked), or chosen channel(s).",
            ref="average",
        ),
        _kind(
            "bad_channels",
            "Find and repair bad channels",
            "backend.clean.badchannels",
            "Find bad channels as in PREP (flat, robust deviation, low correlation, RANSAC) and repair them by "
            "spherical-spline interpolation.",
            methods=BAD_CHANNEL_DETECTORS,
            interpolate=True,
            seed=97,
        ),
        _kind(
            "interpolate_bads",
            "Interpolate bad channels",
            "backend.clean.badchannels",
            "Replace the channels marked bad by spherical-spline interpolation from their neighbours.",
        ),
        _kind(
            "asr",
            "Artifact Subspace Reconstruction (ASR)",
            "backend.clean.asr",
            "Artifact Subspace Reconstruction: repairs short high-variance bursts (blinks, movement, muscle) against "
            "clean calibration data; lower cutoff = more aggressive (5–30, 20 is a safe default).",
            cutoff=20.0,
            calib_start_s=None,
            calib_stop_s=None,
            win_len=0.5,
            method="euclid",
            mode="lookahead",
        ),
        _kind(
            "art",
            "Transformer denoiser",
            "backend.denoise.inference",
            "Remove artifacts with the ART-style transformer denoiser (any montage, any rate).",
            overlap_s=1.0,
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


# Parameters in people's words, for the pages' inputs: by (step, parameter), else by parameter.
PARAM_LABELS: dict[tuple[str, str] | str, str] = {
    "l_freq": "Low cut (Hz)",
    "h_freq": "High cut (Hz)",
    ("notch", "freq"): "Mains frequency (Hz)",
    ("resample", "sfreq"): "New rate (Hz)",
    "ref": "Reference",
    ("bad_channels", "methods"): "Detectors",
    "interpolate": "Repair by interpolation",
    "seed": "Random seed",
    "cutoff": "Cutoff (standard deviations)",
    "calib_start_s": "Calibration from (s)",
    "calib_stop_s": "Calibration to (s)",
    "win_len": "Window (s)",
    "method": "Method",
    ("asr", "mode"): "Windows",
    "n_components": "Components (count, or a fraction of variance)",
    "classes": "Remove components of the classes",
    "threshold": "When their probability is at least",
    "overlap_s": "Window overlap (s)",
}

# Choices of a parameter in people's words, for the pages' select boxes and the history.
CHOICE_WORDS: dict[tuple[str, str], dict[str, str]] = {
    ("asr", "mode"): {
        "lookahead": "sliding, centred on each moment (look-ahead)",
        "blocks": "consecutive blocks (before 2026-12)",
        "single": "one pass over the recording (meegkit as is)",
    },
}


def choice_words(step: str, name: str, value: Any) -> str:
    """A parameter's value in people's words where the registry has them, else the value itself."""
    return CHOICE_WORDS.get((step, name), {}).get(value, str(value))


_METHOD_NAMES = {"picard": "Picard", "infomax": "Infomax", "fastica": "FastICA", "stored": "the file's stored ICA"}
_REFERENCES = {"average": "average", "mastoids": "linked mastoids", "ears": "linked ears"}


def param_label(step: str, name: str) -> str:
    """The input label of parameter ``name`` of ``step`` in people's words."""
    return PARAM_LABELS.get((step, name)) or PARAM_LABELS.get(name) or name.replace("_", " ").capitalize()


def _and(items, most: int = 6) -> str:
    """``["a", "b", "c"]`` as "a, b and c"; past ``most`` items, the first ones and how many more."""
    items = [str(i) for i in items]
    if len(items) > most:
        return ", ".join(items[: most - 1]) + f" and {len(items) - most + 1} more"
    if len(items) < 2:
        return items[0] if items else "none"
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ica_words(p: dict[str, Any]) -> str:
    n, method = p.get("n_components"), str(p.get("method"))
    if method == "stored":
        return _METHOD_NAMES["stored"]
    if n is None:
        count = "all components"
    elif isinstance(n, float):
        count = f"components for {100 * n:g}% of the variance"
    else:
        count = f"{n} components"
    return f"{_METHOD_NAMES.get(method, method)}, {count}"


def _settings(name: str, p: dict[str, Any]) -> str:
    """The parameters of a step in words ("1–40 Hz"), without the step's name; "" where it has none to say."""
    if name == "bandpass":
        low, high = p.get("l_freq"), p.get("h_freq")
        if low and high:
            return f"{low:g}–{high:g} Hz"
        return f"low cut {low:g} Hz" if low else f"high cut {high:g} Hz" if high else "no cut"
    if name == "notch":
        return f"{p['freq']:g} Hz and harmonics"
    if name == "resample":
        return f"to {p['sfreq']:g} Hz"
    if name == "reref":
        ref = p["ref"]
        return _REFERENCES.get(ref, ref) if isinstance(ref, str) else _and(ref)
    if name == "bad_channels":
        detectors = _and("RANSAC" if m == "ransac" else m for m in p["methods"])
        return detectors + ("; repaired" if p.get("interpolate") else "; marked only")
    if name == "asr":
        calib = ""
        if p.get("calib_start_s") is not None or p.get("calib_stop_s") is not None:
            calib = f", calibration {p.get('calib_start_s') or 0:g}–{p.get('calib_stop_s') or 'end'} s"
        mode = p.get("mode", "lookahead")
        windows = "" if mode == "lookahead" else f", windows {choice_words('asr', 'mode', mode)}"
        return f"cutoff {p['cutoff']:g}{calib}{windows}"
    if name == "ica_iclabel":
        classes = _and(CLASS_NAMES.get(c, c) for c in p["classes"])
        return f"{classes} at p ≥ {p['threshold']:g} ({_ica_words(p)})"
    if name == "ica_remove":
        removed = p.get("exclude") or []
        which = f"component{'s' * (len(removed) != 1)} {_and(removed)}" if removed else "no components"
        return f"{which} ({_ica_words(p)})"
    if name in ("add_annotation", "edit_annotation"):
        where = f"'{p['description']}' at {p['onset']:g} s for {p['duration']:g} s"
        return where if name == "add_annotation" else f"#{p['index']} to {where}"
    if name == "delete_annotation":
        return f"#{p['index']}"
    if name == "import_annotations":
        return f"{len(p['rows'])} from a CSV file"
    if name == "rename_channels":
        return _and(f"{old} → {new}" for old, new in p["mapping"].items())
    if name == "set_channel_types":
        return _and(f"{ch} → {kind.upper()}" for ch, kind in p["mapping"].items())
    if name == "set_bads":
        return _and(p["bads"]) if p["bads"] else "none"
    return ""


def settings_words(name: str, params: dict[str, Any]) -> str:
    """What a step's parameters set, in words and without the step's name (a table's column beside it)."""
    kind = get(name)
    full = {k: v for k, v in kind.params.items() if v is not REQUIRED} | dict(params)
    try:
        return _settings(name, full)
    except (KeyError, TypeError, ValueError):  # a recipe from elsewhere: say it as it is written
        return ", ".join(f"{k}={v}" for k, v in params.items())


def describe(name: str, params: dict[str, Any]) -> str:
    """A step and its parameters as a person would say them, e.g. "Low cut 1 Hz",
    "Removed ICA components 0 and 3 (Picard, 20 components)"; for the history, reports and pages."""
    kind = get(name)
    settings = settings_words(name, params)
    if name == "bandpass":
        return settings[0].upper() + settings[1:] if " cut " in f" {settings}" else f"Band-pass {settings}"
    if name == "ica_remove":
        return f"Removed ICA {settings}"
    if name == "resample":
        return f"Resample {settings}"
    return f"{kind.title}: {settings}" if settings else kind.title


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
