"""How each method was validated, with figures read only from ``benchmarks/results/*.json``.

The benchmarks write those files (:func:`write`); the app and the reports state a
figure about their own accuracy only through :func:`line`, which formats it from
there, so no figure is shown that no benchmark produced (``tests/test_report_validation.py``).
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from backend.config import ROOT

RESULTS = ROOT / "benchmarks" / "results"

# method -> (benchmark results file, one line whose {fields} are dotted paths into its "figures").
# The templates hold no digits: every number in a line comes from a results file.
LINES: dict[str, tuple[str, str]] = {
    "art": (
        "denoise",
        "Validated by {benchmark} on artifacts injected into held-out recordings (RRMSE_t after a {scored_band} "
        "band-pass, lower is better): blinks {floor.blink.transformer_rrmse_t}, muscle "
        "{floor.muscle.transformer_rrmse_t}, eye and muscle together {floor.mixed.transformer_rrmse_t}, against "
        "{floor.blink.best_classical_rrmse_t}, {floor.muscle.best_classical_rrmse_t} and "
        "{floor.mixed.best_classical_rrmse_t} for the best classical method of each "
        "({floor.blink.best_classical}; {floor.muscle.best_classical}; {floor.mixed.best_classical}).",
    ),
    "sources": (
        "sources",
        "Validated by {benchmark}: eLORETA median localisation error {eLORETA_median_mm.bem->bem} mm "
        "({n_dipoles} simulated dipoles, {channels} channels, {snr_db} dB, BEM to BEM; "
        "{eLORETA_median_mm.bem->sphere} mm inverting with the sphere).",
    ),
    "classify": (
        "classify",
        "Validated by {benchmark}: the 'best' pipeline's mean ROC-AUC is {best_roc_auc_mean} "
        "on PhysioNet motor imagery ({n_subjects} subjects, {folds}-fold cross-validation, window and band chosen "
        "by inner cross-validation); the design chosen on one half of the subjects scores "
        "{out_of_selection_roc_auc_mean} on the other (plain FgMDM {fgmdm_roc_auc_mean}).",
    ),
    "iclabel": (
        "components",
        "ICLabel as published ({published.source}, recorded by {benchmark}): balanced accuracy "
        "{published.balanced_accuracy_brain_vs_other} for brain against other components on its expert-labelled "
        "test set.",
    ),
}
# Other names of a method: a history step, or the kind of a report item, validated by a line above.
ALIASES = {"ica_iclabel": "iclabel", "components": "iclabel"}


def read(name: str, folder: Path = RESULTS) -> dict[str, Any] | None:
    """The results file of benchmark ``name`` (``None`` where it is absent or unreadable)."""
    try:
        return json.loads((folder / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def write(name: str, figures: dict[str, Any], *, benchmark: str, protocol: str, folder: Path = RESULTS) -> Path:
    """Write a benchmark's headline figures (called by the benchmark scripts when they finish)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    body = {"benchmark": benchmark, "protocol": protocol, "figures": figures}
    path.write_text(json.dumps(body, indent=2, default=float) + "\n")
    return path


def _lookup(figures: dict[str, Any], dotted: str) -> Any:
    value: Any = figures
    for part in dotted.split("."):
        value = value[part]
    return value


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def line(method: str, folder: Path = RESULTS) -> str | None:
    """The validation line of ``method`` (a key of :data:`LINES` or :data:`ALIASES`), or ``None`` without its results."""
    method = ALIASES.get(method, method)
    if method not in LINES:
        return None
    name, template = LINES[method]
    results = read(name, folder)
    if not results:
        return None
    values = {}
    try:
        for field in _fields(template):
            values[field] = results["benchmark"] if field == "benchmark" else _lookup(results["figures"], field)
    except (KeyError, TypeError):
        return None
    for field, value in values.items():
        template = template.replace("{" + field + "}", f"{value:g}" if isinstance(value, float) else str(value))
    return template


def protocol(method: str, folder: Path = RESULTS) -> str | None:
    """The protocol sentence of the benchmark validating ``method``."""
    method = ALIASES.get(method, method)
    results = read(LINES[method][0], folder) if method in LINES else None
    return results.get("protocol") if results else None


def for_item(kind: str, analysis: dict[str, Any], folder: Path = RESULTS) -> str | None:
    """The validation line shown beside a report item (``None`` when its method has none).

    A before/after item of the Clean page is validated when its steps (``analysis['steps']``)
    include the transformer denoiser; components, sources and classification items by their own.
    """
    if kind == "clean":
        return line("art", folder) if "art" in analysis.get("steps", ()) else None
    return line(kind, folder) if kind in ("components", "sources", "classify") else None
