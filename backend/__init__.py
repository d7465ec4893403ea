"""EEG Explorer's computational core: no Streamlit here.

The pipeline reads in folder order: ``io`` (load, export) -> ``browse`` ->
``clean`` -> ``components`` -> ``sources`` -> ``classify``. Every stage takes
and returns :class:`backend.recording.Recording` objects.
"""

from backend.errors import EEGError

# The version of what EEG Explorer computes. Bump it with any change that alters a result for the
# same input and parameters (a step's algorithm or defaults, shipped weights, the quality figures):
# a study's resume key includes it (backend/study/provenance.py), so a bump reruns every recording
# and nothing else does.
__version__ = "0.1"

__all__ = ["EEGError", "__version__"]
