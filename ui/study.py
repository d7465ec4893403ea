"""The Study page's choice of recordings from the Library, and its file-name pattern field."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from backend.study import dataset
from ui import library, session

ALL = "All my recordings"


def pattern_input() -> str:
    return st.text_input(
        "File-name pattern",
        value="S{subject}R{run}.edf",
        key="study_pattern",
        help="{subject}, {session}, {task} and {run} match letters and digits, * anything; "
        "a pattern with / matches the path below the folder. Files it does not match are left out.",
    )


def library_selection() -> Path | None:
    """The folder of links to the chosen Library recordings (by tag, or picked one by one), or None."""
    lib, owner = library.get(), library.owner()
    entries = lib.list(owner, sort="name", limit=1000)
    if not entries:
        st.info("The Library is empty: add recordings on the Load page first.", icon=":material/folder_open:")
        return None
    tags = sorted({t for e in entries for t in e.tags})
    tag = st.selectbox("Tag", [ALL, *tags], key="study_library_tag", help="Only recordings with this tag.")
    shown = [e for e in entries if tag == ALL or tag in e.tags]
    names = {e.id: f"{e.name} · {e.format} · {e.n_channels} ch · {e.duration_s / 60:.1f} min" for e in shown}
    chosen = st.multiselect(
        "Recordings",
        list(names),
        default=list(names),
        format_func=names.get,
        key=f"study_library_ids:{tag}",
        help="The study reads the files the Library keeps (de-identified unless you kept the identity).",
    )
    if not chosen:
        st.info("Choose at least one recording.", icon=":material/checklist:")
        return None
    with session.user_errors():
        return dataset.library_folder(lib, owner, {"ids": sorted(chosen)})
    return None
