"""Library: every recording the user has opened; add, find, open, rename, tag, delete; the open one's details."""

import pandas as pd
import streamlit as st

from backend import recipe, workspace
from backend.channels import CHANNEL_TYPES
from backend.config import BUNDLED_SAMPLES, max_upload_bytes
from backend.io import EXPORT_FORMATS, export_bytes
from ui import library, session
from ui.cache import cached

session.ensure_shell()
st.title("Library")
st.caption(
    "Every recording you have opened, saved as you work: annotations, channel fixes and processing steps. "
    "Add an upload or open a bundled sample; below, what the open recording holds."
)

left, right = st.columns(2)
with left:
    st.subheader("Add a recording")
    uploads = st.file_uploader(
        "All files of one recording (EDF/BDF/GDF, FIF, BrainVision .vhdr+.vmrk+.eeg, "
        "EEGLAB .set(+.fdt), Nihon Kohden .EEG+.21E+.PNT+.LOG, Neuroscan .cnt)",
        accept_multiple_files=True,
        key="uploads",
    )
    deidentify = st.checkbox(
        "De-identify (store without patient names, ids, birth dates and free-text fields)",
        value=True,
        key="deidentify",
    )
    if st.button("Load upload", key="load_upload", disabled=not uploads):
        with session.user_errors(), st.spinner("Reading…"):
            paths = workspace.save_upload(session.session_id(), [(f.name, f.getvalue()) for f in uploads])
            session.open_upload(paths, keep_identity=not deidentify, max_bytes=max_upload_bytes())
            st.rerun()  # the sidebar was drawn before this page: draw it again
with right:
    st.subheader("Bundled sample")
    sample = st.selectbox("Recording", list(BUNDLED_SAMPLES), key="sample_choice")
    # Which one is open, beside the list (a changing option label would reset the box's choice).
    open_now = session.current().name
    open_sample = next((s for s, path in BUNDLED_SAMPLES.items() if path.name == open_now), None)
    st.caption(f"Open now: **{open_sample}**" if open_sample else f"Open now: {open_now}, not a bundled sample.")
    if st.button("Open sample", key="open_sample"):
        with session.user_errors():
            session.open_sample(BUNDLED_SAMPLES[sample])
            st.rerun()

st.subheader("Your recordings")
tags, formats = library.facets()
f1, f2, f3, f4, f5 = st.columns([3, 2, 2, 2, 2])
search = f1.text_input("Search by name", key="lib_search")
tag = f2.selectbox("Tag", [library.ANY, *tags], key="lib_tag")
fmt_filter = f3.selectbox("Format", [library.ANY, *formats], key="lib_format")
dates = f4.date_input("Recorded between", value=(), key="lib_dates", format="YYYY-MM-DD")
sort = f5.selectbox("Sort by", list(library.SORTS), key="lib_sort")
entries = library.find(search, tag, fmt_filter, dates, library.SORTS[sort])
if not entries:
    st.caption("No recordings match." if formats else "Your library is empty: add a recording above.")
else:
    st.dataframe(library.listing(entries), hide_index=True, width="stretch", key="lib_table")
    chosen = st.selectbox(
        "Recording",
        [e.id for e in entries],
        format_func={e.id: f"{e.name} (#{e.id})" for e in entries}.get,
        key="lib_chosen",
    )
    picked = next(e for e in entries if e.id == chosen)
    st.caption(library.identity_note(picked))
    a1, a2, a3 = st.columns(3)
    if a1.button("Open", key="lib_open", type="primary"):
        with session.user_errors(), st.spinner("Opening…"):
            session.open_entry(picked.id)
            st.rerun()
    with a2.form("lib_rename_form", border=False):
        new_name = st.text_input("Name", value=picked.name, key=f"lib_name:{picked.id}")
        if st.form_submit_button("Rename", key="lib_rename"):
            with session.user_errors():
                library.rename(picked.id, new_name)
                st.rerun()
    with a3.form("lib_tags_form", border=False):
        new_tags = st.text_input("Tags (comma-separated)", value=", ".join(picked.tags), key=f"lib_tags:{picked.id}")
        if st.form_submit_button("Save tags", key="lib_save_tags"):
            with session.user_errors():
                library.set_tags(picked.id, new_tags)
                st.rerun()
    if st.session_state.get("lib_confirm") == picked.id:
        st.warning(f"Delete {picked.name} with its annotations, history and results? This cannot be undone.")
        c1, c2 = st.columns(2)
        if c1.button("Delete for good", key="lib_delete_yes", type="primary"):
            with session.user_errors():
                session.delete_entry(picked.id)
                st.session_state.pop("lib_confirm", None)
                st.rerun()
        if c2.button("Keep it", key="lib_delete_no"):
            st.session_state.pop("lib_confirm", None)
            st.rerun()
    elif st.button("Delete…", key="lib_delete"):
        st.session_state["lib_confirm"] = picked.id
        st.rerun()

rec = session.current()
info = rec.summary()
st.divider()
opened = library.entry()
if opened is not None:  # the user's name and the format uploaded, whatever copy the Library keeps
    st.subheader(f"{opened.name}  ·  {opened.format}")
    if (opened.name, opened.format) != (info["file"], info["format"]):
        st.caption(f"Kept in your library as {info['file']} ({info['format']}).")
else:
    st.subheader(f"{info['file']}  ·  {info['format']}")
# The start in a line of its own: a date and time do not fit a metric's column.
start = info["start"]
if start != "anonymised":
    start = start[:16].replace("T", " ") + (" UTC" if start.endswith("+00:00") else "")
st.markdown(f"**Start** {start}")
cols = st.columns(4)
cols[0].metric("Channels", info["n_channels"])
cols[1].metric("Rate", f"{info['sfreq']:g} Hz")
cols[2].metric("Duration", f"{info['duration_s']:.1f} s")
cols[3].metric(
    "Standard positions",
    f"{len(info['montage']['matched'])}/{len(info['montage']['matched']) + len(info['montage']['unmatched'])}",
)
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
