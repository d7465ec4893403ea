"""Settings shared by the app and the CLI, read from the files that ship with it."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
SAMPLES = ASSETS / "samples"
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"

# Bundled recordings the app can open without an upload: label -> primary file.
BUNDLED_SAMPLES = {
    "EEGLAB tutorial (32 ch, 128 Hz, 238 s, eye blinks)": SAMPLES / "eeglab_data.set",
    "PhysioNet motor imagery S001 R04 (64 ch, 160 Hz, 125 s)": SAMPLES / "S001R04.edf",
}
DEFAULT_SAMPLE = next(iter(BUNDLED_SAMPLES))


@lru_cache(maxsize=1)
def max_upload_bytes() -> int:
    """The upload limit set in ``.streamlit/config.toml`` (``server.maxUploadSize``, MB).

    ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE`` overrides it, as it does for Streamlit's widget.
    """
    if os.environ.get("STREAMLIT_SERVER_MAX_UPLOAD_SIZE"):
        return int(float(os.environ["STREAMLIT_SERVER_MAX_UPLOAD_SIZE"]) * 1024 * 1024)
    with open(STREAMLIT_CONFIG, "rb") as f:
        megabytes = tomllib.load(f).get("server", {}).get("maxUploadSize", 200)
    return int(megabytes) * 1024 * 1024
