"""Names for places on the template brain, from an atlas that ships offline.

nilearn ships the Seitzman et al. (2018) coordinate atlas (300 regions of
interest in MNI space, each with a functional network and a coarse anatomical
class) inside the package: :func:`nilearn.datasets.fetch_coords_seitzman_2018`
reads it from disk, nothing is downloaded. It has no gyral names, so a place
is named by its lobe and hemisphere (from coordinates) plus the network of the
nearest cortical ROI when one lies within 15 mm.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_NEAREST_MM = 15.0
_CORTEX_CLASSES = {"cortexL", "cortexR", "cortexMid"}  # Seitzman anatomical classes
_NETWORK_NAMES = {
    "DefaultMode": "default-mode",
    "FrontoParietal": "fronto-parietal",
    "DorsalAttention": "dorsal attention",
    "VentralAttention": "ventral attention",
    "CinguloOpercular": "cingulo-opercular",
    "SomatomotorDorsal": "dorsal somatomotor",
    "SomatomotorLateral": "lateral somatomotor",
    "MedialTemporalLobe": "medial temporal",
    "ParietoMedial": "parieto-medial",
}


@lru_cache(maxsize=1)
def seitzman_rois() -> tuple[np.ndarray, np.ndarray]:
    """Cortical Seitzman 2018 ROIs: ``(coordinates (n, 3) in mm, network names)``."""
    from nilearn import datasets

    atlas = datasets.fetch_coords_seitzman_2018()
    xyz = np.c_[atlas.rois["x"], atlas.rois["y"], atlas.rois["z"]].astype(float)
    regions = np.asarray(atlas.regions).astype(str)
    keep = np.isin(regions, list(_CORTEX_CLASSES)) & (np.asarray(atlas.networks) != "unassigned")
    return xyz[keep], np.asarray(atlas.networks)[keep]


def lobe(pos_mm) -> str:
    """Lobe and hemisphere from template (≈ MNI) coordinates in mm; approximate.

    Uses the usual landmarks of the MNI brain: the central sulcus near
    y = -20 mm at the vertex, the parieto-occipital boundary near y = -70 mm,
    the temporal lobe below z = 0 lateral to |x| = 30 mm.
    """
    x, y, z = (float(v) for v in pos_mm)
    hemi = "left" if x < 0 else "right"
    if y < -70:
        name = "occipital"
    elif z < 0 and abs(x) > 30 and y < 10:
        name = "temporal"
    elif z < -10 and y >= 10:
        name = "orbitofrontal"
    elif y > -15 + 0.1 * max(z - 40, 0):
        name = "frontal"
    elif y > -35 and z > 35:
        name = "central (sensorimotor)"
    elif abs(x) < 15 and z < 35:
        name = "cingulate/medial parietal"
    else:
        name = "parietal"
    return f"{hemi} {name}"


def region_name(pos_mm) -> str:
    """A readable name for a template position (mm), e.g. ``'left occipital (visual network)'``."""
    pos = np.asarray(pos_mm, float)
    name = lobe(pos)
    xyz, networks = seitzman_rois()
    dist = np.linalg.norm(xyz - pos, axis=1)
    nearest = int(np.argmin(dist))
    if dist[nearest] <= _NEAREST_MM:
        net = networks[nearest]
        name += f" ({_NETWORK_NAMES.get(net, net.lower())} network ROI {dist[nearest]:.0f} mm away)"
    return name
