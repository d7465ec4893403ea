"""Browse: page through the traces as on a clinical review station."""

import secrets
import time

import mne
import pandas as pd
import streamlit as st

from backend.browse import annotations as notes
from backend.browse import display, figures, spectra
from backend.browse.montages import MONTAGES, REGIONS, build_montage, parse_pairs
from backend.errors import EEGError
from ui import page_server, report, session
from ui.cache import cached
from ui.trace_view import overview_view, trace_view

session.ensure_shell()
st.title("Browse")
st.caption(
    "Page through the recording as on a review station: montage, sensitivity, timebase and display filters "
    "change the view only; bad channels and annotations you set become steps in the history."
)

START = "browse_start"
CLIP_HELP = (
    "Cut each trace at its row's band, so one large artifact does not cross the other rows "
    "(as clinical review stations do). Hover still reads the value at the band."
)


def _off(value):
    return "off" if value is None else f"{value:g} Hz"


def _opened_at_zero() -> None:
    """A newly opened recording starts at 0 s, not at the previous recording's page.

    Keyed on the source data, not on the history: a step or an undo (which may replace a
    reopened Library entry by its previous state) keeps the page."""
    opened = session.original().sha256
    if st.session_state.get("browse_opened") != opened:
        st.session_state["browse_opened"] = opened
        st.session_state[START] = 0.0
        st.session_state["browse_goto"] = 0.0
        st.session_state.pop("browse_span", None)


def _filter_box(column, label: str, cuts, default, key: str, sfreq: float):
    """A display-filter box offering only the cut-offs that apply at this rate (and saying why)."""
    # "Off" is 0.0 in the box: a selectbox shows a None value as no choice at all.
    options = tuple(c or 0.0 for c in display.applicable(cuts, sfreq))
    default = default or 0.0
    if st.session_state.get(key, default) not in options:
        st.session_state[key] = default if default in options else options[-1]
    elif key not in st.session_state:
        st.session_state[key] = default
    limit = display.FILTER_LIMIT * sfreq
    dropped = [c for c in cuts if c and c not in options]
    why = (
        f"At {sfreq:g} Hz only cut-offs below {limit:g} Hz (0.45 × the rate) apply; "
        f"{', '.join(f'{c:g}' for c in dropped)} Hz are not offered."
        if dropped
        else None
    )
    return column.selectbox(label, options, format_func=lambda v: _off(v or None), key=key, help=why) or None


def _channel_choice(column, label: str, options: list, montage_name, what: str) -> list:
    """A multiselect whose choice is kept per montage (a widget's state goes when it is not drawn)."""
    saved = st.session_state.setdefault("browse_choices", {}).get((montage_name, what))
    default = options if saved is None else [o for o in saved if o in options]
    picked = column.multiselect(label, options, default=default, key=f"browse_{what}:{montage_name}")
    st.session_state["browse_choices"][(montage_name, what)] = picked
    return picked


def _radio(column, label: str, choices: dict, key: str | None = None):
    """A horizontal radio over ``choices`` (value: words shown)."""
    key = key or f"browse_{label.lower()}"
    return column.radio(label, list(choices), horizontal=True, key=key, format_func=choices.get)


def _names(names, most: int = 8) -> str:
    shown = ", ".join(figures.clean_name(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


@cached(data=True, show_spinner="Scanning the whole recording for the overview…", max_entries=16)
def _overview(rec, kind: str, band: str):
    return display.overview(rec.raw, kind, band)


@cached(data=True, max_entries=16)
def _events(rec):
    return notes.stim_events(rec.raw)


@cached(data=True, show_spinner="Computing the spectrum of the whole recording…", max_entries=8)
def _whole_psd(rec):
    return spectra.welch(rec.raw)


def _token() -> str:
    """This session's key to its pages over HTTP (:mod:`ui.page_server`)."""
    return st.session_state.setdefault("browse_page_token", secrets.token_urlsafe(16))


def _sync_start() -> None:
    """Take up the page the browser turned to over HTTP since the last run (before the widgets are drawn)."""
    served = page_server.served_start(_token())
    if served is not None:
        st.session_state[START] = st.session_state["browse_goto"] = served


def _go(seconds: float) -> None:
    """Move the page (from a callback, before the widgets are drawn, so the time box follows)."""
    duration = session.current().duration_s
    timebase = st.session_state.get("browse_timebase", 10)
    st.session_state[START] = display.page_start(seconds, timebase, duration)
    st.session_state["browse_goto"] = st.session_state[START]
    page_server.forget_served(_token())


def _step(pages: float) -> None:
    _sync_start()
    _go(st.session_state.get(START, 0.0) + pages * st.session_state.get("browse_timebase", 10))


def _jump() -> None:
    _go(st.session_state["browse_goto"])


def _to_label(direction: int) -> None:
    _sync_start()
    raw = session.current().raw
    label = st.session_state.get("browse_label")
    at = notes.next_onset(raw, label, st.session_state.get(START, 0.0), direction)
    if at is None:
        st.session_state["browse_note"] = f"no {'later' if direction > 0 else 'earlier'} '{label}' annotation"
    else:
        _go(at - 1.0)


def spectra_panel(rec, page) -> None:
    """Welch spectra and band-power maps of the shown page or of the whole recording."""
    raw = rec.raw
    st.caption("Welch PSD (2-s segments) of the good EEG channels as recorded, with band-power scalp maps.")
    scope = st.radio("Span", ["this page", "whole recording"], horizontal=True, key="browse_psd_scope")
    try:
        if scope == "this page":
            freqs, psd, names = spectra.welch(raw, start=page.start, duration=page.duration)
        else:
            freqs, psd, names = _whole_psd(rec)
        st.plotly_chart(figures.psd_figure(freqs, psd, names, title=f"PSD, {scope}"), key="browse_psd")
        picks = mne.pick_channels(raw.ch_names, names, ordered=True)
        powers = spectra.band_powers(freqs, psd)
        st.plotly_chart(
            figures.band_topomaps_figure(powers, raw.info, picks, title=f"Band power (µV²), {scope}"),
            key="browse_topomaps",
        )
    except EEGError as err:
        st.info(str(err))


@st.fragment
def viewer() -> None:
    """The trace viewer: reruns alone when navigating or changing the display."""
    rec = session.current()
    raw = rec.raw
    _opened_at_zero()
    sfreq = raw.info["sfreq"]

    c = st.columns([2.2, 1, 1.1, 1, 1, 1])
    montage_name = c[0].selectbox("Montage", list(MONTAGES), format_func=MONTAGES.get, key="browse_montage")
    timebase = c[1].selectbox("Timebase (s/page)", display.TIMEBASES_S, index=1, key="browse_timebase")
    sens_choice = c[2].selectbox(
        "Sensitivity (µV/mm)", ["auto", *display.SENSITIVITIES_UV_MM], index=5, key="browse_sensitivity"
    )
    low = _filter_box(c[3], "Low-frequency filter", display.LOW_CUTS_HZ, 0.5, "browse_lff", sfreq)
    high = _filter_box(c[4], "High-frequency filter", display.HIGH_CUTS_HZ, 70.0, "browse_hff", sfreq)
    notch = _filter_box(c[5], "Notch", display.NOTCHES_HZ, None, "browse_notch", sfreq)

    pairs = ()
    if montage_name == "custom":
        left, right = st.columns([3, 2])
        text = left.text_area(
            "Pairs (one 'A-B' a line or comma-separated; a name alone is shown as recorded)",
            "Fp1-F3, F3-C3, C3-P3, P3-O1, Fp2-F4, F4-C4, C4-P4, P4-O2",
            key="browse_pairs",
        )
        upload = right.file_uploader(
            "…or a CSV of two columns (channel, reference)", type=["csv", "txt"], key="browse_pairs_csv"
        )
        if upload is not None:
            text = upload.getvalue()[:1_000_000].decode("utf-8", "replace")
        try:
            pairs = parse_pairs(text, raw.ch_names)
        except EEGError as err:
            st.error(str(err), icon=":material/error:")
            return

    try:
        montage = build_montage(raw.info, montage_name, pairs)
    except EEGError as err:
        st.error(str(err), icon=":material/error:")
        return

    kinds = list(dict.fromkeys(montage.kinds))
    regions = montage.regions()
    with st.expander("Channels and screen"):
        a, b, d = st.columns(3)
        pick_kinds = _channel_choice(a, "Channel types", kinds, montage_name, "kinds")
        present = [r for r in REGIONS if r in regions]
        pick_regions = _channel_choice(b, "Scalp regions (EEG)", present, montage_name, "regions")
        order = _radio(d, "Order", {"montage": "as the montage lists", "scalp": "front to back, left to right"})
        show_bads = a.toggle("Show bad channels", value=True, key="browse_show_bads")
        px_per_mm = b.number_input(
            "Screen pixels per mm",
            1.0,
            20.0,
            round(figures.PX_PER_MM, 2),
            0.05,
            key="browse_px_mm",
            help="Measure 10 cm on your screen to make µV/mm exact.",
        )
        width_px = d.number_input(
            "Trace area width (px)",
            400,
            4000,
            1200,
            100,
            key="browse_width",
            help="Traces are downsampled to a point a pixel: the min and max of every two pixels.",
        )
        clip = a.toggle("Clip traces", value=True, key="browse_clip", help=CLIP_HELP)
        fit = _radio(b, "Row height", {"fit": "fit to window", "fixed": "fixed px per row"}, key="browse_fit")
        window_px = b.number_input(
            "Window height (px)",
            500,
            4000,
            figures.FIT_WINDOW_PX,
            50,
            key="browse_window_px",
            disabled=fit != "fit",
            help="All rows fit in a window this high (navigation and overview strip included).",
        )
        row_px = a.slider("Row height (px)", 8, 60, 20, key="browse_row_px", disabled=fit != "fixed")
        plotly = d.toggle(
            "Plotly traces (zoom, pan, PNG export)",
            value=False,
            key="browse_plotly",
            help="The default canvas view turns pages in milliseconds; a Plotly chart takes about "
            "half a second a page in the browser but zooms, pans and exports.",
        )
        kind = _radio(a, "Overview strip", {"amplitude": "amplitude", "band": "band power"}, key="browse_ov_kind")
        band = b.selectbox(
            "Overview band", list(display.BANDS_HZ), index=2, key="browse_ov_band", disabled=kind != "band"
        )
        webgl = b.toggle(
            "WebGL traces (Plotly)",
            value=False,
            key="browse_webgl",
            disabled=not plotly,
            help="Faster on a computer with a graphics card; without one, SVG draws sooner.",
        )
    rows = [
        r
        for r in range(len(montage.labels))
        if montage.kinds[r] in pick_kinds
        and (montage.kinds[r] != "eeg" or regions[r] in pick_regions)
        and (show_bads or not montage.bad_rows[r])
    ]
    rows = montage.order(rows, order)
    # A montage change never hides channels without saying so.
    unused = montage.unused(raw.ch_names, raw.get_channel_types())
    filtered = [
        montage.labels[r]
        for r in range(len(montage.labels))
        if r not in rows and (show_bads or not montage.bad_rows[r])
    ]
    if unused or filtered:
        parts = [f"not in this montage: {_names(unused)}"] if unused else []
        parts += [f"hidden by the channel types and regions chosen for it: {_names(filtered)}"] if filtered else []
        st.caption("Channels " + "; ".join(parts) + " (see “Channels and screen”).")
    if not rows:
        st.info("No channel matches the chosen types, regions and bad-channel setting.")
        return
    view = {
        "montage_name": montage_name,
        "montage": montage,
        "rows": rows,
        "timebase": timebase,
        "sens_choice": sens_choice,
        "filter": display.DisplayFilter(low, high, notch),
        "px_per_mm": px_per_mm,
        "width_px": int(width_px),
        "height": figures.fit_height(int(window_px)) if fit == "fit" else figures.page_height(len(rows), row_px),
        "clip": clip,
        "plotly": plotly,
        "webgl": webgl,
        "overview": (kind, band),
    }
    page_view(view)

    with st.expander("Mark bad channels"):
        st.caption("Bad channels stay in the recording but are left out of averages, ICA and models (a history step).")
        bads = st.multiselect("Bad channels", raw.ch_names, default=raw.info["bads"], key=f"browse_bads:{rec.key}")
        if st.button("Save bad channels", key="browse_save_bads", disabled=sorted(bads) == sorted(raw.info["bads"])):
            if session.apply_step("set_bads", bads=bads):
                st.rerun(scope="app")


TRACE_HELP = (
    "Hover a trace for channel, time and value; drag across the traces to annotate a span; blue left, red right, "
    "grey bad."
)


def _read(rec, view: dict, labels, start: float, events):
    """The page at ``start`` with its sensitivity and what is drawn over it (annotations, ``events``)."""
    montage, rows, timebase = view["montage"], view["rows"], view["timebase"]
    start = display.page_start(start, timebase, rec.duration_s)
    page = display.read_page(rec.raw, montage, start, timebase, view["filter"], n_points=view["width_px"], rows=rows)
    row_mm = figures.row_height_mm(len(rows), height=view["height"], px_per_mm=view["px_per_mm"])
    sens_choice = view["sens_choice"]
    sensitivity = display.autoscale(page.values, row_mm) if sens_choice == "auto" else float(sens_choice)
    drawn = dict(
        px_per_mm=view["px_per_mm"],
        height=view["height"],
        all_labels=labels,
        events=events,
        annotations=notes.in_window(rec.raw, page.start, page.start + page.duration),
    )
    return page, sensitivity, drawn


def _page_line(view: dict, page, sensitivity: float, duration: float) -> str:
    """What the page shows, in one line: montage, sensitivity, timebase, filters, window."""
    return " · ".join(
        [
            f"{MONTAGES[view['montage_name']]}",
            f"{sensitivity:g} µV/mm" + (" (auto)" if view["sens_choice"] == "auto" else ""),
            f"{view['timebase']} s/page",
            page.filter_text,
            f"{page.start:.1f}–{page.start + page.duration:.1f} s of {duration:.1f} s",
        ]
    )


def _canvas_data(rec, view: dict, labels, start: float, events) -> tuple[dict, tuple]:
    """The canvas trace view's data for the page at ``start`` (its caption line, timebase and
    duration included, as the page route serves it), and what :func:`_read` returned. The route
    calls this outside a script run: nothing here may call Streamlit."""
    began = time.perf_counter()  # reading a page takes tens of milliseconds: no spinner to draw and remove
    read = _read(rec, view, labels, start, events)
    page, sensitivity, drawn = read
    data = figures.page_view_data(page, sensitivity, clip=view["clip"], **drawn)
    built_ms = (time.perf_counter() - began) * 1e3
    data["caption"] = f"{_page_line(view, page, sensitivity, rec.duration_s)} · built in {built_ms:.0f} ms"
    data.update(timebase=view["timebase"], duration=rec.duration_s)
    return data, read


@st.fragment
def page_view(view: dict) -> None:
    """One page: navigation, overview strip, traces and spectra. Prev/Next turn the page over the
    page route (no rerun, :mod:`ui.page_server`); everything else here reruns only this, not the
    display settings above it."""
    _sync_start()
    rec = session.current()
    raw = rec.raw
    duration = rec.duration_s
    montage, timebase = view["montage"], view["timebase"]

    # Navigation: buttons (← → keys), a time to go to, and annotations of a chosen label.
    labels = notes.labels(raw)
    nav = st.columns([1, 1, 1.2, 1.6, 1, 1])
    nav[0].button("◀ Prev", on_click=_step, args=(-1,), shortcut="Left", width="stretch", key="browse_prev")
    nav[1].button("Next ▶", on_click=_step, args=(1,), shortcut="Right", width="stretch", key="browse_next")
    st.session_state["browse_goto"] = min(float(st.session_state.get("browse_goto", 0.0)), float(duration))
    nav[2].number_input(
        "Go to (s)",
        0.0,
        float(duration),
        step=1.0,
        key="browse_goto",
        on_change=_jump,
        help="Type a page start in seconds (the line under the traces names the page shown)",
    )
    if labels:
        nav[3].selectbox("Annotation label", labels, key="browse_label")
        nav[4].button(
            "◀ label",
            on_click=_to_label,
            args=(-1,),
            width="stretch",
            key="browse_label_prev",
            help="Previous annotation of this label",
        )
        nav[5].button(
            "label ▶",
            on_click=_to_label,
            args=(1,),
            width="stretch",
            key="browse_label_next",
            help="Next annotation of this label",
        )
    if st.session_state.get("browse_note"):
        st.caption(st.session_state.pop("browse_note"))

    # Overview strip (what it shows is set with the display settings): click a bar to go there.
    kind, band = view["overview"]
    times, values = _overview(rec, kind, band)
    scale, unit = (1e6, "µV") if kind == "amplitude" else (1e12, "µV²/Hz")
    start = display.page_start(st.session_state.get(START, 0.0), timebase, duration)
    overview_view(
        figures.overview_view_data(times, values * scale, unit, start, timebase, duration, notes.table(raw), labels),
        key="browse_overview",
        on_goto=lambda t: _go(t - st.session_state.get("browse_timebase", 10) / 2),
    )
    st.session_state[START] = start

    if view["plotly"]:
        began = time.perf_counter()  # reading a page takes tens of milliseconds: no spinner to draw and remove
        page, sensitivity, drawn = _read(rec, view, labels, start, _events(rec))
        fig = figures.page_figure(page, sensitivity, webgl=view["webgl"], clip=view["clip"], select=True, **drawn)
        built_ms = (time.perf_counter() - began) * 1e3
        st.plotly_chart(
            fig,
            key="browse_traces",
            theme=None,
            config={"scrollZoom": False, "displaylogo": False},
            # A callback, not "rerun": it fires when the selection changes, not on every rerun after.
            on_select=lambda: _select_span(st.session_state["browse_traces"].selection.get("box"), page),
            selection_mode=("box",),
        )
        st.caption(f"{_page_line(view, page, sensitivity, duration)} · built in {built_ms:.0f} ms. {TRACE_HELP}")
    else:
        events = _events(rec)
        data, (page, sensitivity, drawn) = _canvas_data(rec, view, labels, start, events)
        # Turns go over HTTP while the spectra are closed; open, they follow the page by reruns.
        fast = not st.session_state.get("browse_spectra_open")
        page_server.register(_token(), rec, lambda found, at: _canvas_data(found, view, labels, at, events)[0])
        data["fetch"] = f"eeg/page/{_token()}" if fast else None
        trace_view(
            data,
            key="browse_traces",
            on_span=lambda a, b: _select_span([{"x": [a, b]}], None),
            on_goto=_go,
        )
        st.caption(TRACE_HELP)
    span_form(page)
    report.add_button(
        "browse",
        f"Traces from {page.start:g} s",
        lambda: figures.page_figure(page, sensitivity, **drawn),
        _page_line(view, page, sensitivity, duration),
        key="browse_page",
    )
    if montage.missing:
        st.warning(
            f"This montage needs {', '.join(montage.missing)}, absent here (or without a position): "
            f"rows {', '.join(montage.dropped)} are left out.",
            icon=":material/warning:",
        )

    # The expander reports whether it is open, so the spectra are computed only while shown,
    # not on every page turn.
    spectra_box = st.expander(
        "Spectra of this page or the whole recording", key="browse_spectra_open", on_change="rerun"
    )
    if spectra_box.open:
        with spectra_box:
            spectra_panel(rec, page)


def _select_span(boxes, page) -> None:
    """Keep the span dragged on the traces (either view) for :func:`span_form`; the canvas view
    sends it within the page it shows (``page`` None: that page may have been turned over HTTP)."""
    start, stop = (0.0, session.current().duration_s) if page is None else (page.start, page.start + page.duration)
    span = notes.selected_span(boxes, start, stop)
    if span is not None:
        st.session_state["browse_span"] = span


def span_form(page) -> None:
    """Label the span dragged on the traces and save it as an annotation (a history step)."""
    span = st.session_state.get("browse_span")
    if span is None:
        return
    onset, duration = span
    with st.form("browse_span_form", border=True):
        st.markdown(f"**Annotate {onset:.2f}–{onset + duration:.2f} s** ({duration:.2f} s selected on the traces)")
        left, mid, right = st.columns([3, 1, 1], vertical_alignment="bottom")
        label = left.text_input("Label", "artifact", key="browse_span_label")
        save = mid.form_submit_button("Save annotation", type="primary")
        drop = right.form_submit_button("Cancel")
    if drop:
        st.session_state.pop("browse_span", None)
        st.rerun(scope="fragment")
    if save:
        if not label.strip():
            st.error("Give the annotation a label.", icon=":material/error:")
        elif session.apply_step("add_annotation", onset=onset, duration=duration, description=label.strip()):
            st.session_state.pop("browse_span", None)
            st.rerun(scope="app")


def annotation_panel() -> None:
    """List, jump to, add, edit, delete, import and export annotations (each change a history step)."""
    rec = session.current()
    raw = rec.raw
    st.subheader("Annotations")
    st.caption("Select a row to jump to it or edit it. Times are seconds from the start of the recording.")
    rows = notes.table(raw)
    selected = None
    if rows:
        frame = pd.DataFrame(rows).set_index("index")
        event = st.dataframe(
            frame,
            on_select="rerun",
            selection_mode="single-row",
            key=f"browse_ann:{rec.key}",
            height=min(300, 38 + 35 * len(rows)),
            width="stretch",
        )
        if event.selection.rows:
            selected = rows[event.selection.rows[0]]
    else:
        st.caption("No annotations yet.")

    page_start = float(st.session_state.get(START, 0.0))
    left, right = st.columns(2)
    with left:
        if selected is not None:
            st.markdown(f"**Annotation {selected['index']}**")
            st.button("Go to it", key="ann_go", on_click=_go, args=(selected["onset"] - 1.0,))
            with st.form(f"ann_edit:{rec.key}:{selected['index']}"):
                onset = st.number_input(
                    "Onset (s)", 0.0, rec.duration_s, min(max(0.0, selected["onset"]), rec.duration_s), 0.1
                )
                dur = st.number_input(
                    "Duration (s)", 0.0, rec.duration_s, min(selected["duration"], rec.duration_s), 0.1
                )
                label = st.text_input("Label", selected["description"])
                save, delete = st.columns(2)
                if save.form_submit_button("Save changes"):
                    if session.apply_step(
                        "edit_annotation", index=selected["index"], onset=onset, duration=dur, description=label
                    ):
                        st.rerun()
                if delete.form_submit_button("Delete"):
                    if session.apply_step("delete_annotation", index=selected["index"]):
                        st.rerun()
        else:
            with st.form(f"ann_add:{rec.key}"):
                st.markdown("**Add an annotation**")
                onset = st.number_input("Onset (s)", 0.0, rec.duration_s, min(page_start, rec.duration_s), 0.1)
                dur = st.number_input("Duration (s)", 0.0, rec.duration_s, 1.0, 0.1)
                label = st.text_input("Label", "artifact")
                if st.form_submit_button("Add"):
                    if session.apply_step("add_annotation", onset=onset, duration=dur, description=label):
                        st.rerun()
    with right:
        st.markdown("**Import / export (CSV: onset, duration, description)**")
        stem = rec.name.rsplit(".", 1)[0]
        st.download_button(
            "Export annotations CSV",
            notes.to_csv(raw),
            file_name=f"{stem}_annotations.csv",
            mime="text/csv",
            key="ann_export",
            disabled=not rows,
        )
        upload = st.file_uploader("Import a CSV", type=["csv", "txt"], key="ann_import")
        if upload is not None and st.button("Add the imported annotations", key="ann_import_go"):
            with session.user_errors():
                parsed = notes.parse_csv(upload.getvalue()[:5_000_000].decode("utf-8", "replace"), raw)
                if session.apply_step("import_annotations", rows=parsed):
                    st.rerun()


viewer()
st.divider()
annotation_panel()
