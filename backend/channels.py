"""Channel names, types and positions: clean what clearly matches, report the rest.

Also holds the channel-table steps (rename, change type, mark bad; listed in ``backend.steps``).
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import mne
import numpy as np

from backend.errors import EEGError

# Template positions: MNE's 10-05 electrodes on the fsaverage head, so the same
# coordinates serve the topomaps and the template-brain source models.
STANDARD_MONTAGE = "fsaverage_1005"

CHANNEL_TYPES = ("eeg", "eog", "emg", "ecg", "misc", "stim")

_EEG_PREFIX = re.compile(r"^EEG[\s_:-]*", re.IGNORECASE)
_REF_SUFFIX = re.compile(r"[\s_-]+(REF|LE|RE|AVG|AR|CAR)$", re.IGNORECASE)
_TYPE_PATTERNS = (
    ("stim", re.compile(r"^(STATUS|TRIGGER|TRIG|STI\b.*|STIM.*|EVENTS?|MARKERS?)$", re.IGNORECASE)),
    ("eog", re.compile(r"EOG|^(LOC|ROC)$", re.IGNORECASE)),
    ("emg", re.compile(r"EMG|CHIN", re.IGNORECASE)),
    ("ecg", re.compile(r"ECG|EKG", re.IGNORECASE)),
)


# Old 10-20 names kept as recorded but placed where their modern names sit.
_ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
# Ear and mastoid electrodes are missing from the fsaverage set; they are carried
# over from MNE's generic 10-05 head by an affine fit on the shared electrodes.
_CARRIED_OVER = ("A1", "A2", "M1", "M2")


@lru_cache(maxsize=1)
def standard_montage() -> mne.channels.DigMontage:
    """10-05 positions on the fsaverage head, with old names and ear/mastoid sites."""
    template = mne.channels.make_standard_montage(STANDARD_MONTAGE)
    positions = template.get_positions()
    ch_pos = dict(positions["ch_pos"])
    with warnings.catch_warnings():  # renamed in MNE 1.14; the positions are what we need
        warnings.simplefilter("ignore", FutureWarning)
        generic = mne.channels.make_standard_montage("standard_1005").get_positions()["ch_pos"]
    shared = [n for n in ch_pos if n in generic]
    src = np.c_[np.array([generic[n] for n in shared]), np.ones(len(shared))]
    affine, *_ = np.linalg.lstsq(src, np.array([ch_pos[n] for n in shared]), rcond=None)
    for name in _CARRIED_OVER:
        ch_pos[name] = np.r_[generic[name], 1.0] @ affine
    for old, modern in _ALIASES.items():
        ch_pos[old] = ch_pos[modern]
    return mne.channels.make_dig_montage(
        ch_pos=ch_pos,
        nasion=positions["nasion"],
        lpa=positions["lpa"],
        rpa=positions["rpa"],
        coord_frame=positions["coord_frame"],
    )


@lru_cache(maxsize=1)
def _standard_lookup() -> dict[str, str]:
    return {name.upper(): name for name in standard_montage().ch_names}


def standard_label(name: str) -> str | None:
    """The 10-05 label ``name`` clearly stands for, or None.

    Examples: ``'Fc5.'`` -> ``'FC5'``, ``'EEG Fp1-Ref'`` -> ``'Fp1'``, ``'cz'`` -> ``'Cz'``.
    """
    core = _EEG_PREFIX.sub("", name.strip())
    core = _REF_SUFFIX.sub("", core).strip(". ")
    return _standard_lookup().get(core.upper())


def is_numbered_cap(names) -> bool:
    """Whether names follow a numbered cap (BioSemi ``A1 … A32``, ``E12``), not 10-05.

    In such caps ``A1`` or ``F3`` are cap positions, not the 10-20 electrodes of
    that name, so no name may be matched. 10-05 numbers never exceed 10.
    """
    numbers = [int(m.group(1)) for n in names if (m := re.fullmatch(r"[A-Z](\d{1,3})", n.strip()))]
    return len(numbers) >= 16 and max(numbers) > 10


def infer_type(name: str) -> str | None:
    """The channel type a name announces (EOG, EMG, ECG, stim), or None."""
    for ch_type, pattern in _TYPE_PATTERNS:
        if pattern.search(name.strip()):
            return ch_type
    return None


def is_placed(loc) -> bool:
    """Whether ``loc`` (x, y, z in metres) is a position: finite and not all zero (MNE's "unknown")."""
    loc = np.asarray(loc, dtype=float)[:3]
    return bool(np.isfinite(loc).all() and np.abs(loc).sum() > 0)


def stored_position(info: mne.Info, name: str) -> np.ndarray | None:
    """The position of channel ``name`` as stored in ``info`` (metres, head frame), or None."""
    loc = np.asarray(info["chs"][info["ch_names"].index(name)]["loc"][:3], dtype=float)
    return loc if is_placed(loc) else None


@lru_cache(maxsize=1)
def _template_positions() -> dict[str, np.ndarray]:
    return {name: np.asarray(pos, dtype=float) for name, pos in standard_montage().get_positions()["ch_pos"].items()}


def template_position(name: str) -> np.ndarray | None:
    """The 10-05 template position (metres) of the label ``name`` clearly stands for, or None.

    ``'Fc5.'`` and ``'EEG Fp1-Ref'`` have positions (FC5, Fp1); ``'X1'`` has none.
    """
    label = standard_label(name)
    return None if label is None else _template_positions()[label].copy()


def channel_positions(names, info: mne.Info | None = None, prefer: str = "file") -> np.ndarray:
    """Positions of channels ``names`` (metres, head frame), shape (n_names, 3); NaN rows where unknown.

    Parameters
    ----------
    names : sequence of str
    info : mne.Info | None
        Where stored positions are read (a name absent from it has none).
    prefer : {'file', 'template'}
        Which position wins when a channel has both: 'file' keeps the recording's own
        digitisation; 'template' gives the same electrode the same coordinates in every
        recording (what the denoiser was trained on).
    """
    if prefer not in ("file", "template"):
        raise EEGError(f"prefer must be 'file' or 'template', got {prefer!r}")
    out = np.full((len(names), 3), np.nan)
    for i, name in enumerate(names):
        stored = stored_position(info, name) if info is not None and name in info["ch_names"] else None
        template = template_position(name)
        found = (
            (template if template is not None else stored)
            if prefer == "template"
            else (stored if stored is not None else template)
        )
        if found is not None:
            out[i] = found
    return out


def has_positions(raw: mne.io.BaseRaw) -> bool:
    """Whether the file itself carried electrode positions for all its EEG channels."""
    picks = mne.pick_types(raw.info, eeg=True, exclude=[])
    return bool(len(picks)) and all(is_placed(raw.info["chs"][p]["loc"]) for p in picks)


def tidy_channels(raw: mne.io.BaseRaw) -> dict:
    """Clean names, infer types and attach standard positions, in place.

    Returns the changes made (``renames``, ``types``) so they can be written in
    the recording's script, and the ``unmatched`` EEG channels left as they were.
    """
    types = {}
    for name, ch_type in zip(raw.ch_names, raw.get_channel_types()):
        inferred = infer_type(name)
        if ch_type == "eeg" and inferred:
            types[name] = inferred
    if types:
        raw.set_channel_types(types, on_unit_change="ignore")

    renames, taken = {}, set(raw.ch_names)
    numbered = is_numbered_cap(raw.ch_names)
    for name, ch_type in zip(raw.ch_names, raw.get_channel_types()):
        label = standard_label(name) if ch_type == "eeg" and not numbered else None
        if label and label != name and label not in taken:
            renames[name] = label
            taken.add(label)
    if renames:
        raw.rename_channels(renames)

    if not has_positions(raw) and not numbered:
        raw.set_montage(standard_montage(), on_missing="ignore", match_case=False)
    return {"renames": renames, "types": types}


def montage_match(raw: mne.io.BaseRaw) -> dict:
    """Which EEG channels have a standard 10-05 position and which do not."""
    eeg = [raw.ch_names[p] for p in mne.pick_types(raw.info, eeg=True, exclude=[])]
    lookup = {} if is_numbered_cap(raw.ch_names) else _standard_lookup()
    matched = [n for n in eeg if n.upper() in lookup]
    return {"matched": matched, "unmatched": [n for n in eeg if n.upper() not in lookup]}


def _check_names(raw: mne.io.BaseRaw, names) -> None:
    missing = [n for n in names if n not in raw.ch_names]
    if missing:
        raise EEGError(f"no channel named {', '.join(missing)} in this recording")


# --- steps of the channel table ------------------------------------------------


def _rename_channels_script(mapping) -> list[str]:
    return [f"raw.rename_channels({mapping!r})"]


def rename_channels(raw, mapping: dict):
    _check_names(raw, mapping)
    new_names = [mapping.get(n, n) for n in raw.ch_names]
    if len(set(new_names)) != len(new_names) or any(not str(n).strip() for n in new_names):
        raise EEGError("channel names must be unique and not empty")
    raw.rename_channels(mapping)
    return raw


def _set_channel_types_script(mapping) -> list[str]:
    return [f"raw.set_channel_types({mapping!r}, on_unit_change='ignore')"]


def set_channel_types(raw, mapping: dict):
    _check_names(raw, mapping)
    bad = sorted(set(mapping.values()) - set(CHANNEL_TYPES))
    if bad:
        raise EEGError(f"unknown channel type {', '.join(bad)}; use one of {', '.join(CHANNEL_TYPES)}")
    raw.set_channel_types(mapping, on_unit_change="ignore")
    return raw


def _set_bads_script(bads) -> list[str]:
    return [f"raw.info['bads'] = {list(bads)!r}"]


def set_bads(raw, bads: list):
    _check_names(raw, bads)
    raw.info["bads"] = list(bads)
    return raw
