"""Classify: cross-validate classifiers on the recording's annotations and see their outputs over time."""

import pandas as pd
import streamlit as st

from backend import workspace
from backend.classify import chance, embedding, figures, window_band
from backend.classify.chance import chance_level, permutation_estimate_s, permutation_test
from backend.classify.epochs import TaskSpec, annotation_labels, make_trials
from backend.classify.persistence import check_compatible, load_model, model_bytes, train_model
from backend.classify.pipelines import BEST, PIPELINES
from backend.classify.timeline import out_of_fold_timeline, predict_timeline
from backend.classify.validate import cross_validate
from backend.config import max_upload_bytes
from backend.io import load_recording
from ui import background, library, report, results, session
from ui import task as task_ui
from ui.cache import cached
from ui.on_request import requested

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
    """``model_source``: ("folds", runs, task, pipeline, scheme, folds) or ("uploaded", file bytes)."""
    if model_source[0] == "uploaded":
        return predict_timeline(rec, _uploaded_model(model_source[1]), step_s=step)
    _, runs, task, pipeline, scheme, folds = model_source
    bar = st.progress(0.0, text=f"fold models of {PIPELINES[pipeline].label} over the recording…")
    try:
        return out_of_fold_timeline(
            rec,
            _trials(runs, task),
            pipeline,
            scheme,
            folds,
            step_s=step,
            progress=lambda f, m: bar.progress(f, text=m),
        )
    finally:
        bar.empty()


@cached(data=True, max_entries=16)
def _chance(runs, task, scheme, folds):
    return chance_level(_trials(runs, task), scheme, folds)


@cached(max_entries=4)
def _permutation(runs, task, pipeline, scheme, folds, n):
    bar = st.progress(0.0, text=f"permutation test of {PIPELINES[pipeline].label}…")
    try:
        return permutation_test(
            _trials(runs, task),
            pipeline,
            scheme,
            folds,
            n_permutations=n,
            observed=_cv(runs, task, pipeline, scheme, folds),
            progress=lambda f, m: bar.progress(f, text=m),
        )
    finally:
        bar.empty()


@cached(max_entries=8)
def _potato(rec, band):
    return embedding.potato_flags(rec, band=band)


@cached(data=True, max_entries=16)
def _map(runs, task, method):
    return embedding.covariance_map(_trials(runs, task), method)


rec = session.current()
saved = library.latest_result("classification", "cross-validation")
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
manual = task_ui.manual_window(
    c2,
    "classify_window_mode",
    help="Automatic: each training fold picks the epoch window and pass band from a small grid around the events "
    "by an inner cross-validation on its own trials (a fast tangent-space proxy scores each choice); a model "
    "trained on all trials picks them on all of them. Manual: the window and band you set.",
)
nyquist = rec.raw.info["sfreq"] / 2
window: tuple[float, float] | None = None
band: tuple[float, float] | None = None
if manual:
    window = c2.slider("Epoch window after onset (s)", -1.0, 6.0, (0.0, 3.0), step=0.1, key="classify_window")
    band = c3.slider(
        "Band (Hz)",
        1.0,
        float(min(45.0, nyquist - 1)),
        (8.0, float(min(32.0, nyquist - 2))),
        step=1.0,
        key="classify_band",
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
schemes = {"kfold": "stratified k-fold", "runs": "leave one run out"}
scheme = c5.radio("Validation", list(schemes), format_func=schemes.get, key="classify_scheme", horizontal=True)
folds = c5.number_input("Folds", 2, 10, 5, key="classify_folds", disabled=scheme != "kfold")
no_runs = len(runs) < 2
if no_runs:
    c5.caption("Leave one run out needs two or more runs: add recordings of this subject under *Runs of this subject*.")
# Cross-validation and the timeline run as jobs on the Dask workers (ui.background), which open the
# recording from the Library; runs uploaded beside it are not there, so with them the server works.
on_jobs = background.classify_on_workers(runs)
if background.on_workers() and not no_runs:
    st.caption(
        "The added runs are not in your library, so a worker cannot open them: cross-validation and the timeline "
        "run in the app server (this page waits for them, and they are not kept when you leave)."
    )

trials = None
with session.user_errors():
    task = TaskSpec(tuple(events), *(window or (None, None)), band)
    trials = _trials(runs, task)
if trials is None:
    st.stop()
if task.auto:
    grid = [c.task for c in trials.candidates]
    cut = (
        f"window and band chosen per training fold among {len(grid)}: windows "
        f"{', '.join(dict.fromkeys(f'{g.window[0]:g}–{g.window[1]:g} s' for g in grid))} × bands "
        f"{', '.join(dict.fromkeys(f'{g.pass_band[0]:g}–{g.pass_band[1]:g} Hz' for g in grid))}."
    )
else:
    cut = f"{trials.X.shape[2]} samples each, band-passed {task.pass_band[0]:g}–{task.pass_band[1]:g} Hz."
st.caption(
    f"{len(trials.y)} trials ({', '.join(f'{k} ×{v}' for k, v in trials.counts().items())}), "
    f"{len(trials.ch_names)} EEG channels, {cut}"
)

# --- cross-validation -----------------------------------------------------------------
st.subheader("Cross-validation")
st.caption(
    "Each fold trains a fresh pipeline on the other folds only; hyper-parameters are searched inside the training folds (nested)."
)
cv = requested(
    "classify_run",
    rec.key,
    (runs, task, tuple(pipelines), scheme, int(folds)),
    "Run cross-validation",
    disabled=not pipelines or (scheme == "runs" and no_runs),
    on_press=(lambda settings: background.start_cv(rec, settings)) if on_jobs else None,
    resume=(lambda: background.last_cv(rec)) if on_jobs else None,
)
if not pipelines:
    st.caption("Pick at least one pipeline.")
scores: list = []
if cv is None:
    if pipelines:
        st.caption("Choose the task and pipelines, then press Run cross-validation.")
else:
    cv_runs, cv_task, cv_pipelines, cv_scheme, cv_folds = cv
    with session.user_errors():
        if background.classify_on_workers(cv_runs):  # as when it was asked for: a job, or in the server
            scores, level = background.cv_scores(rec, cv) or ([], None)
        else:
            scores = [_cv(cv_runs, cv_task, name, cv_scheme, cv_folds) for name in cv_pipelines]
            level = _chance(cv_runs, cv_task, cv_scheme, cv_folds)
        if level is not None and level.few:
            st.warning(level.note(), icon=":material/warning:")
chosen = pipelines[0] if pipelines else BEST
if scores:
    library.save_result(
        "classification",
        "cross-validation",
        results.classification_payload(cv_task, cv_scheme, cv_folds, cv_runs, scores),
    )
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
    st.dataframe(table.style.format(precision=3), hide_index=True, width="stretch")
    st.caption(window_band.describe(scores[0]))
    st.caption(
        "  \n".join(f"{PIPELINES[r.pipeline].label}: {r.summary_line()}" for r in scores)
        + "  \n± the spread over folds; the 95 % interval of the mean is the corrected resampled t "
        "(Nadeau & Bengio 2003), wider than Student's t because the folds' training sets overlap."
    )
    left, right = st.columns(2)
    left.plotly_chart(figures.comparison_figure(scores), width="stretch")
    right.plotly_chart(figures.roc_figure(scores), width="stretch")
    report.validation_caption("classify")
    report.add_button(
        "classify",
        "Classification results",
        lambda: figures.comparison_figure(scores),
        f"{' vs '.join(cv_task.events)}, {window_band.describe(scores[0])} · {schemes[cv_scheme]}"
        + (f", {cv_folds} folds" if cv_scheme == "kfold" else ""),
        key="classify_results",
        caption="; ".join(f"{PIPELINES[r.pipeline].label}: {r.summary_line()}" for r in scores) + ".",
        pipelines=", ".join(PIPELINES[r.pipeline].label for r in scores),
        cv=schemes[cv_scheme],
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

    st.markdown("**Chance level by permutation**")
    shuffles = chance.DEFAULT_PERMUTATIONS
    label = PIPELINES[chosen].label
    st.caption(
        f"Shuffles the labels {shuffles} times and cross-validates {label} again on each: the p-value and the "
        f"chance level come from those scores, not from assuming 0.5. About "
        f"{chance.duration_text(permutation_estimate_s(result, shuffles))} (this cross-validation's measured fit and "
        f"predict time × {shuffles})."
    )
    permuted = requested(
        "classify_permutation_go",
        rec.key,
        (cv_runs, cv_task, chosen, cv_scheme, cv_folds, shuffles),
        f"Permutation test ({shuffles} shuffles)",
        on_press=(lambda settings: background.start_permutation(rec, settings)) if on_jobs else None,
        resume=(lambda: background.last_permutation(rec)) if on_jobs else None,
    )
    test = None
    if permuted is not None:
        with session.user_errors():
            if background.classify_on_workers(permuted[0]):
                test = background.stored_permutation(rec, permuted)
            else:
                test = _permutation(*permuted)
                library.save_result(
                    "classification",
                    "permutation test",
                    results.task_payload(permuted[1], permuted[3], permuted[4], permuted[0])
                    | {"pipeline": permuted[2]}
                    | test.to_dict(),
                )
    if test is not None:
        st.caption(test.line())
        st.plotly_chart(figures.permutation_figure(test, PIPELINES[permuted[2]].label), width="stretch")
        report.add_button(
            "classify",
            "Permutation test",
            lambda: figures.permutation_figure(test, PIPELINES[permuted[2]].label),
            f"{test.n} label shuffles · {schemes[permuted[3]]}"
            + (f", {permuted[4]} folds" if permuted[3] == "kfold" else ""),
            key="classify_permutation",
            caption=test.line(),
            permutations=test.n,
            pipelines=PIPELINES[permuted[2]].label,
            cv=schemes[permuted[3]],
        )

# --- outputs over time ---------------------------------------------------------------------
st.subheader("Outputs over time")
sources = {"folds": f"cross-validated {PIPELINES[chosen].label}", "upload": "upload a saved model"}
source = st.radio(
    "Model",
    list(sources),
    format_func=sources.get,
    horizontal=True,
    key="classify_model_source",
    help="Cross-validated: each window is predicted by the fold model of the validation above that did not see "
    "the trials it overlaps. A saved model (trained on all trials of another recording) is applied as it is.",
)
model_source: tuple | None = None
with session.user_errors():
    if source == "upload":
        upload = st.file_uploader(
            "Model file (.zip written by this page or `classify train`)", type=["zip"], key="classify_model_upload"
        )
        if upload is not None:
            check_compatible(_uploaded_model(upload.getvalue()), rec, task)
            model_source = ("uploaded", upload.getvalue())
    else:
        model_source = ("folds", runs, task, chosen, scheme, int(folds))
step = st.select_slider("Window step (s)", [0.1, 0.25, 0.5, 1.0], value=0.5, key="classify_step")
shown = requested(
    "classify_timeline_go",
    rec.key,
    (model_source, step),
    "Compute timeline",
    disabled=model_source is None or (scheme == "runs" and no_runs),
    on_press=(lambda settings: background.start_timeline(rec, settings)) if on_jobs else None,
    resume=(lambda: background.last_timeline(rec)) if on_jobs else None,
)
timeline = None
if shown is not None:
    with session.user_errors():
        shown_source, shown_step = shown
        if shown_source[0] == "folds" and background.classify_on_workers(shown_source[1]):
            timeline = background.stored_timeline(rec, shown)
        else:
            timeline = _timeline(rec, shown_source, shown_step)
if timeline is not None:
    with session.user_errors():
        potato = _potato(rec, (1.0, float(min(35.0, nyquist - 1))))
        st.plotly_chart(figures.timeline_figure(timeline, potato), width="stretch")
        st.caption(
            (
                "Out of fold: each window is predicted by the cross-validation fold model that did not see the "
                "trials it overlaps, so around the trials this is what the model does on new data, not its "
                "training fit; gaps are windows that overlap trials of two folds. "
                if timeline.out_of_fold
                else "A saved model applied on sliding windows of this recording. "
            )
            + "Shaded: the true annotations. The last strip is the Riemannian potato's distance: "
            "crosses mark windows it flags as artifacts."
        )
        report.add_button(
            "classify",
            "Class probabilities over time",
            lambda: figures.timeline_figure(timeline, potato),
            f"{'out of fold' if timeline.out_of_fold else 'saved model'} · step {shown_step:g} s",
            key="classify_timeline",
            pipelines=PIPELINES[chosen].label,
            cv=schemes[scheme],
        )

st.caption("To apply this pipeline to another recording, train it on all trials here and save the model.")
if st.button(f"Train {PIPELINES[chosen].label} on all trials", key="classify_train_all"):
    st.session_state["classify_trained"] = (rec.key, runs, task, chosen)
    if on_jobs:  # as a job on a Dask worker (ui.background); the model is stored in the library
        background.start_training(rec, task, chosen)
trained = st.session_state.get("classify_trained")
if (trained is None or trained[0] != rec.key) and on_jobs and (earlier := background.last_training(rec)):
    trained = st.session_state["classify_trained"] = (rec.key, [rec], *earlier)  # a user back to a training job
if trained is not None and trained[0] == rec.key:
    packed = None
    with session.user_errors():
        _, model_runs, model_task, model_pipeline = trained
        if background.classify_on_workers(model_runs):
            packed = background.trained_model(rec, model_task, model_pipeline)  # None while its job runs
        else:
            with st.spinner(f"training {PIPELINES[model_pipeline].label} on all trials…"):
                packed = model_bytes(_model(model_runs, model_task, model_pipeline))
            library.save_result(
                "model",
                model_pipeline,
                results.task_payload(model_task, scheme, folds, model_runs) | {"pipeline": model_pipeline},
                blob=packed,
            )
    if packed is not None:
        fitted = _uploaded_model(packed)  # the model file, read back (cached on its bytes)
        st.caption(
            f"Trained on {fitted.n_trials} trials, {fitted.task.describe()}"
            + (" (chosen by inner cross-validation on all of them)." if model_task.auto else ".")
        )
        st.download_button(
            "Save model",
            packed,
            file_name=f"{rec.name.rsplit('.', 1)[0]}-{model_pipeline}.zip",
            key="classify_save",
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
    + (f" Shown for {trials.candidates[0].task.describe()} (the first of the automatic grid)." if task.auto else "")
)
with session.user_errors():
    st.plotly_chart(
        figures.covariance_map_figure(_map(runs, task, method), trials.y, task.events, method), width="stretch"
    )
