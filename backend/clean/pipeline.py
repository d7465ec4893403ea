"""Cleaning pipelines: a list of registered steps, written as a CLI string or a recipe.

The CLI string names steps by their registry name, separated by ``;``. Arguments
follow a ``:`` and are separated by ``,``: positional ones in the order of the
step's parameters, or ``key=value``. Values are numbers, ``none``, ``true`` /
``false``, text, or lists joined with ``+``::

    bandpass:1,40;notch:50;reref:average;bad_channels:methods=flat+deviation;asr:cutoff=20
    ica_iclabel:classes=eye+muscle,threshold=0.7

Every step the registry holds can be used, so steps registered by later stages
(the transformer denoiser ``art``) join pipelines with no change here.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

from backend import recipe, steps
from backend.components import ICLABEL_CLASSES, METHODS
from backend.errors import EEGError
from backend.recording import Recording
from backend.steps import BAD_CHANNEL_DETECTORS

# The page's order; registered steps not named here follow in registration order.
PREFERRED_ORDER = (
    "bandpass",
    "notch",
    "resample",
    "reref",
    "bad_channels",
    "interpolate_bads",
    "asr",
    "ica_iclabel",
    "art",
)
# Values a parameter may take, for the page's select boxes and the parser's messages.
PARAM_CHOICES: dict[tuple[str, str], tuple] = {
    ("reref", "ref"): ("average", "mastoids", "ears"),
    ("asr", "method"): ("euclid", "riemann"),
    ("asr", "mode"): ("lookahead", "blocks", "single"),
    ("bad_channels", "methods"): BAD_CHANNEL_DETECTORS,
    ("ica_iclabel", "method"): METHODS,
    ("ica_iclabel", "classes"): ICLABEL_CLASSES,
}
# Where the choices are suggestions only (a channel may be a reference too).
OPEN_CHOICES = {("reref", "ref")}

_NAME = re.compile(r"^[A-Za-z_][\w]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def cleaning_steps() -> list[steps.StepKind]:
    """The registered steps a cleaning pipeline offers, in the page's order."""
    # Not the channel table's fixes, annotations or hand-picked ICA components: the registry marks them.
    kinds = [k for k in steps.available() if k.cleaning]
    rank = {name: i for i, name in enumerate(PREFERRED_ORDER)}
    return sorted(kinds, key=lambda k: (rank.get(k.name, len(rank)), kinds.index(k)))


def step_parameters(name: str) -> dict[str, Any]:
    """The parameters of step ``name`` and their defaults (``inspect.Parameter.empty`` if none)."""
    return dict(steps.get(name).params)  # from the registry's table: the step's module stays unimported


def parse_value(text: str) -> Any:
    """A CLI argument as a value: number, None, bool, ``+``-joined list or text."""
    text = text.strip()
    if "+" in text and not _NUMBER.match(text):
        return [parse_value(part) for part in text.split("+") if part.strip()]
    lowered = text.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and not re.search(r"[.eE]", text) else number
    return text


def _check_type(step: str, key: str, default: Any, value: Any) -> Any:
    """Refuse a value of the wrong kind for its default; a scalar becomes a list where a list is expected."""
    if default is inspect.Parameter.empty or default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise EEGError(f"{step}: {key} must be true or false, got {value!r}")
    elif isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EEGError(f"{step}: {key} must be a number, got {value!r}")
    elif isinstance(default, (list, tuple)) and not isinstance(value, list):
        value = [value]
    choices = PARAM_CHOICES.get((step, key))
    if choices and isinstance(default, (list, tuple)):
        unknown = [v for v in value if v not in choices]
        if unknown:
            raise EEGError(f"{step}: {key} takes {', '.join(map(str, choices))}; got {', '.join(map(str, unknown))}")
    elif choices and (step, key) not in OPEN_CHOICES and value not in choices:
        raise EEGError(f"{step}: {key} takes {', '.join(map(str, choices))}; got {value!r}")
    return value


def parse_step(text: str) -> dict[str, Any]:
    """One ``name:arg,key=value`` item as ``{"name", "params"}``; EEGError if malformed."""
    name, _, args = text.strip().partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise EEGError(f"malformed step {text.strip()!r}: write name:arguments, e.g. bandpass:1,40")
    kind = steps.get(name)  # unknown names are refused with the list of known ones
    if not kind.cleaning:
        raise EEGError(f"{name} is not a cleaning step")
    expected = step_parameters(name)
    order = list(expected)
    params: dict[str, Any] = {}
    positional = True
    for i, arg in enumerate(a for a in args.split(",") if args.strip()):
        key, eq, raw_value = arg.partition("=")
        if not arg.strip():
            raise EEGError(f"{name}: empty argument in {text.strip()!r}")
        if eq:
            key = key.strip()
            positional = False
            if key not in expected:
                raise EEGError(f"{name} has no parameter {key!r}; its parameters are {', '.join(order) or 'none'}")
        else:
            if not positional:
                raise EEGError(f"{name}: a positional argument cannot follow key=value ({arg.strip()!r})")
            if i >= len(order):
                raise EEGError(
                    f"{name} takes at most {len(order)} argument(s) ({', '.join(order) or 'none'}), got more"
                )
            key, raw_value = order[i], arg
        if key in params:
            raise EEGError(f"{name}: {key} given twice")
        params[key] = _check_type(name, key, expected[key], parse_value(raw_value))
    missing = [k for k, d in expected.items() if d is inspect.Parameter.empty and k not in params]
    if missing:
        raise EEGError(f"{name} needs {', '.join(missing)}")
    return {"name": name, "params": params}


def check_step(step: dict[str, Any]) -> dict[str, Any]:
    """A ``{"name", "params"}`` built by the page, checked exactly as the CLI string would be."""
    return parse_step(format_pipeline([step]))


def parse_pipeline(text: str) -> list[dict[str, Any]]:
    """A CLI pipeline string as a list of ``{"name", "params"}``, checked against the registry.

    Raises
    ------
    EEGError
        For an empty string, an unknown step, an unknown or mistyped parameter.
    """
    if not isinstance(text, str) or not text.strip():
        raise EEGError('the pipeline is empty: give steps like "bandpass:1,40;reref:average"')
    items = [item for item in text.split(";")]
    if any(not item.strip() for item in items[:-1]) or not items[0].strip():
        raise EEGError(f"empty step in pipeline {text!r}")
    return [parse_step(item) for item in items if item.strip()]


def _format_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(_format_value(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def format_pipeline(pipeline: list[dict[str, Any]]) -> str:
    """The CLI string of a pipeline (the inverse of :func:`parse_pipeline`)."""
    parts = []
    for step in pipeline:
        args = ",".join(f"{k}={_format_value(v)}" for k, v in step.get("params", {}).items())
        parts.append(f"{step['name']}:{args}" if args else step["name"])
    return ";".join(parts)


def pipeline_json(pipeline: list[dict[str, Any]]) -> str:
    """A pipeline saved as an EEG Explorer recipe (the Load page and ``--recipe`` read it back)."""
    return json.dumps({"eeg_explorer_recipe": recipe.RECIPE_VERSION, "steps": pipeline}, indent=2)


def load_pipeline(text: str) -> list[dict[str, Any]]:
    """The steps of a saved recipe or pipeline JSON, checked; never executes anything from it."""
    parsed = recipe.parse_recipe(text)
    return [{"name": s["name"], "params": dict(s.get("params", {}))} for s in parsed.get("steps", [])]


def pipeline_of(recording: Recording, since: int = 1) -> list[dict[str, Any]]:
    """The cleaning steps of a recording's history from index ``since`` on, as a pipeline."""
    cleaning = {k.name for k in cleaning_steps()}
    return [s.to_dict() for s in recording.history[since:] if s.name in cleaning]


def run_pipeline(
    recording: Recording, pipeline: list[dict[str, Any]], progress: Callable[[int, int, str], None] | None = None
) -> Recording:
    """Apply the steps in order; each becomes a step of the returned recording's history.

    ``progress(i, n, name)`` is called before step ``i`` (0-based) of ``n``.
    """
    if not pipeline:
        raise EEGError("the pipeline has no steps")
    for i, step in enumerate(pipeline):
        if progress is not None:
            progress(i, len(pipeline), step["name"])
        recording = recording.apply(step["name"], **step.get("params", {}))
    if progress is not None:
        progress(len(pipeline), len(pipeline), "done")
    return recording
