"""Clean: build a pipeline of registered steps, run it, compare before/after, and learn on known truth."""

import inspect
import json

import pandas as pd
import streamlit as st

from backend import steps
from backend.clean import figures
from backend.clean.inject import ARTIFACT_KINDS, DESCRIPTIONS
from backend.clean.metrics import variance_removed
from backend.clean.pipeline import (
    PARAM_CHOICES,
    check_step,
    cleaning_steps,
    format_pipeline,
    load_pipeline,
    parse_pipeline,
    parse_value,
    pipeline_json,
    run_pipeline,
    step_parameters,
)
from backend.clean.teach import known_truth_case, run_on_case, score_case
from backend.viz import removal
from ui import background, report, session
from ui.cache import cached

session.ensure_shell()
st.title("Clean")
st.caption("Build a cleaning pipeline from steps, run it on the current recording, and see what each step removed.")

with session.user_errors():
    if background.take_clean(session.current()):  # a pipeline job ended: its cleaned recording becomes current
        st.rerun()  # and the shell (the sidebar's history) is drawn again with it
rec = session.current()
pipeline = st.session_state.setdefault("clean_pipeline", [])
kinds = {k.name: k for k in cleaning_steps()}  # from the registry: later stages' steps (the denoiser) appear here


def _param_widget(step: str, name: str, default, key: str):
    """One input for a step parameter, chosen from its default's type and known choices."""
    label = steps.param_label(step, name)
    choices = list(PARAM_CHOICES.get((step, name), ()))
    if step == "reref" and name == "ref":
        choices += [n for n, t in zip(rec.raw.ch_names, rec.raw.get_channel_types()) if t == "eeg"]
    if choices and isinstance(default, (list, tuple)):
        return st.multiselect(label, choices, default=[d for d in default if d in choices], key=key)
    if choices:
        return st.selectbox(
            label,
            choices,
            index=choices.index(default) if default in choices else 0,
            key=key,
            format_func=lambda v: steps.choice_words(step, name, v),
        )
    if isinstance(default, bool):
        return st.checkbox(label, value=default, key=key)
    if isinstance(default, (int, float)):
        return st.number_input(label, value=default, key=key)
    text = st.text_input(
        label,
        value="" if default is None else str(default),
        key=key,
        help="leave empty for automatic" if default is None else None,
    )
    return parse_value(text) if text.strip() else None


def _clean(chosen: list) -> None:
    """Run a pipeline on the current recording: heavy work as a job on a worker, light work here; then rerun."""
    with session.user_errors():
        st.session_state["clean_last_pipeline"] = list(chosen)
        # A job for more than a minute of data, ASR, ICA or the denoiser (backend.clean.job.needs_job).
        if not background.start_clean(rec, chosen):
            bar = st.progress(0.0, text="Starting…")

            def _progress(i, n, name):
                bar.progress(i / n, text=f"Step {i + 1} of {n}: {steps.get(name).title}" if i < n else "Done")

            with st.spinner("Cleaning…"):
                background.clean_done(rec, run_pipeline(rec, chosen, _progress), chosen)
        st.rerun()


tab_build, tab_compare, tab_teach = st.tabs(["Pipeline", "Before / after", "Teaching: inject artifacts"])

with tab_build:
    st.caption(
        "Add steps in the order they should run; each runs on the output of the one before and becomes a history step."
    )
    left, right = st.columns([2, 3])
    with left:
        choice = st.selectbox("Step", list(kinds), format_func=lambda n: kinds[n].title, key="clean_step_choice")
        st.caption(kinds[choice].summary)
        defaults = step_parameters(choice)
        params = {}
        with st.container(border=True):
            if not defaults:
                st.caption("No parameters.")
            for name, default in defaults.items():
                default = None if default is inspect.Parameter.empty else default
                value = _param_widget(choice, name, default, f"clean_param:{choice}:{name}")
                if value != (list(default) if isinstance(default, tuple) else default):
                    params[name] = value
        if st.button("Add to pipeline", key="clean_add", icon=":material/add:"):
            with session.user_errors():
                pipeline.append(check_step({"name": choice, "params": params}))
                st.rerun()
    with right:
        st.markdown("**Pipeline**")
        if not pipeline:
            st.caption("Empty: add steps on the left, type a pipeline below, or load a saved one.")
        for i, step in enumerate(pipeline):
            c1, c2 = st.columns([6, 1])
            c1.markdown(f"{i + 1}. {steps.describe(step['name'], step['params'])}")
            if c2.button(":material/delete:", key=f"clean_remove_{i}", help="remove this step"):
                pipeline.pop(i)
                st.rerun()
        typed = st.text_input(
            "Pipeline as text (the CLI's --steps)",
            value=format_pipeline(pipeline),
            key=f"clean_text:{format_pipeline(pipeline)}",
            help='e.g. "bandpass:1,40;notch:50;reref:average;asr:cutoff=20"',
        )
        if typed != format_pipeline(pipeline):
            with session.user_errors():
                st.session_state["clean_pipeline"] = parse_pipeline(typed)
                st.rerun()
        if pipeline:
            st.caption(
                f'Same from the command line: `python -m backend clean {rec.name} --steps "{format_pipeline(pipeline)}" --out clean.fif`'
            )
        b1, b2, b3 = st.columns(3)
        run = b1.button(
            "Run pipeline", type="primary", disabled=not pipeline, key="clean_run", icon=":material/play_arrow:"
        )
        if b2.button("Clear", disabled=not pipeline, key="clean_clear"):
            st.session_state["clean_pipeline"] = []
            st.rerun()
        b3.download_button(
            "Save pipeline",
            pipeline_json(pipeline),
            file_name="cleaning_pipeline.json",
            mime="application/json",
            disabled=not pipeline,
            key="clean_save",
        )

    if run:
        _clean(pipeline)
    background.clean_waiting(rec)

    st.subheader("Re-apply a pipeline")
    st.caption(
        "Run the last pipeline, or a saved one, on the current recording (for example another subject you just loaded)."
    )
    last = st.session_state.get("clean_last_pipeline")
    words = "; ".join(steps.describe(s["name"], s["params"]) for s in last or [])
    if last and st.button(f"Re-apply last pipeline to {rec.name}: {words}", key="clean_reapply"):
        st.session_state["clean_pipeline"] = list(last)
        _clean(last)
    saved = st.file_uploader("Saved pipeline or recipe (JSON)", type=["json"], key="clean_pipeline_upload")
    if saved is not None and st.button("Load into the pipeline", key="clean_load_saved"):
        with session.user_errors():
            st.session_state["clean_pipeline"] = load_pipeline(saved.getvalue().decode("utf-8", "replace"))
            st.rerun()


@cached(max_entries=4)
def _compare(before, after, start_s: float):
    removed = variance_removed(before.raw, after.raw)
    return (
        figures.before_after_traces(before.raw, after.raw, start_s, 10.0),
        figures.before_after_psd(before.raw, after.raw),
        removal.variance_removed_figure(removed),
        removal.variance_removed_topomap(removed, after.raw.info),
    )


with tab_compare:
    st.caption("The recording before the last pipeline run (faint) and after it (bold), on the same axes.")
    last_run = st.session_state.get(background.CLEAN_RESULT)
    by_key = {r.key: r for r in session.stack()}  # undo or a new upload ends the comparison
    if not last_run or last_run["after"] not in by_key or last_run["before"] not in by_key:
        st.info("Run a pipeline to compare before and after.", icon=":material/compare:")
    else:
        before = by_key[last_run["before"]]
        after = by_key[last_run["after"]]
        longest = max(0.0, min(before.duration_s, after.duration_s) - 10.0)
        start = st.slider("Window start (s)", 0.0, longest, 0.0, step=1.0, key="clean_window") if longest > 0 else 0.0
        with session.user_errors(), st.spinner("Drawing…"):
            traces, psd, bars, topo = _compare(before, after, start)
            st.plotly_chart(traces, key="clean_traces")
            st.caption("10 s of up to 20 EEG channels: grey is the original, blue the cleaned signal.")
            report.add_button(
                "clean",
                "Before and after cleaning",
                traces,
                figures.changes_line(after.history[len(before.history) :]),
                key="clean_compare",
                steps=[s.name for s in after.history[len(before.history) :]],
            )
            if any(s.name == "art" for s in after.history[len(before.history) :]):
                report.validation_caption("art")
            st.plotly_chart(psd, key="clean_psd")
            st.caption(
                "Mean power spectrum over EEG channels before and after: filters cut bands, ASR and ICA lower broadband power."
            )
            c1, c2 = st.columns([3, 2])
            c1.plotly_chart(bars, key="clean_var")
            c1.caption(
                "Share of each channel's variance above 1 Hz the pipeline removed (red: it added variance, e.g. a dead "
                "channel repaired; n/a: the channel was flat)."
            )
            if topo is not None:
                c2.plotly_chart(topo, key="clean_var_topo")
                c2.caption("Where on the scalp the variance was removed.")
        st.markdown("**What each step changed**")
        st.dataframe(
            pd.DataFrame(figures.changes_table(after.history[len(before.history) :])), hide_index=True, width="stretch"
        )
        st.caption("From each step's report: channels interpolated, seconds reconstructed by ASR, components removed.")


TEACH_METHODS = {
    "band-pass 1–40 Hz": [{"name": "bandpass", "params": {"l_freq": 1.0, "h_freq": 40.0}}],
    "ASR (cutoff 20)": [{"name": "asr", "params": {"cutoff": 20.0}}],
    "ICA + ICLabel": [{"name": "ica_iclabel", "params": {}}],
}


@cached(max_entries=8)
def _teach(rec, kinds_: tuple, snr: float, seed: int, duration: float, line_freq: float, pipeline_text: str):
    case = known_truth_case(rec, list(kinds_), snr, seed, duration, line_freq=line_freq)
    cleaned, reports, seconds = run_on_case(case, json.loads(pipeline_text))
    return case, cleaned, reports, seconds, score_case(case, case.injection.noisy), score_case(case, cleaned)


with tab_teach:
    st.caption(
        "Add artifacts of known shape to a quiet stretch of this recording, clean it, and score the result against the true clean signal."
    )
    c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
    chosen = c1.multiselect(
        "Artifacts", list(ARTIFACT_KINDS), default=["blink", "saccade"], key="teach_kinds", format_func=lambda k: k
    )
    snr = c2.slider(
        "SNR (dB)",
        -10.0,
        10.0,
        -3.0,
        step=0.5,
        key="teach_snr",
        help="10·log10(RMS(clean)/RMS(artifact)), as in EEGdenoiseNet: lower is noisier",
    )
    seed = c3.number_input("Seed", 0, 10_000, 0, key="teach_seed")
    duration = c4.number_input("Seconds", 20.0, 120.0, 30.0, step=10.0, key="teach_duration")
    if chosen:
        st.caption("; ".join(DESCRIPTIONS[k] for k in chosen) + ".")
    line_freq = (
        st.radio("Mains frequency (Hz)", [50.0, 60.0], horizontal=True, key="teach_line") if "line" in chosen else 50.0
    )
    methods = dict(TEACH_METHODS)
    if "art" in kinds:
        methods["transformer denoiser"] = [{"name": "art", "params": {}}]
    if pipeline:
        methods["my pipeline"] = pipeline
    method = st.radio("Method", list(methods), horizontal=True, key="teach_method")
    if st.button("Inject and clean", type="primary", key="teach_run", disabled=not chosen):
        st.session_state["teach_request"] = (
            tuple(chosen),
            float(snr),
            int(seed),
            float(duration),
            float(line_freq),
            json.dumps(methods[method]),
        )
    request = st.session_state.get("teach_request")
    if request:
        with session.user_errors(), st.spinner("Injecting artifacts and cleaning…"):
            case, cleaned, reports, seconds, before, after = _teach(rec, *request)
            m = st.columns(4)
            m[0].metric("Artifact removed", f"{after['removed_pct']:.0f}%")
            m[1].metric(
                "RRMSE (time)",
                f"{after['rrmse_t']:.2f}",
                f"{after['rrmse_t'] - before['rrmse_t']:+.2f}",
                delta_color="inverse",
            )
            m[2].metric("Correlation with clean", f"{after['cc']:.2f}", f"{after['cc'] - before['cc']:+.2f}")
            m[3].metric("Compute", f"{seconds:.1f} s")
            st.caption(
                f"{', '.join(case.injection.kinds)} at {case.injection.snr_db:g} dB on {case.injection.clean.shape[1] / case.injection.sfreq:g} s "
                f"from {case.injection.start_s:g} s (the quietest stretch, band-passed 1–80 Hz); "
                f"deltas compare with doing nothing. {' · '.join(figures.describe_report(r['name'], r['report']) for r in reports) or ''}"
            )
            st.plotly_chart(figures.teaching_traces(case.injection, cleaned), key="teach_traces")
            st.caption(
                "The channels the artifacts hit hardest: grey with artifacts, green the true clean signal, blue the method's output."
            )
            st.plotly_chart(figures.teaching_psd(case.injection, cleaned), key="teach_psd")
            st.caption("Spectra: a good method brings the blue line onto the green one.")
