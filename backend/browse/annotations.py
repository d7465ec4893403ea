"""Annotations as history steps (add, edit, delete, import CSV), CSV export, and
events read from stim channels.

Times in these functions are seconds from the recording's first sample, as the
viewer shows them; MNE stores onsets from the measurement start, so
``raw.first_time`` is added on the way in and removed on the way out.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import mne
import numpy as np

from backend.errors import EEGError

CSV_COLUMNS = ("onset", "duration", "description")
MAX_CSV_ROWS = 100_000


def onsets(annotated: mne.io.BaseRaw) -> np.ndarray:
    """The annotations' onsets in seconds from the first sample (MNE keeps them from the measurement start)."""
    return np.asarray(annotated.annotations.onset, float) - annotated.first_time


def table(raw: mne.io.BaseRaw) -> list[dict]:
    """The annotations as rows ``{'index', 'onset', 'duration', 'description'}`` (s from the first sample)."""
    ann = raw.annotations
    return [
        {"index": i, "onset": float(o), "duration": float(d), "description": str(s)}
        for i, (o, d, s) in enumerate(zip(onsets(raw), ann.duration, ann.description))
    ]


def in_window(raw: mne.io.BaseRaw, start: float, stop: float) -> list[dict]:
    """Annotations overlapping ``[start, stop]`` (s)."""
    return [r for r in table(raw) if r["onset"] <= stop and r["onset"] + r["duration"] >= start]


def labels(raw: mne.io.BaseRaw) -> list[str]:
    """The distinct annotation labels, in order of first appearance."""
    return list(dict.fromkeys(str(d) for d in raw.annotations.description))


def next_onset(raw: mne.io.BaseRaw, label: str | None, after: float, direction: int = 1) -> float | None:
    """Onset of the next (``direction=1``) or previous (``-1``) annotation of ``label``, or None."""
    onsets = np.array([r["onset"] for r in table(raw) if label is None or r["description"] == label])
    if direction > 0:
        later = onsets[onsets > after + 1e-6]
        return float(later.min()) if len(later) else None
    earlier = onsets[onsets < after - 1e-6]
    return float(earlier.max()) if len(earlier) else None


def selected_span(boxes, start: float, stop: float) -> tuple[float, float] | None:
    """The time span of the last box dragged on the traces, as ``(onset, duration)`` within ``[start, stop]``.

    ``boxes`` is a Plotly box selection as Streamlit reports it (dicts with an ``'x'`` pair
    of times in seconds); None when there is none, or it lies off the page.
    """
    xs = [[float(t) for t in x] for b in boxes or () if isinstance(b, dict) and len(x := b.get("x") or ()) == 2]
    if not xs:
        return None
    lo, hi = max(start, min(xs[-1])), min(stop, max(xs[-1]))
    return (round(lo, 3), round(hi - lo, 3)) if hi > lo else None


def _check(raw, onset, duration, description):
    try:
        onset, duration = float(onset), float(duration)
    except (TypeError, ValueError):
        raise EEGError("an annotation's onset and duration must be numbers (seconds)") from None
    end = raw.n_times / raw.info["sfreq"]
    if not (np.isfinite(onset) and np.isfinite(duration)) or duration < 0:
        raise EEGError("an annotation needs a finite onset and a duration of 0 s or more")
    if onset < 0 or onset + duration > end + 1e-6:
        raise EEGError(f"annotation {onset:g}–{onset + duration:g} s lies outside the recording (0–{end:g} s)")
    description = str(description).strip()
    if not description:
        raise EEGError("an annotation needs a label")
    return onset, duration, description


def _index(raw, index):
    n = len(raw.annotations)
    if not isinstance(index, int) or not 0 <= index < n:
        raise EEGError(f"no annotation number {index}; this recording has {n}")
    return index


def _rebuilt(raw, onsets, durations, descriptions):
    """Annotations with the recording's time origin (onsets in s from its first sample)."""
    old = raw.annotations
    ann = mne.Annotations(
        np.asarray(onsets, float) + raw.first_time,
        durations,
        descriptions,
        orig_time=old.orig_time,
        ch_names=old.ch_names,
    )
    return raw.set_annotations(ann)


def _add_annotation_script(onset, duration, description) -> list[str]:
    return [f"raw.annotations.append(raw.first_time + {onset!r}, {duration!r}, {description!r})"]


def add_annotation(raw, onset: float, duration: float, description: str):
    onset, duration, description = _check(raw, onset, duration, description)
    raw.annotations.append(onset + raw.first_time, duration, description)
    return raw, {"n_annotations": len(raw.annotations)}


def _edit_annotation_script(index, onset, duration, description) -> list[str]:
    return [
        "_a = raw.annotations",
        "_on, _du, _de = list(_a.onset), list(_a.duration), list(_a.description)",
        f"_on[{index}], _du[{index}], _de[{index}] = raw.first_time + {onset!r}, {duration!r}, {description!r}",
        "raw.set_annotations(mne.Annotations(_on, _du, _de, orig_time=_a.orig_time, ch_names=_a.ch_names))",
    ]


def edit_annotation(raw, index: int, onset: float, duration: float, description: str):
    index = _index(raw, index)
    onset, duration, description = _check(raw, onset, duration, description)
    rows = table(raw)
    rows[index].update(onset=onset, duration=duration, description=description)
    _rebuilt(raw, [r["onset"] for r in rows], [r["duration"] for r in rows], [r["description"] for r in rows])
    return raw


def _delete_annotation_script(index) -> list[str]:
    return [f"raw.annotations.delete({index!r})"]


def delete_annotation(raw, index: int):
    index = _index(raw, index)
    raw.annotations.delete(index)
    return raw, {"n_annotations": len(raw.annotations)}


def _import_annotations_script(rows) -> list[str]:
    return [
        f"for _o, _d, _s in {[tuple(r) for r in rows]!r}:",
        "    raw.annotations.append(raw.first_time + _o, _d, _s)",
    ]


def import_annotations(raw, rows: list):
    for row in rows:
        if len(row) != 3:
            raise EEGError("each imported annotation needs an onset, a duration and a label")
    checked = [_check(raw, *row) for row in rows]
    if checked:
        raw.annotations.append(
            [c[0] + raw.first_time for c in checked], [c[1] for c in checked], [c[2] for c in checked]
        )
    return raw, {"imported": len(checked)}


def to_csv(raw: mne.io.BaseRaw) -> str:
    """The annotations as CSV: ``onset,duration,description`` (s from the first sample)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in table(raw):
        writer.writerow([f"{r['onset']:.6f}", f"{r['duration']:.6f}", r["description"]])
    return out.getvalue()


def parse_csv(text: str, raw: mne.io.BaseRaw) -> list[list]:
    """Rows ``[onset, duration, description]`` from a CSV.

    Reads this app's export (onset in seconds) and MNE's ``Annotations.save``
    CSV (onset as an ISO date and time, placed against the measurement date).
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise EEGError("the annotation CSV is empty")
    header = [c.strip().lower() for c in rows[0]]
    has_header = set(CSV_COLUMNS) <= set(header)
    cols = [header.index(c) for c in CSV_COLUMNS] if has_header else [0, 1, 2]
    rows = rows[1:] if has_header else rows
    if len(rows) > MAX_CSV_ROWS:
        raise EEGError(f"the annotation CSV has {len(rows)} rows; at most {MAX_CSV_ROWS} are read")
    out = []
    for n, row in enumerate(rows, start=2 if has_header else 1):
        if len(row) <= max(cols):
            raise EEGError(f"CSV line {n} has {len(row)} columns; expected onset, duration, description")
        onset, duration, label = (row[c].strip() for c in cols)
        try:
            duration_s = float(duration or 0)
        except ValueError:
            raise EEGError(f"CSV line {n}: duration {duration!r} is not a number of seconds") from None
        out.append([_onset_seconds(onset, raw, n), duration_s, label])
    return out


def _onset_seconds(text: str, raw, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    meas = raw.info["meas_date"]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise EEGError(f"CSV line {line}: onset {text!r} is neither seconds nor an ISO date and time") from None
    if meas is None:
        raise EEGError(f"CSV line {line}: onset {text!r} is a date, but this recording has no start date")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - meas).total_seconds() - raw.first_time


def stim_events(raw: mne.io.BaseRaw) -> list[dict]:
    """Events on stim channels as ``{'time', 'value', 'channel'}`` (reads those channels only)."""
    picks = mne.pick_types(raw.info, stim=True, exclude=[])
    events = []
    for p in picks:
        name = raw.ch_names[p]
        try:
            found = mne.find_events(
                raw, stim_channel=name, shortest_event=1, initial_event=True, consecutive=True, verbose="error"
            )
        except ValueError:  # a channel with no transitions, or one-sample events MNE refuses
            continue
        for sample, _, value in found:
            events.append(
                {"time": float((sample - raw.first_samp) / raw.info["sfreq"]), "value": int(value), "channel": name}
            )
    return sorted(events, key=lambda e: e["time"])
