"""The Recording: an MNE Raw plus where it came from and what was done to it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mne

from backend import steps
from backend.channels import montage_match
from backend.errors import EEGError


@dataclass(frozen=True)
class Step:
    """One entry of a recording's history.

    ``params`` are the JSON-serialisable arguments that reproduce the step;
    ``report`` says what it changed (shown to the user, not replayed).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params}

    def label(self) -> str:
        """A short human-readable line for the history panel."""
        if self.name == "load":
            return f"Loaded {self.params['files'][0]} ({self.params['format']})"
        try:
            return steps.describe(self.name, self.params)
        except EEGError:  # a step this version does not know (a recipe from elsewhere): as written
            args = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
            return f"{self.name}({args})" if args else self.name


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, eq=False)
class Recording:
    """An EEG recording and its processing history.

    Never mutated: :meth:`apply` returns a new Recording with the step appended.

    Attributes
    ----------
    raw : mne.io.BaseRaw
        The signals, in volts. Read lazily when the file format allows it.
    source_files : tuple of str
        Names of the files the recording was read from (primary file first).
    sha256 : str
        Hash of the source files' bytes, in name order: identifies the upload.
    format : str
        Name of the file format the recording was read from.
    history : tuple of Step
        Steps applied since loading, oldest first. The first is always ``load``.
    ica : mne.preprocessing.ICA or None
        An ICA decomposition stored in the source file (EEGLAB), if any.
    """

    raw: mne.io.BaseRaw
    source_files: tuple[str, ...]
    sha256: str
    format: str
    history: tuple[Step, ...] = ()
    ica: Any = None

    @property
    def name(self) -> str:
        return Path(self.source_files[0]).name

    @property
    def key(self) -> str:
        """Content key for caches: the source bytes plus every step's parameters."""
        steps_json = json.dumps([s.to_dict() for s in self.history], sort_keys=True, default=str)
        return hashlib.sha256((self.sha256 + steps_json).encode()).hexdigest()[:32]

    @property
    def steps_key(self) -> str:
        """The processing steps after loading, as a key: the same for the Library's copy of a file."""
        steps = json.dumps([s.to_dict() for s in self.history[1:]], sort_keys=True, default=str)
        return hashlib.sha256(steps.encode()).hexdigest()[:32]

    @property
    def duration_s(self) -> float:
        return self.raw.n_times / self.raw.info["sfreq"]

    def apply(self, name: str, **params: Any) -> Recording:
        """Return a new Recording with step ``name`` applied to a copy of the data.

        What the step needs beyond its parameters (the stored ICA) comes from this
        Recording, so the same call replays in any process.
        """
        raw, report = steps.get(name).run(self.raw.copy(), params, self)
        return self.with_raw(raw, Step(name, dict(params), dict(report)))

    def with_raw(self, raw: mne.io.BaseRaw, step: Step) -> Recording:
        """A new Recording holding ``raw``, with ``step`` appended to the history."""
        return replace(self, raw=raw, history=self.history + (step,))

    def summary(self) -> dict[str, Any]:
        """What a user wants to know first: the figures of ``python -m backend info``."""
        raw = self.raw
        types = raw.get_channel_types()
        by_type: dict[str, int] = {}
        for t in types:
            by_type[t] = by_type.get(t, 0) + 1
        counts: dict[str, int] = {}
        for description in raw.annotations.description:
            counts[str(description)] = counts.get(str(description), 0) + 1
        date = raw.info["meas_date"]
        return {
            "file": self.name,
            "files": list(self.source_files),
            "format": self.format,
            "n_channels": len(raw.ch_names),
            "channels": [{"name": n, "type": t} for n, t in zip(raw.ch_names, types)],
            "channel_types": by_type,
            "bads": list(raw.info["bads"]),
            "sfreq": float(raw.info["sfreq"]),
            "n_samples": int(raw.n_times),
            "duration_s": round(self.duration_s, 4),
            "start": date.isoformat() if date is not None else "anonymised",
            "annotations": counts,
            "montage": montage_match(raw),
            "ica_stored": self.ica is not None,
            "warnings": list(self.history[0].report.get("warnings", [])) if self.history else [],
            "sha256": self.sha256,
        }
