"""Shared set-up of the sources tests: one cache folder for template files and forwards.

Kept in the system temp folder (not the user's cache), so forwards built by one
test file are reused by the next and by later runs.
"""

import os
import tempfile
from pathlib import Path

CACHE = Path(tempfile.gettempdir()) / "eeg-explorer-test-cache"
os.environ["EEG_EXPLORER_CACHE"] = str(CACHE)

# Tests use the coarse ico3 source space (642 sources a hemisphere) and the sphere
# model: the BEM solution takes minutes to build on a fresh machine.
ICO = 3
MODEL = "sphere"
