"""Classify: cross-validate classifiers on the recording's annotations and see their outputs over time."""

import pandas as pd
import streamlit as st

from backend import workspace
from backend.classify import embedding, figures
from backend.classify.epochs import TaskSpec, annotation_labels, make_trials
from backend.classify.persistence import check_compatible, load_model, model_bytes, train_model
from backend.classify.pipelines import BEST, PIPELINES
from backend.classify.timeline import predict_timeline
from backend.classify.validate import cross_validate
from backend.config import max_upload_bytes
from backend.io import load_recording
from ui import library, report, results, session
from ui.cache import cached

session.ensure_shell()
st.title("Classify")
st.caption(
    "Define a task from the annotations, cross-validate Riemannian and deep pipelines, and see a trained model's class probabilities over the recording."
)


# Everything below is keyed on the runs (their content keys) and the task: results
# computed from trials ask for them again rather than take them as an argument.


@cached(max_entries=16)
def _trials(runs, task):
    return make_trials(runs, task)


@cached(max_entries=32)
def _cv(runs, task, pipeline, scheme, folds):
    bar = st.progress(0.0, text=f"cross-validating {PIPELINES[pipeline].label}…")
    try:
        return cross_validate(
            _trials(runs, task), pipeline, scheme, folds, progress=lambda frac, msg: bar.progress(frac, text=msg)
        )
    finally:
        bar.empty()


@cached(max_entries=8)
def _model(runs, task, pipeline):
    return train_model(_trials(runs, task), pipeline)


@cached(max_entries=4)
def _uploaded_model(data: bytes):
    return load_model(data)


@cached(max_entries=8)
def _timeline(rec, model_source: tuple, step):
    """``model_source``: ("trained", runs, task, pipeline) or ("uploaded", file bytes)."""
    model = _model(*model_source[1:]) if model_source[0] == "trained" else _uploaded_model(*model_source[1:])
    return predict_timeline(rec, model, step_s=step)


@cached(max_entries=8)
def _potato(rec, band):
    return embedding.potato_flags(rec, band=band)


@cached(data=True, max_entries=16)
def _map(runs, task, method):
    return embedding.covariance_map(_trials(runs, task), method)


rec = session.current()
saved = library.latest_result("classification")
if saved is not None:
    st.caption(results.classification_summary(saved, {k: p.label for k, p in PIPELINES.items()}))
labels = annotation_labels(rec)
if len(labels) < 2:
    st.info(
        f"{rec.name} has {'one annotation label' if labels else 'no annotations'}; classification needs at least two labelled event types (open the PhysioNet motor-imagery sample, for instance)."
    )
    st.stop()

# --- runs and task ------------------------------------------------------------------
with st.expander("Runs of this subject", expanded=False):
    st.caption(
        "Extra recordings of the same subject (same channels and rate) are added as runs; they enable leave-one-run-out validation."
    )
    extra = st.file_uploader(
        "More runs (e.g. S001R08.edf, S001R12.edf)", accept_multiple_files=True, key="classify_runs"
    )
    runs = [rec]
    with session.user_errors():
        if extra:
            for f in extra:
                paths = workspace.save_upload(session.session_id(), [(f.name, f.getvalue())])
                runs.append(load_recording(paths, max_bytes=max_upload_bytes()))
    st.caption("Runs: " + ", ".join(r.name for r in runs))

default_events = ["T1", "T2"] if {"T1", "T2"} <= set(labels) else sorted(labels, key=labels.get, reverse=True)[:2]
c1, c2, c3 = st.columns([2, 2, 2])
events = c1.multiselect(
    "Classes (annotation labels)",
    list(labels),
    default=default_events,
    key="classify_events",
    format_func=lambda k: f"{k} ×{labels[k]}",
)
tmin, tmax = c2.slider("Epoch window after onset (s)", -1.0, 6.0, (0.5, 2.5), step=0.1, key="classify_window")
nyquist = rec.raw.info["sfreq"] / 2
band = c3.slider(
    "Band (Hz)", 1.0, float(min(45.0, nyquist - 1)), (8.0, float(min(30.0, nyquist - 2))), step=1.0, key="classify_band"
)
c4, c5 = st.columns([4, 2])
pipelines = c4.multiselect(
    "Pipelines",
    list(PIPELINES),
    default=[BEST, "csp-lda"],
    key="classify_pipelines",
    format_func=lambda k: PIPELINES[k].label,
    help="; ".join(f"{p.label}: {p.summary}" for p in PIPELINES.values()),
)
schemes = {"kfold": "stratified k-fold"} | ({"runs": "leave one run out"} if len(runs) > 1 else {})
scheme = c5.radio("Validation", list(schemes), format_func=schemes.get, key="classify_scheme", horizontal=True)
folds = c5.number_input("Folds", 2, 10, 5, key="classify_folds", disabled=scheme != "kfold")

trials = None
with session.user_errors():
    task = TaskSpec(tuple(events), tmin, tmax, band)
    trials = _trials(runs, task)
if trials is None:
    st.stop()
st.caption(
    f"{len(trials.y)} trials ({', '.join(f'{k} ×{v}' for k, v in trials.counts().items())}), "
    f"{len(trials.ch_names)} EEG channels, {trials.X.shape[2]} samples each, band-passed {band[0]:g}–{band[1]:g} Hz."
)

# --- cross-validation -----------------------------------------------------------------
st.subheader("Cross-validation")
st.caption(
    "Each fold trains a fresh pipeline on the other folds only; hyper-parameters are searched inside the training folds (nested)."
)
scores = []
with session.user_errors():
    for name in pipelines:
        scores.append(_cv(runs, task, name, scheme, int(folds)))
if not scores:
    st.info("Pick at least one pipeline.")
    st.stop()
table = pd.DataFrame(
    [
        {
            "pipeline": PIPELINES[r.pipeline].label,
            "accuracy": r.accuracy_mean,
            "ROC-AUC": r.roc_auc_mean,
            "ROC-AUC sd": r.roc_auc_std,
            "fit (s/fold)": r.to_dict()["fit_s_mean"],
            "predict (s/fold)": r.to_dict()["predict_s_mean"],
        }
        for r in scores
    ]
)
library.save_result(
    "classification", "cross-validation", results.classification_payload(task, scheme, folds, runs, scores)
)
st.dataframe(table.style.format(precision=3), hide_index=True, width="stretch")
left, right = st.columns(2)
left.plotly_chart(figures.comparison_figure(scores), width="stretch")
right.plotly_chart(figures.roc_figure(scores), width="stretch")
report.validation_caption("classify")
report.add_button(
    "classify",
    "Classification results",
    lambda: figures.comparison_figure(scores),
    f"{' vs '.join(events)}, {tmin:g}–{tmax:g} s, {band[0]:g}–{band[1]:g} Hz · {schemes[scheme]}"
    + (f", {folds} folds" if scheme == "kfold" else ""),
    key="classify_results",
    pipelines=", ".join(PIPELINES[r.pipeline].label for r in scores),
    cv=schemes[scheme],
)
chosen = st.selectbox(
    "Details of",
    [r.pipeline for r in scores],
    format_func=lambda k: PIPELINES[k].label,
    key="classify_detail",
    index=max(range(len(scores)), key=lambda i: scores[i].roc_auc_mean),
)
result = next(r for r in scores if r.pipeline == chosen)
left, right = st.columns(2)
left.plotly_chart(figures.fold_scores_figure(result), width="stretch")
right.plotly_chart(figures.confusion_figure(result), width="stretch")

# --- outputs over time ---------------------------------------------------------------------
st.subheader("Outputs over time")
st.caption(
    "A model trained on all trials, applied on sliding windows of the current recording; shaded: the true annotations. "
    "The last strip is the Riemannian potato's distance: crosses mark windows it flags as artifacts."
)
source = st.radio(
    "Model", ["train the chosen pipeline", "upload a saved model"], horizontal=True, key="classify_model_source"
)
model = None
with session.user_errors():
    if source == "upload a saved model":
        upload = st.file_uploader(
            "Model file (.zip written by this page or `classify train`)", type=["zip"], key="classify_model_upload"
        )
        if upload is not None:
            model_source = ("uploaded", upload.getvalue())
            model = _uploaded_model(*model_source[1:])
            check_compatible(model, rec, task)
    else:
        with st.spinner(f"training {PIPELINES[chosen].label} on all {len(trials.y)} trials…"):
            model_source = ("trained", runs, task, chosen)
            model = _model(*model_source[1:])
        packed = model_bytes(model)
        library.save_result(
            "model", chosen, results.task_payload(task, scheme, folds, runs) | {"pipeline": chosen}, blob=packed
        )
        st.download_button(
            "Save model",
            packed,
            file_name=f"{rec.name.rsplit('.', 1)[0]}-{chosen}.zip",
            key="classify_save",
        )
    if model is not None:
        step = st.select_slider("Window step (s)", [0.1, 0.25, 0.5, 1.0], value=0.5, key="classify_step")
        timeline = _timeline(rec, model_source, step)
        potato = _potato(rec, (1.0, float(min(35.0, nyquist - 1))))
        st.plotly_chart(figures.timeline_figure(timeline, potato), width="stretch")
        report.add_button(
            "classify",
            "Class probabilities over time",
            lambda: figures.timeline_figure(timeline, potato),
            f"{source}: {PIPELINES[chosen].label if source.startswith('train') else 'uploaded model'} · step {step:g} s",
            key="classify_timeline",
            pipelines=PIPELINES[chosen].label,
            cv=schemes[scheme],
        )

# --- covariance map ---------------------------------------------------------------------------
st.subheader("Trial covariances")
method = st.radio(
    "Map",
    list(embedding.METHODS),
    horizontal=True,
    key="classify_map",
    format_func={"tangent-pca": "tangent-space PCA", "spectral": "Riemannian spectral embedding"}.get,
)
st.caption(
    "Each dot is a trial's covariance matrix placed in 2-D; classes that separate here are easy for the Riemannian pipelines."
)
with session.user_errors():
    st.plotly_chart(
        figures.covariance_map_figure(_map(runs, task, method), trials.y, task.events, method), width="stretch"
    )
