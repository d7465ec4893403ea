"""EEG Explorer's computational core: no Streamlit here.

The pipeline reads in folder order: ``io`` (load, export) -> ``browse`` ->
``clean`` -> ``components`` -> ``sources`` -> ``classify``. Every stage takes
and returns :class:`backend.recording.Recording` objects.
"""

from backend.errors import EEGError

__all__ = ["EEGError"]
