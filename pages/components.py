"""Components: fit ICA (or show the file's stored ICA), browse ICLabel-labelled components, remove artifacts."""

import numpy as np
import streamlit as st

from backend.clean.metrics import variance_removed
from backend.components import figures
from backend.components.ica import (
    ARTIFACT_CLASSES,
    DEFAULT_SEED,
    ICLABEL_CLASSES,
    METHODS,
    before_after,
    removal_params,
    select_by_rule,
    warm_iclabel,
)
from backend.viz import removal
from ui import background, library, report, results, session
from ui.cache import cached

session.ensure_shell()
st.title("Components")
st.caption(
    "ICA splits the EEG into independent components; ICLabel (mne-icalabel) says what each looks like. "
    "Browse them, pick the artifacts, preview the removal and apply it as a step."
)

rec = session.current()
warm_iclabel()  # loads the ICLabel network in the background while the user picks settings


@cached(max_entries=16)
def _grid(dec, order: tuple, columns: int):
    return figures.card_grid(dec, list(order), columns)


@cached(max_entries=8)
def _before_after(rec, dec, exclude: tuple):
    before, after = before_after(rec.raw, dec, exclude)
    names = list(dec.ica.ch_names)
    return before, after, names, variance_removed(before, after, names)


def _label(c: str) -> str:
    return figures.CLASS_NAMES[c]


REMOVED = "components:removed"  # the last removal: {"after", "before", "settings", "exclude"}


def _show_removal(done: dict) -> None:
    """After a removal: what was removed, from which fit, and what it took from each channel."""
    st.success(rec.history[-1].label(), icon=":material/check_circle:")
    before = next((r for r in session.stack() if r.key == done["before"]), None)
    if before is None:  # undone, or another recording opened since
        return
    with session.user_errors():
        dec = session.decomposition(before, *done["settings"])
        exclude = tuple(done["exclude"])
        st.caption(f"The removed components of the fit ({dec.n_components} components); the others stayed.")
        width = min(len(exclude), 6)  # a card as wide as in the grid above, not the page's width
        holder = st.columns([width, 6 - width])[0] if width < 6 else st.container()
        holder.plotly_chart(_grid(dec, exclude, 6), key="removed_grid", config={"displayModeBar": False})
        *_, removed = _before_after(before, dec, exclude)
        st.plotly_chart(removal.variance_removed_figure(removed), key="removed_variance")
        st.caption("Share of each channel's variance above 1 Hz the removal took away.")


# --- settings -------------------------------------------------------------------------------
with st.container(border=True):
    # The stored-or-new column (cols[0]) only where the file carries an ICA: no empty column otherwise.
    cols = st.columns([1.3, 1, 1.2, 0.8, 0.8]) if rec.ica is not None else [None, *st.columns([1, 1.2, 0.8, 0.8])]
    use_stored = False
    if rec.ica is not None:
        use_stored = (
            cols[0].radio(
                "Decomposition",
                ["Stored in the file", "Fit a new ICA"],
                key="ica_source",
                help="This file carries ICA weights (EEGLAB): shown without refitting.",
            )
            == "Stored in the file"
        )
    method = cols[1].selectbox(
        "Method",
        METHODS,
        key="ica_method",
        disabled=use_stored,
        help="picard and infomax fit extended infomax (what ICLabel was trained on); fastica is quickest.",
    )
    amount = cols[2].radio(
        "Components", ["All", "Count", "Variance"], horizontal=True, key="ica_amount", disabled=use_stored
    )
    n_components = None
    if amount == "Count":
        n_components = int(cols[2].number_input("How many", 2, 256, 20, key="ica_count", disabled=use_stored))
    elif amount == "Variance":
        n_components = float(
            cols[2].slider(
                "Variance explained", 0.80, 0.999, 0.99, 0.001, key="ica_variance", disabled=use_stored, format="%.3f"
            )
        )
    seed = int(cols[3].number_input("Seed", 0, 2**31 - 1, DEFAULT_SEED, key="ica_seed", disabled=use_stored))
    cols[4].write("")
    start_fit = cols[4].button("Show stored ICA" if use_stored else "Fit ICA", type="primary", key="fit_ica")
    st.caption(
        "A fit runs on a copy (EEG channels, average reference, 1–100 Hz or up to Nyquist) and is cached "
        "for this recording and these settings."
    )

settings = ("stored", None, DEFAULT_SEED) if use_stored else (method, n_components, seed)
if start_fit:
    with session.user_errors():
        if use_stored:
            with st.status("Reading the stored ICA…", expanded=False) as status:
                dec = session.decomposition(rec, *settings)
                _ = dec.probabilities  # computed once, kept with the decomposition
                status.update(label=f"Stored ICA read; ICLabel in {dec.label_s:.1f} s", state="complete")
        # A fit runs as a job on a Dask worker (ui.background): the page can be left meanwhile.
        background.start_ica(rec, settings)

saved = library.latest_result("ica")
if saved is not None:
    st.caption(results.ica_summary(saved, rec))
shown = session.shown_components(rec) or background.last_ica(rec)
if shown is None:
    last_removal = st.session_state.get(REMOVED)
    if last_removal is not None and last_removal["after"] != rec.key:
        last_removal = None  # undone, or another recording opened since
    if last_removal is not None:  # just removed: the fit and what went
        _show_removal(last_removal)
    st.info(
        "Choose the settings and press **Fit ICA**"
        + (" (or **Show stored ICA**)" if rec.ica is not None else "")
        + (" to decompose the cleaned recording." if last_removal is not None else " to see the components."),
        icon=":material/info:",
    )
    st.stop()

dec = None
with session.user_errors():
    dec = background.ica_decomposition(rec, shown)
    probs = dec.probabilities if dec is not None else None
if dec is None:
    st.stop()
labels = dec.labels
counts = ", ".join(f"{_label(c)} {labels.count(c)}" for c in ICLABEL_CLASSES if labels.count(c))
source = "stored in the file" if dec.method == "stored" else f"{dec.method}, seed {dec.params['seed']}"
st.markdown(f"**{dec.n_components} components** ({source}) · {counts}")
if dec.method == "fastica":
    st.caption(
        "ICLabel was trained on extended-infomax components (picard, infomax): with FastICA take its "
        "probabilities as a guide only."
    )

# --- card grid ------------------------------------------------------------------------------
st.subheader("Components")
st.caption(
    "Each card: scalp map of the component (red and blue are opposite signs; the sign itself is arbitrary), "
    "ICLabel probabilities as coloured bars, and the share of the signals' variance it explains."
)
c1, c2, c3 = st.columns([2, 1, 1])
shown_classes = c1.multiselect(
    "Show classes", ICLABEL_CLASSES, default=list(ICLABEL_CLASSES), format_func=_label, key="card_classes"
)
SORT_NAMES = {
    "variance": "variance explained",
    "index": "component number",
    **{c: f"{_label(c)} probability" for c in ICLABEL_CLASSES},
}
sort_by = c2.selectbox("Sort by", figures.SORT_KEYS, format_func=SORT_NAMES.get, key="card_sort")
columns = c3.slider("Cards per row", 3, 8, 6, key="card_columns")
order = figures.card_order(dec, sort_by, shown_classes)
if order:
    st.plotly_chart(_grid(dec, tuple(order), columns), key="card_grid", config={"displayModeBar": False})
    report.add_button(
        "components",
        "ICA components",
        _grid(dec, tuple(order), columns),
        f"{dec.n_components} components ({source}) · {counts}",
        key="components_cards",
        **dec.params,
    )
else:
    st.caption("No component has its top class among those chosen.")
report.validation_caption("iclabel")

# --- full view ------------------------------------------------------------------------------
st.subheader("Component properties")
st.caption(
    "As EEGLAB's viewprops: scalp map, activation over time (drag the slider to scroll), log power spectrum and an "
    "ERP image (one row per trial or segment, colour = activation)."
)
pick = st.selectbox(
    "Component",
    order or list(range(dec.n_components)),
    format_func=lambda i: figures.card_title(dec, i),
    key="full_component",
)
with session.user_errors():
    left, right = st.columns(2)
    left.plotly_chart(figures.topomap(dec, pick), key="full_topomap")
    right.plotly_chart(figures.spectrum(dec, pick), key="full_spectrum")
    st.plotly_chart(figures.activation(dec, pick), key="full_activation")
    events = figures.event_types(dec)
    e1, e2, e3, e4 = st.columns([1.5, 1, 1, 1])
    event = e1.selectbox(
        "ERP image rows",
        [None, *events],
        format_func=lambda e: "consecutive segments" if e is None else f"event '{e}'",
        key="erp_event",
    )
    if event is None:
        length = e2.number_input("Segment length (s)", 0.25, 10.0, 1.0, 0.25, key="erp_segment")
        window = (-0.2, 0.8)
    else:
        length = 1.0
        window = (
            e2.number_input("From (s)", -5.0, 0.0, -0.2, 0.1, key="erp_tmin"),
            e3.number_input("To (s)", 0.1, 10.0, 0.8, 0.1, key="erp_tmax"),
        )
    smooth = e4.number_input("Smooth over trials", 1, 20, 1, key="erp_smooth")
    st.plotly_chart(figures.erp_image(dec, pick, event, *window, segment_s=length, smooth=smooth), key="full_erp")

# --- selection, preview, apply --------------------------------------------------------------
st.subheader("Remove artifacts")
st.caption("Select by rule (top class and its probability) or by hand; the preview shows the signals before and after.")
r1, r2, r3 = st.columns([2, 1.2, 0.8])
rule_classes = r1.multiselect(
    "Exclude when the top class is",
    ARTIFACT_CLASSES,
    default=list(ARTIFACT_CLASSES),
    format_func=_label,
    key="rule_classes",
)
threshold = r2.slider("with probability at least", 0.0, 1.0, 0.8, 0.05, key="rule_threshold")
chosen_key = f"exclude:{dec.key}"
if chosen_key not in st.session_state:  # as saved for this decomposition, else by the rule
    chosen = results.saved_chosen(rec, dec, shown)
    st.session_state[chosen_key] = select_by_rule(probs, rule_classes, threshold) if chosen is None else chosen
r3.write("")
if r3.button("Select by rule", key="rule_apply"):
    st.session_state[chosen_key] = select_by_rule(probs, rule_classes, threshold)
exclude = st.multiselect(
    "Components to remove",
    list(range(dec.n_components)),
    format_func=lambda i: figures.card_title(dec, i),
    key=chosen_key,
)
library.save_result("ica", "ICA", results.ica_payload(rec, dec, shown, exclude))

if exclude:
    with session.user_errors(), st.spinner("Computing the preview…"):
        before, after, names, removed = _before_after(rec, dec, tuple(sorted(exclude)))
        measured = {n: v for n, v in removed.items() if not np.isnan(v)}  # flat channels read "n/a"
        m1, m2, m3 = st.columns(3)
        m1.metric("Components removed", len(exclude))
        m2.metric(
            "Variance removed (mean over channels)", f"{np.mean(list(measured.values())):.1f}%" if measured else "n/a"
        )
        top = max(measured, key=measured.get) if measured else None
        m3.metric("Most affected channel", f"{top} ({measured[top]:.0f}%)" if top else "n/a")
        start = st.slider(
            "Preview from (s)", 0.0, max(0.0, float(rec.duration_s) - 10.0), 0.0, 1.0, key="preview_start"
        )
        st.plotly_chart(figures.overlay(before, after, names, start, 10.0), key="preview_overlay")
        v1, v2 = st.columns([2, 1])
        v1.plotly_chart(removal.variance_removed_figure(removed), key="preview_variance")
        v1.caption("Share of each channel's variance above 1 Hz the removal takes away (as on the Clean page).")
        scalp = removal.variance_removed_topomap(removed, dec.prepared.info)
        if scalp is not None:
            v2.plotly_chart(scalp, key="preview_variance_map")
        report.add_button(
            "components",
            f"Components chosen for removal ({len(exclude)})",
            lambda: figures.card_grid(dec, sorted(exclude), columns),
            f"removed: {', '.join(f'IC{i}' for i in sorted(exclude))} · {source}",
            key="components_removed",
            **dec.params,
        )
    if st.button(f"Remove {len(exclude)} component{'s' * (len(exclude) != 1)}", type="primary", key="apply_removal"):
        if session.apply_step("ica_remove", **removal_params(dec, exclude, rec.name)):
            after = session.current().key
            st.session_state[REMOVED] = {
                "after": after,
                "before": rec.key,
                "settings": shown,
                "exclude": sorted(exclude),
            }
            st.rerun()
else:
    st.caption("No component selected for removal.")
