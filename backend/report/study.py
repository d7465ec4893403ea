"""The study report: dataset summary, quality table with flags and distributions, group results, methods.

Read from a study's derivatives folder (``study run``'s output): the recordings' sidecars give
the quality table and the recipe; a group classification and grand averages are included when
given or stored there (``DERIV/group/*.json``, :func:`backend.study.run.save_group`). Rendered by
the recording report's HTML and PDF pieces (:mod:`backend.report.html`, :mod:`backend.report.pdf`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.errors import EEGError
from backend.report.build import PAPERS, Item, item_from_figure
from backend.report.methods import bibtex, study_methods

MAX_ROWS = 500
# Each subject's ROC-AUC is its mean over folds, with that mean's 95 % interval (corrected resampled t).
CLASSIFICATION_COLUMNS = ("Subject", "ROC-AUC (95 % interval)", "Accuracy", "Trials", "Status")
NO_GROUP = "No group classification or grand averages are stored for this study."
QUALITY_COLUMNS = (
    "Recording",
    "Status",
    "Duration (s)",
    "Bad ch.",
    "ASR (s)",
    "ICA removed",
    "Line noise",
    "> 100 µV",
    "Flag",
)


def _bracketed(interval) -> str:
    from backend.classify.validate import interval_text

    text = interval_text(interval)
    return f"({text})" if text else ""


def _number(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else "–"


def _pipeline_text(recipe: list[dict]) -> str:
    from backend.clean.pipeline import format_pipeline

    return format_pipeline(recipe) if recipe else "none"


@dataclass
class StudyReport:
    """Everything a study report shows; :meth:`html` and :meth:`pdf` render it."""

    deriv: str
    rows: list[dict[str, Any]]
    recipes: list[list[dict[str, Any]]] = field(default_factory=list)
    classification: dict[str, Any] | None = None
    averages: dict[str, Any] | None = None
    title: str = "Study report"
    generated: str = field(default_factory=lambda: dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))

    @classmethod
    def from_deriv(
        cls, deriv: str | Path, classification: dict | None = None, averages: dict | None = None
    ) -> StudyReport:
        """The report of the study under ``deriv``; group results not given are read from there when stored.

        Raises
        ------
        EEGError
            When ``deriv`` is not a folder or holds no study results.
        """
        from backend.study import run

        rows = run.read_results(deriv)
        return cls(
            str(deriv),
            rows,
            run.read_recipes(deriv),
            classification or run.stored_group(deriv, "classification"),
            averages or run.stored_group(deriv, "averages"),
        )

    # --- content ------------------------------------------------------------------------------

    @property
    def recipe(self) -> list[dict[str, Any]]:
        return self.recipes[0] if self.recipes else []

    def subjects(self) -> list[str]:
        return sorted({str(r.get("subject")) for r in self.rows if r.get("subject") is not None})

    def flagged(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("outlier")]

    def summary(self) -> list[tuple[str, str]]:
        """The dataset summary's rows."""
        counts: dict[str, int] = {}
        for r in self.rows:
            counts[r.get("status", "failed")] = counts.get(r.get("status", "failed"), 0) + 1
        seconds = sum(float(r["duration_s"]) for r in self.rows if isinstance(r.get("duration_s"), (int, float)))
        channels = sorted({int(r["n_channels"]) for r in self.rows if isinstance(r.get("n_channels"), int)})
        tasks = sorted({str(r["task"]) for r in self.rows if r.get("task")})
        sessions = sorted({str(r["session"]) for r in self.rows if r.get("session")})
        subjects = self.subjects()
        rows = [
            ("Derivatives", self.deriv),
            ("Recordings", f"{len(self.rows)} ({', '.join(f'{n} {s}' for s, n in counts.items())})"),
            ("Subjects", f"{len(subjects)} ({', '.join(subjects[:20])}{', …' if len(subjects) > 20 else ''})"),
            ("Sessions", ", ".join(sessions) or "one"),
            ("Tasks", ", ".join(tasks) or "not named"),
            ("EEG channels", ", ".join(map(str, channels)) or "–"),
            ("Total duration", f"{seconds / 3600:.2f} h ({seconds:g} s)"),
            ("Recipe", _pipeline_text(self.recipe)),
            ("Flagged recordings", f"{len(self.flagged())} of {len(self.rows)}"),
        ]
        if len(self.recipes) > 1:
            rows.append(
                ("Other recipes", "; ".join(_pipeline_text(r) for r in self.recipes[1:]) + " (recordings of a rerun)")
            )
        return rows

    def quality_rows(self) -> tuple[list[list[str]], int]:
        """The quality table's rows as text (at most :data:`MAX_ROWS`, flagged ones first) and how many were left out."""
        ordered = sorted(self.rows, key=lambda r: (not r.get("outlier"), r.get("status") != "failed"))
        out = [
            [
                str(r.get("file", "")),
                str(r.get("status", "")),
                _number(r.get("duration_s"), ".1f"),
                _number(r.get("n_bad"), "d"),
                _number(r.get("asr_s"), ".1f"),
                _number(r.get("ica_removed"), "d"),
                _number(r.get("line_noise_ratio"), ".2f"),
                _number(r.get("high_amplitude_fraction"), ".3f"),
                str(r.get("outlier_reason") or r.get("error") or ""),
            ]
            for r in ordered[:MAX_ROWS]
        ]
        return out, max(0, len(ordered) - MAX_ROWS)

    def classification_rows(self) -> list[list[str]]:
        """One row per subject (and session) of the group classification."""
        if not self.classification:
            return []
        return [
            [
                f"sub-{r.get('subject')}" + (f" ses-{r['session']}" if r.get("session") else ""),
                " ".join(filter(None, [_number(r.get("roc_auc"), ".3f"), _bracketed(r.get("roc_auc_ci95"))])),
                _number(r.get("accuracy"), ".3f"),
                " ".join(f"{k}={v}" for k, v in (r.get("n_trials") or {}).items()),
                str(r.get("status", "")) + (f": {r['error']}" if r.get("error") else ""),
            ]
            for r in self.classification.get("subjects", [])
        ]

    def classification_line(self) -> str:
        c = self.classification or {}
        low, high = (c.get("roc_auc_ci95") or [math.nan, math.nan])[:2]
        return (
            f"Mean ROC-AUC over {c.get('n_subjects', 0)} subject(s): {_number(c.get('roc_auc_mean'), '.3f')} "
            f"(95 % CI {_number(low, '.3f')}–{_number(high, '.3f')}, Student's t); pipeline {c.get('pipeline', '?')}, "
            f"{c.get('folds', '?')}-fold cross-validation within each subject."
        )

    def quality_items(self) -> list[Item]:
        """The distribution of each quality metric across the cohort (outliers in red)."""
        from backend.study import figures

        usable = [m for m in figures.METRIC_LABELS if any(isinstance(r.get(m), (int, float)) for r in self.rows)]
        return [
            item_from_figure("figure", figures.METRIC_LABELS[m], figures.quality_figure(self.rows, m)) for m in usable
        ]

    def group_items(self) -> list[Item]:
        """The group classification plot and the grand averages, when the study has them."""
        from backend.study import figures

        items = []
        if self.classification:
            items.append(
                item_from_figure("figure", "Group classification", figures.classification_figure(self.classification))
            )
        if self.averages and self.averages.get("grand"):
            if "psd_db" in self.averages["grand"]:
                items.append(
                    item_from_figure("figure", "Grand-average spectrum", figures.spectra_figure(self.averages))
                )
            for condition in self.averages["grand"].get("erp", {}):
                items.append(
                    item_from_figure(
                        "figure",
                        f"Grand-average event response: {condition}",
                        figures.event_average_figure(self.averages, condition),
                    )
                )
        return items

    def methods(self) -> tuple[str, list[str]]:
        from backend.study.quality import OUTLIER_Z

        return study_methods(self.recipe, len(self.rows), len(self.subjects()), OUTLIER_Z, self.classification)

    def bibtex(self) -> str:
        return bibtex(self.methods()[1])

    # --- output -------------------------------------------------------------------------------

    def html(self) -> str:
        from backend.report import html
        from backend.report.build import escape, software

        quality, left_out = self.quality_rows()
        parts = [
            *html.head(f"{self.title} · {Path(self.deriv).name}", self.title),
            *html.key_values([*self.summary(), ("Generated", self.generated), software()]),
            "<h2>Quality</h2>",
            *html.table(list(QUALITY_COLUMNS), quality),
        ]
        if left_out:
            parts.append(f"<p>… and {left_out} more (study qc lists them all).</p>")
        charts = self.quality_items()
        drawn, scripts = html.figures(charts, "No quality metric to plot.")
        parts += drawn
        parts.append("<h2>Group results</h2>")
        if self.classification:
            parts.append(f"<p>{escape(self.classification_line())}</p>")
            parts += html.table([*CLASSIFICATION_COLUMNS], self.classification_rows())
        group = self.group_items()
        more, more_scripts = html.figures(group, NO_GROUP, start=len(charts) + 1)
        parts += more
        scripts += more_scripts
        text, keys = self.methods()
        parts += html.methods_and_end(text, keys, self.bibtex(), scripts)
        return "\n".join(parts)

    def pdf(self, paper: str = "A4") -> bytes:
        from backend.report import pdf as writer
        from backend.report.build import software

        if paper not in PAPERS:
            raise EEGError(f"paper must be {' or '.join(PAPERS)}, got {paper!r}")
        doc = writer.document(paper, f"{self.title} — {Path(self.deriv).name}")
        writer.title_page(doc, self.title)
        writer.key_values(doc, [*self.summary(), ("Generated", self.generated), software()])
        writer.heading(doc, "Quality")
        quality, left_out = self.quality_rows()
        writer.table(doc, list(QUALITY_COLUMNS), quality, (34, 14, 14, 9, 10, 10, 11, 11, 47), 6.5)
        if left_out:
            writer.para(doc, f"… and {left_out} more (study qc lists them all).")
        charts = self.quality_items()
        writer.figures(doc, charts, "No quality metric to plot.")
        writer.heading(doc, "Group results")
        if self.classification:
            writer.para(doc, self.classification_line())
            writer.table(
                doc,
                list(CLASSIFICATION_COLUMNS),
                self.classification_rows(),
                (30, 28, 18, 36, 48),
                8,
            )
        writer.figures(doc, self.group_items(), NO_GROUP, start=len(charts) + 1)
        writer.methods(doc, *self.methods())
        return bytes(doc.output())
