"""Head models, source spaces and forward solutions on the template head.

Two head models:

- ``'bem'``: a 3-layer boundary-element model (scalp, outer skull, inner skull;
  conductivities 0.3, 0.006, 0.3 S/m) of the template (see :mod:`template`).
  The default: its layers follow the real shape of the head.
- ``'sphere'``: three concentric shells fitted to the same template (centre
  fitted to the scalp; radii of its inner skull, outer skull and scalp; the
  BEM's conductivities), so both model the same head. Cheaper to build, but a
  poorer fit where the head is not round (temporal and frontal base); the
  benchmark measures what it costs. The shape, not the parameters, sets that
  cost: over the cortex, the median relative difference (RDM) of this sphere's
  64-channel fields from the BEM's is 0.17, that of MNE's default 4-shell
  sphere 0.14, and the sphere whose centre and skull conductivity are fitted
  to the BEM's fields gets no lower than 0.14; localisation error on held-out
  dipoles was the same with either sphere (within 1 mm).

Everything that costs time is cached on disk in the user cache folder: the
source spaces, the BEM solution, and one forward solution per channel set
(names and positions), so a second recording with the same montage needs no
rebuild.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

import mne
import numpy as np

from backend.channels import standard_label, standard_montage
from backend.errors import EEGError
from backend.sources import template

HEAD_MODELS = ("bem", "sphere")
BEM_CONDUCTIVITY = (0.3, 0.006, 0.3)
# Versions of the cached files: bump when what they hold changes. The source
# spaces and the BEM solution are unchanged since v1; forward solutions are v2
# (the sphere became the fitted 3-shell model of the template).
_MODEL_VERSION = "1"
_FORWARD_VERSION = "2"


def _check_model(model: str) -> None:
    if model not in HEAD_MODELS:
        raise EEGError(f"head model must be one of {', '.join(HEAD_MODELS)}, got {model!r}")


def _check_spacing(ico: int) -> None:
    if ico not in template.ICO_VERTICES:
        raise EEGError(f"source spacing must be ico 3, 4 or 5, got {ico!r}")


@lru_cache(maxsize=4)
def source_space(ico: int = 4) -> mne.SourceSpaces:
    """Cortical source space on the template white matter (``ico`` subdivision).

    ``ico=4``: 2562 sources a hemisphere (about 6 mm apart); ``ico=3``: 642
    (tests); ``ico=5``: all 10242 fsaverage5 vertices.
    """
    _check_spacing(ico)
    path = template.cache_dir() / f"src-ico{ico}-v{_MODEL_VERSION}-src.fif"
    if path.exists():
        return mne.read_source_spaces(path, verbose="error")
    src = mne.setup_source_space(
        template.SUBJECT,
        spacing=f"ico{ico}",
        surface="white",
        subjects_dir=template.subjects_dir(),
        add_dist=False,
        verbose="error",
    )
    _atomic_write(path, lambda p: mne.write_source_spaces(p, src, overwrite=True, verbose="error"))
    return src


@lru_cache(maxsize=2)
def head_model(model: str = "bem"):
    """The conductor model: a BEM solution or a fitted sphere (head frame)."""
    _check_model(model)
    if model == "sphere":
        centre, radii = template.head_sphere()
        return mne.make_sphere_model(
            r0=centre,
            head_radius=radii[-1],
            relative_radii=[r / radii[-1] for r in radii],
            sigmas=BEM_CONDUCTIVITY,
            verbose="error",
        )
    path = template.cache_dir() / f"bem-v{_MODEL_VERSION}-sol.fif"
    if path.exists():
        return mne.read_bem_solution(path, verbose="error")
    surfaces = mne.make_bem_model(
        template.SUBJECT,
        ico=None,
        conductivity=BEM_CONDUCTIVITY,
        subjects_dir=template.subjects_dir(),
        verbose="error",
    )
    solution = mne.make_bem_solution(surfaces, verbose="error")
    _atomic_write(path, lambda p: mne.write_bem_solution(p, solution, overwrite=True, verbose="error"))
    return solution


def _atomic_write(path, writer) -> None:
    """Write via a temporary name so a half-written cache file is never read."""
    tmp = path.with_name(f"tmp-{np.random.randint(1 << 30)}-{path.name}")
    writer(tmp)
    tmp.replace(path)


@dataclass(frozen=True)
class Electrodes:
    """The EEG channels a source model can use, placed at standard 10-05 sites.

    Attributes
    ----------
    info : mne.Info
        EEG channels with standard names (as in the recording), positions on
        the template head and an average-reference projector.
    used : list of str
        Channels used (recording names).
    unmatched : list of str
        EEG channels left out because their name has no standard position.
    """

    info: mne.Info
    used: list
    unmatched: list

    def note(self) -> str:
        """One line for the user on which channels are used."""
        text = f"{len(self.used)} EEG channels at standard 10-05 positions"
        if self.unmatched:
            text += f"; left out (no standard position): {', '.join(self.unmatched)}"
        return text


def electrodes(info: mne.Info) -> Electrodes:
    """Place the good EEG channels of ``info`` at standard 10-05 template positions.

    Positions from the file are ignored: the template head is the one the
    standard positions were made for. Raises :class:`EEGError` when fewer than
    8 channels match.
    """
    picks = mne.pick_types(info, eeg=True, exclude="bads")
    names = [info.ch_names[p] for p in picks]
    positions = standard_montage().get_positions()["ch_pos"]
    used: list[str] = []
    unmatched: list[str] = []
    for name in names:
        label = standard_label(name)
        (used if label in positions else unmatched).append(name)
    if len(used) < 8:
        raise EEGError(f"only {len(used)} EEG channels have standard 10-05 names; source localisation needs at least 8")
    sub = mne.pick_info(info, [info.ch_names.index(n) for n in used])
    with sub._unlock():
        sub["bads"] = []
        sub["projs"] = []
    montage = standard_montage()
    mapping = {n: standard_label(n) for n in used}
    sub.set_montage(
        mne.channels.make_dig_montage(
            ch_pos={n: positions[mapping[n]] for n in used},
            **{k: montage.get_positions()[k] for k in ("nasion", "lpa", "rpa")},
            coord_frame="unknown",
        ),
        verbose="error",
    )
    # The inverse needs the average reference as a projector; let MNE make it.
    holder = mne.io.RawArray(np.zeros((len(used), 1)), sub, verbose="error")
    holder.set_eeg_reference("average", projection=True, verbose="error").apply_proj(verbose="error")
    return Electrodes(holder.info, used, unmatched)


def channel_key(info: mne.Info) -> str:
    """A hash of channel names and positions: the forward cache key."""
    locs = [np.round(ch["loc"][:3], 6).tolist() for ch in info["chs"]]
    blob = json.dumps([info.ch_names, locs])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def forward(info: mne.Info, model: str = "bem", ico: int = 4, *, cache: bool = True) -> mne.Forward:
    """Forward solution for the EEG channels of ``info`` (already at template positions).

    Cached on disk per channel set, head model and spacing; a cache hit takes
    well under a second. ``cache=False`` recomputes (and does not store) it.
    """
    _check_model(model)
    _check_spacing(ico)
    path = template.cache_dir() / f"fwd-{model}-ico{ico}-{channel_key(info)}-v{_FORWARD_VERSION}-fwd.fif"
    if cache and path.exists():
        return mne.read_forward_solution(path, verbose="error")
    src, trans = source_space(ico), template.trans()
    if model == "sphere":
        src, trans = _sources_in_head_frame(src), mne.transforms.Transform("head", "mri")
    fwd = mne.make_forward_solution(
        info, trans, src, head_model(model), meg=False, eeg=True, mindist=0.0, n_jobs=1, verbose="error"
    )
    if cache:
        _atomic_write(path, lambda p: mne.write_forward_solution(p, fwd, overwrite=True, verbose="error"))
    return fwd


def _sources_in_head_frame(src: mne.SourceSpaces) -> mne.SourceSpaces:
    """A copy of ``src`` moved into the head frame, to be used with an identity trans.

    MNE checks which sources lie inside a sphere model after taking them back to
    the MRI frame, while the sphere's centre is in the head frame; with the
    template's 41 mm offset between the two, a quarter of the cortex would be
    dropped. Working in the head frame throughout avoids the mismatch.
    """
    src = src.copy()
    to_head = mne.transforms.invert_transform(template.trans())
    for s in src:
        s["rr"] = mne.transforms.apply_trans(to_head, s["rr"])
        s["nn"] = mne.transforms.apply_trans(to_head, s["nn"], move=False)
    return src


def mri_positions(fwd_or_src, vertices=None) -> np.ndarray:
    """Positions (m, template MRI frame = fsaverage surface RAS) of the used sources."""
    src = fwd_or_src["src"] if isinstance(fwd_or_src, mne.Forward) else fwd_or_src
    rr = np.concatenate([s["rr"][s["vertno"]] for s in src])
    if src[0]["coord_frame"] == mne.io.constants.FIFF.FIFFV_COORD_HEAD:
        rr = mne.transforms.apply_trans(template.trans(), rr)
    return rr
