"""Display montages as linear operators on the recorded EEG channels.

A montage is a matrix ``W`` of shape ``(n_rows, n_channels)``: the rows shown are
``W @ data``. Building it once per recording and montage (cached) keeps a page
turn to one small matrix product. Rows that need an electrode the recording lacks
are dropped and the missing electrodes named, so a partial cap still shows what it can.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache

import mne
import numpy as np

from backend.channels import standard_label
from backend.errors import EEGError

# ACNS longitudinal bipolar ("double banana"): left temporal, right temporal,
# left parasagittal, right parasagittal chains, then the midline.
DOUBLE_BANANA = (
    ("Fp1", "F7"),
    ("F7", "T7"),
    ("T7", "P7"),
    ("P7", "O1"),
    ("Fp2", "F8"),
    ("F8", "T8"),
    ("T8", "P8"),
    ("P8", "O2"),
    ("Fp1", "F3"),
    ("F3", "C3"),
    ("C3", "P3"),
    ("P3", "O1"),
    ("Fp2", "F4"),
    ("F4", "C4"),
    ("C4", "P4"),
    ("P4", "O2"),
    ("Fz", "Cz"),
    ("Cz", "Pz"),
)
# ACNS transverse bipolar, front to back, right to left within a row as drawn left to right.
TRANSVERSE = (
    ("F7", "Fp1"),
    ("Fp1", "Fp2"),
    ("Fp2", "F8"),
    ("F7", "F3"),
    ("F3", "Fz"),
    ("Fz", "F4"),
    ("F4", "F8"),
    ("A1", "T7"),
    ("T7", "C3"),
    ("C3", "Cz"),
    ("Cz", "C4"),
    ("C4", "T8"),
    ("T8", "A2"),
    ("P7", "P3"),
    ("P3", "Pz"),
    ("Pz", "P4"),
    ("P4", "P8"),
    ("P7", "O1"),
    ("O1", "O2"),
    ("O2", "P8"),
)
# Ear or mastoid pairs for a linked reference, in order of preference.
EAR_PAIRS = (("A1", "A2"), ("M1", "M2"), ("TP9", "TP10"))
# Old 10-20 names and their modern equivalents (either may be recorded).
_EQUIVALENT = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
LAPLACIAN_NEIGHBOURS = 4

REGIONS = ("frontal", "central", "temporal", "parietal", "occipital", "ear", "other")
_REGION_PREFIXES = (  # longest prefixes first
    ("FT", "temporal"),
    ("TP", "temporal"),
    ("FC", "central"),
    ("CP", "parietal"),
    ("PO", "occipital"),
    ("FP", "frontal"),
    ("AF", "frontal"),
    ("F", "frontal"),
    ("C", "central"),
    ("T", "temporal"),
    ("P", "parietal"),
    ("O", "occipital"),
    ("I", "occipital"),
    ("A", "ear"),
    ("M", "ear"),
)

MONTAGES = {
    "referential": "As recorded",
    "average": "Common average",
    "linked_ears": "Linked ears / mastoids",
    "double_banana": "Longitudinal bipolar (double banana)",
    "transverse": "Transverse bipolar",
    "laplacian": "Laplacian (nearest neighbours)",
    "custom": "Custom pairs",
}


@dataclass(frozen=True)
class Montage:
    """A display montage resolved against one recording's channels.

    Attributes
    ----------
    name : str
        Key of :data:`MONTAGES`.
    labels : list of str
        One label per displayed row (``'Fp1-F7'``, ``'Cz-avg'`` …).
    picks : ndarray of int, shape (n_channels,)
        Indices into ``raw.ch_names`` of the channels the rows are made of.
    weights : ndarray, shape (n_rows, n_channels)
        Row ``i`` shown is ``weights[i] @ data[picks]``.
    bad_rows : list of bool
        Whether a row involves a channel marked bad.
    missing : list of str
        Electrodes the montage needs that the recording lacks (their rows are dropped).
    dropped : list of str
        Labels of the rows dropped for those missing electrodes.
    """

    name: str
    labels: list[str]
    picks: np.ndarray
    weights: np.ndarray
    bad_rows: list[bool]
    missing: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def regions(self) -> list[str]:
        """Scalp region of each row (from its first electrode), or the channel type for non-EEG rows."""
        return [region(label) if kind == "eeg" else kind for label, kind in zip(self.labels, self.kinds)]

    def order(self, rows, by: str = "montage") -> list[int]:
        """``rows`` in montage order, or ``by='scalp'``: front to back, then left, midline, right."""
        rows = list(rows)
        if by == "montage":
            return rows
        if by != "scalp":
            raise EEGError(f"unknown channel order {by!r}; use 'montage' or 'scalp'")
        regions = self.regions()
        sides = {"left": 0, "mid": 1, "right": 2}
        rank = {r: i for i, r in enumerate(REGIONS)}
        return sorted(rows, key=lambda r: (rank.get(regions[r], len(REGIONS)), sides[side(self.labels[r])], r))

    def unused(self, ch_names, ch_types) -> list[str]:
        """Recorded channels (stim channels aside) that no row of this montage shows."""
        used = {self.picks[j] for j in np.flatnonzero(np.abs(self.weights).sum(axis=0))}
        return [n for i, (n, t) in enumerate(zip(ch_names, ch_types)) if t != "stim" and i not in used]

    def apply(self, data: np.ndarray) -> np.ndarray:
        """Rows of the montage from ``data`` of shape ``(len(picks), n_times)``."""
        return self.weights @ data


def _electrode(label: str) -> str:
    first = label.split("-")[0]
    return standard_label(first) or first


def region(label: str) -> str:
    """Scalp region of a row's first electrode (``'Fp1-F7'`` -> ``'frontal'``); 'other' if not a 10-05 name."""
    name = standard_label(label.split("-")[0])
    if name is None:
        return "other"
    upper = name.upper()
    return next((r for prefix, r in _REGION_PREFIXES if upper.startswith(prefix)), "other")


def side(label: str) -> str:
    """Scalp side of a row's first electrode: odd numbers left, even right, 'z' and others midline."""
    name = _electrode(label)
    match = re.search(r"(\d+)$", name)
    if match is None:
        return "mid"
    return "left" if int(match.group(1)) % 2 else "right"


def _split_pair(item: str, names) -> tuple[str, str]:
    """``'Fp1-F7'`` -> ``('Fp1', 'F7')``; with several hyphens, the split whose sides are channel names."""
    parts = item.split("-")
    known = {n.upper() for n in names or ()}
    for k in range(1, len(parts)):
        a, b = "-".join(parts[:k]).strip(), "-".join(parts[k:]).strip()
        if a.upper() in known and b.upper() in known:
            return a, b
    if item.strip().upper() in known:
        return item.strip(), ""
    if len(parts) <= 2 and parts[0].strip():
        return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
    raise EEGError(f"cannot read pair {item!r}: write it as 'Fp1-F7' (channel names joined by one hyphen)")


def parse_pairs(text: str, names=None) -> tuple[tuple[str, str], ...]:
    """Custom montage pairs from text: ``Fp1-F7`` per line or comma, or a two-column CSV.

    A row with one name (``Cz`` or ``Cz,``) shows that channel as recorded. ``names``
    (the recording's channels) resolves names that themselves hold a hyphen (``F4-A1``).
    """
    text = (text or "").strip()
    if not text:
        raise EEGError("no pairs given: type pairs like 'Fp1-F7, F7-T7' or upload a CSV of two columns")
    pairs = []
    if "\n" in text and "," in text.splitlines()[0] and "-" not in text.splitlines()[0]:
        rows = list(csv.reader(io.StringIO(text)))
        for row in rows:
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) > 2:
                raise EEGError(f"CSV row {','.join(cells)!r} has {len(cells)} columns; use two (channel, reference)")
            pairs.append((cells[0], cells[1] if len(cells) > 1 else ""))
        if pairs and pairs[0][0].lower() in ("anode", "channel", "active", "from", "a"):
            pairs = pairs[1:]
    else:
        for item in re.split(r"[\n,;]+", text):
            item = item.strip()
            if not item:
                continue
            pairs.append(_split_pair(item, names))
    if not pairs:
        raise EEGError("no pairs found in the custom montage")
    return tuple(pairs)


def _lookup(ch_names: tuple[str, ...]) -> dict[str, int]:
    """Upper-case standard label (and its old/new 10-20 twin) -> channel index."""
    table: dict[str, int] = {}
    for i, name in enumerate(ch_names):
        for key in {name, standard_label(name) or name}:
            table.setdefault(key.upper(), i)
    for old, new in _EQUIVALENT.items():
        if old.upper() in table:
            table.setdefault(new.upper(), table[old.upper()])
        if new.upper() in table:
            table.setdefault(old.upper(), table[new.upper()])
    return table


def _bipolar(pairs, ch_names, eeg, bads, name):
    table = _lookup(tuple(ch_names[i] for i in eeg))
    rows, labels, missing, dropped = [], [], [], []
    for a, b in pairs:
        absent = [n for n in (a, b) if n and n.upper() not in table]
        if absent:
            missing += [n for n in absent if n not in missing]
            dropped.append(f"{a}-{b}" if b else a)
            continue
        ia = eeg[table[a.upper()]]
        ib = eeg[table[b.upper()]] if b else None
        rows.append((ia, ib))
        labels.append(f"{ch_names[ia]}-{ch_names[ib]}" if ib is not None else ch_names[ia])
    if not rows:
        raise EEGError(f"the {MONTAGES[name].lower()} montage needs {', '.join(missing)}, absent from this recording")
    picks = sorted({i for r in rows for i in r if i is not None})
    col = {p: k for k, p in enumerate(picks)}
    weights = np.zeros((len(rows), len(picks)))
    for r, (ia, ib) in enumerate(rows):
        weights[r, col[ia]] = 1.0
        if ib is not None:
            weights[r, col[ib]] = -1.0
    bad_rows = [ch_names[ia] in bads or (ib is not None and ch_names[ib] in bads) for ia, ib in rows]
    return Montage(name, labels, np.array(picks, int), weights, bad_rows, missing, dropped)


def _laplacian(info: mne.Info, eeg, bads, k=LAPLACIAN_NEIGHBOURS):
    names = info["ch_names"]
    locs = np.array([info["chs"][i]["loc"][:3] for i in eeg], float)
    placed = np.isfinite(locs).all(axis=1) & (np.abs(locs).sum(axis=1) > 0)
    good = [j for j in range(len(eeg)) if placed[j] and names[eeg[j]] not in bads]
    if len(good) < k + 1:
        raise EEGError(f"the Laplacian montage needs positions for at least {k + 1} good EEG channels")
    unplaced = [names[eeg[j]] for j in range(len(eeg)) if not placed[j]]
    rows = [j for j in range(len(eeg)) if placed[j]]
    weights = np.zeros((len(rows), len(eeg)))
    good_xyz = locs[good]
    for r, j in enumerate(rows):
        dist = np.linalg.norm(good_xyz - locs[j], axis=1)
        order = [good[m] for m in np.argsort(dist) if good[m] != j][:k]
        weights[r, j] = 1.0
        weights[r, order] = -1.0 / k
    labels = [f"{names[eeg[j]]}-lap" for j in rows]
    return Montage(
        "laplacian",
        labels,
        np.asarray(eeg, int),
        weights,
        [names[eeg[j]] in bads for j in rows],
        unplaced,
        [f"{n}-lap" for n in unplaced],
    )


def _reference(info, eeg, bads, name):
    names = info["ch_names"]
    n = len(eeg)
    weights = np.eye(n)
    if name == "average":
        good = [j for j in range(n) if names[eeg[j]] not in bads]
        if len(good) < 2:
            raise EEGError("a common average needs at least two EEG channels not marked bad")
        weights[:, good] -= 1.0 / len(good)
        suffix = "avg"
    else:
        table = _lookup(tuple(names[i] for i in eeg))
        pair = next((p for p in EAR_PAIRS if all(e.upper() in table for e in p)), None)
        if pair is None:
            options = ", ".join("/".join(p) for p in EAR_PAIRS)
            raise EEGError(
                f"a linked-ears reference needs a pair of ear or mastoid electrodes ({options}); none in this recording"
            )
        refs = [table[e.upper()] for e in pair]
        weights[:, refs] -= 0.5
        keep = [j for j in range(n) if j not in refs]
        weights = weights[keep]
        suffix = "+".join(names[eeg[j]] for j in refs)
        eeg_rows = [eeg[j] for j in keep]
        return Montage(
            name,
            [f"{names[i]}-{suffix}" for i in eeg_rows],
            np.asarray(eeg, int),
            weights,
            [names[i] in bads for i in eeg_rows],
        )
    return Montage(
        name, [f"{names[i]}-{suffix}" for i in eeg], np.asarray(eeg, int), weights, [names[i] in bads for i in eeg]
    )


def _with_others(m: Montage, info: mne.Info) -> Montage:
    """Append the non-EEG signal channels (EOG, ECG, EMG, misc …) as recorded, below the EEG rows."""
    types = info.get_channel_types()
    names = info["ch_names"]
    others = [i for i, t in enumerate(types) if t not in ("eeg", "stim") and i not in set(m.picks)]
    weights = np.zeros((len(m.labels) + len(others), len(m.picks) + len(others)))
    weights[: len(m.labels), : len(m.picks)] = m.weights
    weights[len(m.labels) :, len(m.picks) :] = np.eye(len(others))
    bads = set(info["bads"])
    return Montage(
        m.name,
        m.labels + [names[i] for i in others],
        np.r_[m.picks, others].astype(int),
        weights,
        m.bad_rows + [names[i] in bads for i in others],
        m.missing,
        m.dropped,
        ["eeg"] * len(m.labels) + [types[i] for i in others],
    )


@lru_cache(maxsize=64)
def _build(name: str, ch_key: tuple, bads: tuple, pairs: tuple, info_ref) -> Montage:
    return _with_others(_build_eeg(name, bads, pairs, info_ref.info), info_ref.info)


def _build_eeg(name: str, bads: tuple, pairs: tuple, info: mne.Info) -> Montage:
    names = info["ch_names"]
    eeg = list(mne.pick_types(info, eeg=True, exclude=[]))
    if not eeg:
        raise EEGError("this recording has no EEG channels to build a montage from")
    if name == "referential":
        return Montage(
            name, [names[i] for i in eeg], np.asarray(eeg, int), np.eye(len(eeg)), [names[i] in bads for i in eeg]
        )
    if name in ("average", "linked_ears"):
        return _reference(info, eeg, set(bads), name)
    if name == "double_banana":
        return _bipolar(DOUBLE_BANANA, names, eeg, set(bads), name)
    if name == "transverse":
        return _bipolar(TRANSVERSE, names, eeg, set(bads), name)
    if name == "laplacian":
        return _laplacian(info, eeg, set(bads))
    if name == "custom":  # any signal channel may take part (EOG pairs, for one)
        signals = [i for i, t in enumerate(info.get_channel_types()) if t != "stim"]
        return _bipolar(pairs, names, signals, set(bads), name)
    raise EEGError(f"unknown montage {name!r}; choose one of {', '.join(MONTAGES)}")


class _InfoRef:
    """Hashable by channel names and positions only, so the cache ignores everything else."""

    def __init__(self, info: mne.Info):
        self.info = info
        locs = np.array([ch["loc"][:3] for ch in info["chs"]]).round(6)
        self._key = (tuple(info["ch_names"]), tuple(info.get_channel_types()), locs.tobytes())

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, _InfoRef) and self._key == other._key


def build_montage(info: mne.Info, name: str = "referential", pairs=()) -> Montage:
    """Resolve montage ``name`` against a recording's channels (cached).

    Parameters
    ----------
    info : mne.Info
        The recording's measurement info (channel names, types, positions, bads).
    name : str
        One of :data:`MONTAGES`.
    pairs : sequence of (str, str)
        For ``'custom'``: (channel, reference) pairs; an empty reference shows the channel as recorded.

    Returns
    -------
    Montage
    """
    if name == "custom" and not pairs:
        raise EEGError("a custom montage needs pairs like 'Fp1-F7, F7-T7'")
    ref = _InfoRef(info)
    return _build(name, ref._key[0], tuple(info["bads"]), tuple(tuple(p) for p in pairs), ref)
