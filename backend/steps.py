"""Registry of processing steps: the one place that knows how to apply a step and
how to write it as MNE-Python code.

A step is a pure function of a Raw copy and JSON-serialisable parameters, so a
recording's history can be replayed from the original file (``recipe.replay``)
and exported as a runnable script (``recipe.to_script``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from backend.errors import EEGError

# Modules that register steps when imported. A new stage adds its module here.
STEP_PROVIDERS = (
    "backend.channels",
    "backend.components.ica",
    "backend.browse.annotations",
    "backend.clean.steps",
    "backend.clean.badchannels",
    "backend.clean.asr",
    "backend.denoise.inference",
)


@dataclass(frozen=True)
class StepKind:
    """How to apply one kind of step and how to write it as code.

    ``apply(raw, **params)`` receives a copy it may change and returns the new Raw,
    or ``(raw, report)`` where ``report`` is a small dict saying what it changed.
    ``script(**params)`` returns MNE-Python lines that act on a variable ``raw``.
    """

    name: str
    summary: str
    apply: Callable[..., Any]
    script: Callable[..., list[str]]


_REGISTRY: dict[str, StepKind] = {}
_loaded = False


def register(name: str, summary: str, script: Callable[..., list[str]]):
    """Decorator registering ``apply`` as the step ``name``."""

    def decorate(apply):
        _REGISTRY[name] = StepKind(name=name, summary=summary, apply=apply, script=script)
        return apply

    return decorate


def _load_providers() -> None:
    global _loaded
    if not _loaded:
        for module in STEP_PROVIDERS:
            importlib.import_module(module)
        _loaded = True


def available() -> list[StepKind]:
    """Every registered step, in registration order (providers' order, then each module's)."""
    _load_providers()
    return list(_REGISTRY.values())


def get(name: str) -> StepKind:
    """The registered step ``name``; an :class:`EEGError` naming the known ones if absent."""
    _load_providers()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise EEGError(f"unknown step {name!r}; known steps: {known}") from None
