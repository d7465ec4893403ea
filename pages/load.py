"""Load: open a bundled sample or upload a recording; see what it holds; fix channels; export."""

import pandas as pd
import streamlit as st

from backend import recipe, workspace
from backend.channels import CHANNEL_TYPES
from backend.config import BUNDLED_SAMPLES, max_upload_bytes
from backend.io import EXPORT_FORMATS, export_bytes, load_recording
from ui import session
from ui.cache import cached

session.ensure_shell()
st.title("Load")
st.caption("Open a bundled recording or upload your own; check what it holds, fix channel names and types, and export.")

left, right = st.columns(2)
with left:
    st.subheader("Bundled sample")
    sample = st.selectbox("Recording", list(BUNDLED_SAMPLES), key="sample_choice")
    if st.button("Open sample", key="open_sample"):
        with session.user_errors():
            session.open_recording(session.load_bundled(str(BUNDLED_SAMPLES[sample])))
            st.rerun()  # the sidebar was drawn before this page: draw it again
with right:
    st.subheader("Upload")
    uploads = st.file_uploader(
        "All files of one recording (EDF/BDF/GDF, FIF, BrainVision .vhdr+.vmrk+.eeg, "
        "EEGLAB .set(+.fdt), Nihon Kohden .EEG+.21E+.PNT+.LOG, Neuroscan .cnt)",
        accept_multiple_files=True,
        key="uploads",
    )
    if st.button("Load upload", key="load_upload", disabled=not uploads):
        with session.user_errors(), st.spinner("Reading…"):
            paths = workspace.save_upload(session.session_id(), [(f.name, f.getvalue()) for f in uploads])
            session.open_recording(load_recording(paths, max_bytes=max_upload_bytes()))
            st.rerun()

rec = session.current()
info = rec.summary()
st.divider()
st.subheader(f"{info['file']}  ·  {info['format']}")
cols = st.columns(5)
cols[0].metric("Channels", info["n_channels"])
cols[1].metric("Rate", f"{info['sfreq']:g} Hz")
cols[2].metric("Duration", f"{info['duration_s']:.1f} s")
cols[3].metric(
    "Standard positions",
    f"{len(info['montage']['matched'])}/{len(info['montage']['matched']) + len(info['montage']['unmatched'])}",
)
cols[4].metric("Start", "anonymised" if info["start"] == "anonymised" else info["start"][:16].replace("T", " "))
for warning in info["warnings"]:
    st.warning(warning)
st.caption("Channels by type: " + ", ".join(f"{n} {t.upper()}" for t, n in info["channel_types"].items()))
if info["montage"]["unmatched"]:
    st.caption("Without a standard 10-05 position: " + ", ".join(info["montage"]["unmatched"]))
if info["annotations"]:
    st.caption("Annotations: " + ", ".join(f"{k} ×{v}" for k, v in info["annotations"].items()))
else:
    st.caption("No annotations.")
if info["ica_stored"]:
    st.caption("This file carries an ICA decomposition: the Components page shows it without refitting.")

st.subheader("Channels")
st.caption("Rename, change the type or mark bad; each change becomes a step in the history.")
table = pd.DataFrame(
    {
        "name": [c["name"] for c in info["channels"]],
        "type": [c["type"] if c["type"] in CHANNEL_TYPES else "misc" for c in info["channels"]],
        "bad": [c["name"] in info["bads"] for c in info["channels"]],
    }
)
edited = st.data_editor(
    table,
    column_config={
        "name": st.column_config.TextColumn("Name", required=True),
        "type": st.column_config.SelectboxColumn("Type", options=list(CHANNEL_TYPES), required=True),
        "bad": st.column_config.CheckboxColumn("Bad"),
    },
    hide_index=True,
    width="stretch",
    key=f"channels:{rec.key}",
    disabled=False,
    num_rows="fixed",
)
if st.button("Apply channel changes", key="apply_channels"):
    types = {n: t for n, t, old in zip(table["name"], edited["type"], table["type"]) if t != old}
    bads = [n for n, bad in zip(table["name"], edited["bad"]) if bad]
    renames = {o: str(n).strip() for o, n in zip(table["name"], edited["name"]) if str(n).strip() != o}
    ok = True
    if types:
        ok = session.apply_step("set_channel_types", mapping=types)
    if ok and bads != info["bads"]:
        ok = session.apply_step("set_bads", bads=bads)
    if ok and renames:
        ok = session.apply_step("rename_channels", mapping=renames)
    if ok:
        st.rerun()

st.subheader("Export")
st.caption("Download the current recording, or its history as a recipe (JSON) and as an MNE-Python script.")


@cached(data=True, show_spinner="Exporting…", max_entries=8)
def _export(rec, ext: str):
    return export_bytes(rec, ext)


fmt = st.selectbox(
    "Format", list(EXPORT_FORMATS), format_func=lambda e: f"{EXPORT_FORMATS[e]} (.{e})", key="export_fmt"
)
if st.button("Prepare download", key="prepare_export"):
    with session.user_errors():
        st.session_state["export"] = (rec.key, fmt, *_export(rec, fmt))
ready = st.session_state.get("export")
if ready and ready[0] == rec.key and ready[1] == fmt:
    st.download_button(f"Download {ready[2]}", ready[3], file_name=ready[2], mime=ready[4], key="download_export")
c1, c2 = st.columns(2)
stem = rec.name.rsplit(".", 1)[0]
c1.download_button(
    "Recipe (JSON)",
    recipe.recipe_json(rec),
    file_name=f"{stem}_recipe.json",
    mime="application/json",
    key="download_recipe",
)
c2.download_button(
    "MNE-Python script",
    recipe.to_script(rec),
    file_name=f"{stem}_pipeline.py",
    mime="text/x-python",
    key="download_script",
)

with st.expander("Apply a saved recipe to this recording"):
    st.caption(
        "Replays the steps of a recipe exported from EEG Explorer (for example the same cleaning on another subject)."
    )
    recipe_file = st.file_uploader("Recipe JSON", type=["json"], key="recipe_upload")
    if recipe_file is not None and st.button("Apply recipe", key="apply_recipe"):
        with session.user_errors():
            parsed = recipe.parse_recipe(recipe_file.getvalue().decode("utf-8", "replace"))
            session.push(recipe.replay(parsed, rec))
            st.rerun()
