"""Sources: localise a window or an event average on the template brain; fit dipoles."""

import numpy as np
import streamlit as st

from backend.components.ica import DEFAULT_METHOD, DEFAULT_SEED
from backend.errors import EEGError
from backend.sources import dipole, export, figures, inverse
from backend.sources.forward import HEAD_MODELS, electrodes
from ui import background, library, report, results, session
from ui.cache import cached
from ui.plotly_click import on_plotly_click

session.ensure_shell()
st.title("Sources")
st.caption(
    "Where on a template brain the scalp activity could come from: distributed estimates (MNE, dSPM, sLORETA, eLORETA) and single dipoles."
)
st.info(
    "Template head: the fsaverage brain and head (no MRI of this person) with electrodes at standard 10-05 sites. "
    "Expect errors of about 1-2 cm, more where the real head or cap placement differs; read places as lobes, not gyri.",
    icon=":material/info:",
)

rec = session.current()
events = inverse.event_types(rec.raw)
duration = float(rec.duration_s)


@cached(max_entries=4)
def _localise(rec, params: tuple):
    p = dict(params)
    bar = st.progress(0.0, text="Localising…")
    try:
        return inverse.localise(rec.raw, progress=lambda f, t: bar.progress(f, text=t), **p)
    finally:
        bar.empty()


def _result(rec, params: tuple):
    """The localisation: here (jobs off, a recording outside the Library) or its job's stored estimate (None meanwhile)."""
    return _localise(rec, params) if background.in_server() else background.localisation(rec, params)


@cached(data=True, max_entries=16)
def _dipole_at(rec, params: tuple, time: float, model: str):
    p = dict(params)
    result = _result(rec, params)
    epochs = None
    if p.get("event") is not None:
        epochs = inverse.event_epochs(rec.raw, result.electrodes, p["event"], *p["epoch"])
    cov = inverse.noise_covariance(
        result.covariance, result.electrodes, raw=rec.raw, epochs=epochs, stretch=p.get("stretch")
    )
    return dipole.fit_at(result.evoked, cov, time, model)


@cached(data=True, max_entries=16)
def _dipole_of_component(rec, settings: tuple, component: int, model: str):
    dec = background.shown_decomposition(rec, settings)
    if component >= dec.n_components:
        raise EEGError(f"this ICA has components 0-{dec.n_components - 1}")
    return dipole.fit_component(dec.ica, component, rec.raw.info, model)


@cached(data=True, max_entries=4)
def _exports(rec, params: tuple, stem: str) -> dict:
    """File name -> bytes of each download of a localisation."""
    result = _result(rec, params)
    files = dict(export.stc_bytes(result, stem, ftype) for ftype in export.formats())
    rows = export.peak_table(result)
    files[f"{stem}-peaks.csv"] = export.peaks_csv(rows).encode()
    return {"files": files, "rows": rows}


def _describe(settings: tuple, rec) -> str:
    """Which decomposition a component number refers to, in words."""
    method, n_components, seed = settings
    if method == "stored" or (method is None and rec.ica is not None):
        return "the ICA stored in the file"
    return f"{method or DEFAULT_METHOD}, seed {DEFAULT_SEED if seed is None else seed}" + (
        "" if n_components is None else f", {n_components:g} components"
    )


# What is localised and which noise covariance decide the fields below, so they sit outside the form.
k1, _, k3 = st.columns(3)
what = k1.radio(
    "Localise",
    ["Time window", "Event average"],
    horizontal=True,
    key="src_what",
    help="An event average needs annotations in the recording.",
)
cov = k3.selectbox(
    "Noise covariance",
    ["auto", *inverse.COVARIANCES],
    key="src_cov",
    help="auto: baseline for an event average, ad hoc for a window. baseline: before each event; "
    "stretch: a quiet part you choose; ad hoc: MNE's diagonal guess.",
)
with st.form("source_form"):
    c1, c2, c3 = st.columns(3)
    method = c1.selectbox(
        "Method",
        inverse.METHODS,
        index=inverse.METHODS.index("eLORETA"),
        key="src_method",
        help="eLORETA and sLORETA put a single source's peak where it is (about 5 mm off on this "
        "template in simulations); MNE pulls peaks towards the surface, dSPM towards depth.",
    )
    model = c1.selectbox(
        "Head model",
        HEAD_MODELS,
        key="src_model",
        help="bem: 3-layer boundary elements of the template (first use builds it, 1-2 min, then cached). "
        "sphere: concentric shells fitted to the head (faster, less accurate).",
    )
    if what == "Time window":
        tmin = c2.number_input("Window start (s)", 0.0, duration, 0.0, step=1.0, key="src_tmin")
        tmax = c2.number_input("Window end (s)", 0.0, duration, min(duration, 10.0), step=1.0, key="src_tmax")
    else:
        event = c2.selectbox(
            "Event",
            sorted(events) or ["(no events)"],
            key="src_event",
            format_func=lambda e: f"{e} (×{events[e]})" if e in events else e,
        )
        e0 = c2.number_input("Epoch start (s)", -5.0, 5.0, inverse.EPOCH[0], step=0.05, key="src_e0")
        e1 = c2.number_input(
            "Epoch end (s)",
            -5.0,
            5.0,
            inverse.EPOCH[1],
            step=0.05,
            key="src_e1",
            help=f"Relative to each event; before it to after it, at most {inverse.MAX_EPOCH_S:g} s in all.",
        )
    if cov == "stretch":
        s0 = c3.number_input("Noise stretch start (s)", 0.0, duration, 0.0, step=1.0, key="src_s0")
        s1 = c3.number_input("Noise stretch end (s)", 0.0, duration, min(duration, 10.0), step=1.0, key="src_s1")
    snr = c3.slider(
        "Regularisation SNR", 1.0, 10.0, 3.0, 0.5, key="src_snr", help="λ² = 1/SNR²: a lower SNR smooths more."
    )
    submitted = st.form_submit_button("Localise", type="primary")
st.caption(f"λ² = {inverse.lambda2_from_snr(snr):.3g} (1/SNR²); band-pass 1-40 Hz before localising.")

if submitted:
    st.session_state.pop("src_params", None)  # a refused request shows no earlier result beneath its error
    with session.user_errors():
        params = {"method": method, "model": model, "covariance": None if cov == "auto" else cov, "snr": float(snr)}
        if what == "Event average":
            params.update(event=event, epoch=inverse.check_epoch(e0, e1))
        else:
            params.update(tmin=float(tmin), tmax=float(tmax))
        if cov == "stretch":
            params["stretch"] = (float(s0), float(s1))
        st.session_state["src_params"] = (rec.key, tuple(sorted(params.items())))
        # As a job on a Dask worker (ui.background) where the recording is (or joins) the library.
        background.start_sources(rec, st.session_state["src_params"][1])

last = library.latest_result("sources")
if last is not None:
    st.caption(results.sources_summary(last))
saved = st.session_state.get("src_params")
if not submitted and (not saved or saved[0] != rec.key) and (coming_back := background.last_sources(rec)) is not None:
    saved = st.session_state["src_params"] = (rec.key, coming_back)  # a user back to a localisation job
if not saved or saved[0] != rec.key:
    with session.user_errors():
        st.caption(electrodes(rec.raw.info).note() + ". Choose what to localise and press Localise.")
    st.stop()

params = saved[1]
result = None
with session.user_errors():
    result = _result(rec, params)
if result is None:
    st.stop()

peak = result.peak
library.save_result("sources", "localisation", results.sources_payload(params, peak))
st.caption(result.electrodes.note() + f"; {result.model} head model, {result.covariance} noise covariance.")
m1, m2, m3, m4 = st.columns([3, 2, 2, 2])
m1.metric("Peak", peak["region"].split(" (")[0])
m2.metric("Template position (mm)", ", ".join(f"{v:.0f}" for v in peak["pos_mm"]))
m3.metric("Time", f"{peak['time']:.3f} s")
m4.metric(f"Value ({peak['unit']})", f"{peak['value']:.2g}")
st.caption(f"Peak region: {peak['region']} (fsaverage ≈ MNI coordinates; network from the Seitzman 2018 atlas).")

v1, v2, v3, v4 = st.columns(4)
surface = v1.radio("Surface", figures.SURFACES[:2], horizontal=True, key="src_surface")
view = v2.selectbox(
    "View",
    list(figures.VIEWS),
    index=list(figures.VIEWS).index(figures.peak_view(result)),
    key=f"src_view:{params}",
    help="Opens on the side that shows the peak.",
)
threshold = v3.slider("Threshold (% of max)", 0, 95, 50, 5, key="src_threshold")
times = result.stc.times
time = v4.select_slider(
    "Time (s)",
    options=[round(float(t), 4) for t in times],
    value=round(float(times[np.argmin(np.abs(times - peak["time"]))]), 4),
    key=f"src_time:{params}",
    help="The moment the maps open at, and the one 'Fit dipole' fits; the peak's by default.",
)
st.plotly_chart(
    figures.cortex_figure(result, surface=surface, view=view, threshold=threshold / 100, time=time), key="src_cortex"
)
report.add_button(
    "sources",
    f"Sources at {time:.3f} s",
    lambda: figures.cortex_figure(result, surface=surface, view=view, threshold=threshold / 100, time=time),
    f"{dict(params)['method']}, {result.model} head model, {result.covariance} noise covariance, SNR "
    f"{dict(params)['snr']:g} · {surface}, {view}, threshold {threshold}% · peak {peak['region']}",
    key="sources_cortex",
    method=dict(params)["method"],
    model=f"{result.model} head model",
)
report.validation_caption("sources")
st.caption(
    "Source strength on the cortex (grey is below the threshold) beside the scalp map being localised. Play or "
    "drag the slider under them to watch both evolve; the diamond marks the peak. Click the cortex for that "
    "place's time course below."
)


@st.fragment
def time_course(result, view: str, state: str) -> None:
    """The time course at the peak or at the source last clicked on the cortex (reruns alone)."""

    def picked(curve: int, point: int) -> None:
        row = figures.clicked_source(result, view, curve, point)
        if row is not None:
            st.session_state[state] = row

    on_plotly_click("src_cortex", key="src_cortex_click", on_click=picked)
    peak_index = int(result.peak["index"])
    index = st.session_state.get(state, peak_index)
    c1, c2 = st.columns([5, 1], vertical_alignment="center")
    where = "the peak" if index == peak_index else "the clicked source"
    c1.caption(f"Time course at {where}: {figures.source_label(result, index)}. The dotted line is the peak's time.")
    if index != peak_index:
        c2.button("Back to the peak", key="src_course_peak", on_click=lambda: st.session_state.pop(state, None))
    st.plotly_chart(figures.timecourse_figure(result, index), key="src_course")


time_course(result, view, f"src_clicked:{params}")

st.plotly_chart(figures.butterfly_figure(result.evoked, time), key="src_butterfly")
st.caption("Every electrode of what was localised (µV); the red line is the time chosen above.")

st.subheader("Export")
stem = f"{rec.name.rsplit('.', 1)[0]}-{result.method}"
out = _exports(rec, params, stem)
st.dataframe(out["rows"], hide_index=True, key="src_peaks")
st.caption(
    "The strongest sources, each at least 20 mm from a stronger one (template mm, fsaverage ≈ MNI). "
    "The source estimate downloads in MNE's format: read it back with mne.read_source_estimate."
)
kinds = {
    "zip": "source estimate (.stc, both hemispheres zipped)",
    "h5": "source estimate (.h5)",
    "csv": "peak table (CSV)",
}
for column, (name, data) in zip(st.columns(len(out["files"])), out["files"].items(), strict=True):
    ext = name.rsplit(".", 1)[-1]
    column.download_button(f"Download {kinds[ext]}", data, file_name=name, key=f"src_download_{ext}")

st.subheader("Dipole fit")
st.caption(
    "One equivalent current dipole explaining a scalp map, drawn inside the translucent template head; GOF is the share of the map it explains."
)
d1, d2, d3 = st.columns(3)
target = d1.radio("Fit", ["Scalp map at the chosen time", "ICA component"], key="dip_target")
component = d2.number_input(
    "Component",
    0,
    255,
    0,
    key="dip_component",
    help="Numbered as on the Components page (IC0, IC1, …): its decomposition when one is "
    "shown there, else the one it opens on (the file's stored ICA, or a picard fit).",
)
dip_model = d3.selectbox(
    "Head model for the fit", ["sphere", "bem"], key="dip_model", help="sphere: about 1 s; bem: about 30 s."
)
if st.button("Fit dipole", key="dip_go"):
    for old in ("dip_fit", "dip_request"):
        st.session_state.pop(old, None)
    with session.user_errors():
        if target == "ICA component":
            settings = session.shown_components(rec) or (None, None, None)  # else what Components opens on
            label = f"ICA component {component} of the Components page ({_describe(settings, rec)})"
            request = {"target": "component", "settings": list(settings), "component": int(component)}
        else:
            label = f"scalp map at {time:.3f} s"
            request = {"target": "map", "params": background.pairs(params), "time": float(time)}
        request.update(model=dip_model, label=label)
        if background.in_server():
            with st.spinner("Fitting a dipole…"):
                if target == "ICA component":
                    fit = _dipole_of_component(rec, settings, int(component), dip_model)
                else:
                    fit = _dipole_at(rec, params, float(time), dip_model)
            st.session_state["dip_fit"] = (rec.key, label, fit)
        else:  # as a job on a Dask worker (ui.background); its fit is shown below once stored
            st.session_state["dip_request"] = (rec.key, request)
            background.start_dipole(rec, request)
asked = st.session_state.get("dip_request")
if (not asked or asked[0] != rec.key) and "dip_fit" not in st.session_state:
    earlier = background.last_dipole(rec)  # a user back to a dipole job
    # A fit to a scalp map belongs to the localisation it was fitted on: shown with that one only.
    if earlier is not None and earlier.get("params", background.pairs(params)) == background.pairs(params):
        asked = st.session_state["dip_request"] = (rec.key, earlier)
if asked and asked[0] == rec.key and not background.in_server():
    with session.user_errors():
        fit = background.dipole(rec, asked[1])
        if fit is not None:
            st.session_state["dip_fit"] = (rec.key, asked[1]["label"], fit)
fitted = st.session_state.get("dip_fit")
if fitted and fitted[0] == rec.key:
    _, label, fit = fitted
    st.plotly_chart(figures.dipole_figure(fit), key="dip_figure")
    st.caption(
        f"{label}: {fit.region}, at {', '.join(f'{v:.0f}' for v in fit.pos_mm)} mm, goodness of fit {fit.gof:.1f}%."
    )
