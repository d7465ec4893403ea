"""Study: one recipe on every recording of a dataset, on a Dask cluster; the cohort's quality and group results."""

import functools
from pathlib import Path

import pandas as pd
import streamlit as st

from backend import engine
from backend.classify.epochs import TaskSpec
from backend.classify.pipelines import BEST, PIPELINES
from backend.classify.validate import interval_text
from backend.clean.pipeline import format_pipeline, load_pipeline, parse_pipeline
from backend.cli import parse_floats
from backend.errors import EEGError
from backend.report.study import StudyReport
from backend.study import dataset, figures, group, quality, run
from backend.study.dataset import Entry
from ui import jobs, session
from ui import study as ui_study
from ui import task as task_ui

session.ensure_shell()
st.title("Study")
st.caption(
    "Run a cleaning recipe on every recording of a dataset (on this machine's cores or a Dask cluster), "
    "compare their quality across the cohort, and classify and average every subject."
)

JOBS = "study_jobs"  # stage -> ui.jobs.Job
running = st.session_state.setdefault(JOBS, {})
KINDS = {"bids": "BIDS dataset", "folder": "Folder of recordings, subject and run from the file names"}
DEFAULT_STEPS = "bandpass:1,40;notch:50;reref:average"


def _busy(stage: str) -> bool:
    job = running.get(stage)
    return job is not None and not job.finished


# --- 1. the dataset --------------------------------------------------------------------------

st.subheader("Dataset")
SOURCES = {"folder": "A folder on the server", "library": "Recordings in the Library"}
source = st.radio(
    "Recordings from",
    list(SOURCES),
    format_func=SOURCES.get,
    horizontal=True,
    key="study_source",
    help="A folder: a BIDS dataset, or any folder of recordings searched recursively. The Library: the recordings "
    "you keep there (their stored, de-identified files), chosen by tag or one by one.",
)
pattern = None
if source == "library":
    root = ui_study.library_selection()
    if root is None:
        st.stop()
    pattern = ui_study.pattern_input()
else:
    folder = st.text_input(
        "Dataset folder (a path on the server)", key="study_root", placeholder="/data/eegbci or ~/studies/mi"
    ).strip()
    if not folder:
        st.info("Type the path of a dataset folder to see its recordings.", icon=":material/folder_open:")
        st.stop()
    root = Path(folder).expanduser()
    if not root.exists():
        st.error(f"{folder} does not exist on this server.", icon=":material/error:")
        st.stop()
    bids = dataset.is_bids(root)
    kind = st.radio(
        "Kind",
        list(KINDS),
        format_func=KINDS.get,
        index=0 if bids else 1,
        horizontal=True,
        key="study_kind",
        help="A BIDS dataset is read with mne-bids (its channels.tsv and events.tsv apply); any other folder by pattern.",
    )
    if kind == "folder":
        pattern = ui_study.pattern_input()
    elif not bids:
        st.error(f"{folder} has no dataset_description.json, so it is not a BIDS dataset; choose Folder.")
        st.stop()

entries = None
with session.user_errors():
    entries = dataset.find_recordings(root, pattern)
if entries is None:
    st.stop()
subjects = sorted({e.subject for e in entries})
st.caption(
    f"{len(entries)} recording(s) of {len(subjects)} subject(s) found; check the labels before running anything."
)
st.dataframe(pd.DataFrame(dataset.table(entries, root)), hide_index=True, height=min(400, 38 + 35 * len(entries)))

# --- 2. the recipe and where it runs ----------------------------------------------------------

st.subheader("Recipe")
st.caption("A pipeline as on the Clean page (the one built there is the default) or a saved recipe JSON.")
clean_pipeline = st.session_state.get("clean_pipeline") or []
uploaded = st.file_uploader("Saved pipeline or recipe (JSON)", type=["json"], key="study_recipe_upload")
default_steps = format_pipeline(clean_pipeline) if clean_pipeline else DEFAULT_STEPS
if uploaded is not None:
    with session.user_errors():
        default_steps = format_pipeline(load_pipeline(uploaded.getvalue().decode("utf-8", "replace")))
steps_text = st.text_input("Pipeline", value=default_steps, key=f"study_steps:{default_steps}")
pipeline = None
with session.user_errors():
    pipeline = parse_pipeline(steps_text) if steps_text.strip() else None
    if pipeline is None:
        raise EEGError("the pipeline is empty; type one like bandpass:1,40;reref:average")

c1, c2 = st.columns(2)
deriv = c1.text_input(
    "Output folder", value=str(root / "derivatives" / "eeg-explorer"), key=f"study_out:{root}"
).strip()
address_field = c2.text_input(
    "Dask scheduler",
    key="study_scheduler",
    placeholder="local cluster (one worker per core)",
    help=f"tcp://HOST:PORT of a running scheduler whose workers have EEG Explorer installed and see this "
    f"folder at the same path; empty: ${engine.SCHEDULER_ENV} if set, else a local cluster.",
)
address, address_ok = None, False
with session.user_errors():
    address, address_ok = engine.scheduler_address(address_field), True
    st.caption(
        f"Cleaned recordings go to {deriv} as BIDS derivatives; tasks run on "
        + (f"the scheduler at {address}." if address else "a local cluster, one worker per core.")
        + " A rerun skips recordings already done with the same recipe and software."
    )


def _client(job: jobs.Job, address: str | None):
    client = engine.get_client(address)
    job.info.update(workers=engine.n_workers(client), dashboard=engine.dashboard_link(client))
    return client


def _clean(job: jobs.Job, entries: list[Entry], pipeline: list[dict], deriv: str, address: str | None):
    client = _client(job, address)
    return list(run.run_study(entries, pipeline, deriv, client, progress=job.record, cancel=job.cancel))


def _classify(job: jobs.Job, entries: list[Entry], task: TaskSpec, address: str | None, **options):
    return group.classify_study(
        entries, task, client=_client(job, address), progress=job.record, cancel=job.cancel, **options
    )


def _averages(job: jobs.Job, entries: list[Entry], task: TaskSpec, address: str | None, **options):
    return group.averages_study(
        entries, task, client=_client(job, address), progress=job.record, cancel=job.cancel, **options
    )


def _outcome(job: jobs.Job | None) -> None:
    """What a finished stage came to, in one line: its counts, or its error."""
    if job is None or not job.finished:
        return
    if job.error:
        st.error(job.error, icon=":material/error:")
        return
    counts = {}
    for row in job.rows:
        counts[row.get("status")] = counts.get(row.get("status"), 0) + 1
    st.caption(f"{job.name}: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" in {job.elapsed_s:.0f} s")


if st.button(
    f"Run on {len(entries)} recording(s)",
    type="primary",
    icon=":material/play_arrow:",
    key="study_run",
    disabled=pipeline is None or not deriv or not address_ok or _busy("clean"),
):
    running["clean"] = jobs.start(
        f"Cleaning {len(entries)} recording(s)",
        len(entries),
        functools.partial(_clean, entries=entries, pipeline=pipeline, deriv=deriv, address=address),
    )


# --- progress and control ---------------------------------------------------------------------


def _status_icon(status: str) -> str:
    return {"done": "✅", "skipped": "⏭️", "failed": "❌", "cancelled": "⏹️"}.get(status, "•")


def _progress_panel() -> None:
    """Each stage's progress bar, its recordings as they finish, the dashboard link and Cancel."""
    for stage, job in list(running.items()):
        job.raise_bug()
        if job.finished and job.acknowledged:
            continue
        state = "complete" if job.finished and not job.error else ("error" if job.error else "running")
        with st.status(f"{job.name}: {job.done} of {job.total}", state=state, expanded=not job.finished):
            st.progress(job.fraction, text=f"{job.done}/{job.total} · {job.elapsed_s:.0f} s")
            info = job.info
            if info.get("workers"):
                link = f" · [Dask dashboard]({info['dashboard']})" if info.get("dashboard") else ""
                st.caption(f"{info['workers']} worker(s){link}")
            for row in job.rows[-50:]:  # the latest; the quality table has them all
                name = row.get("file") or f"sub-{row.get('subject')}"
                detail = row.get("error") or (f"{row['task_s']:.1f} s" if row.get("task_s") else "")
                st.markdown(f"{_status_icon(row.get('status', ''))} `{name}` {row.get('status', '')} {detail}")
            if not job.finished:
                st.button(
                    "Cancel",
                    key=f"study_cancel:{stage}",
                    on_click=job.cancel.cancel,
                    icon=":material/stop:",
                    help="Tasks not started are dropped; a recording being cleaned finishes (its output is whole).",
                )
    if running and all(j.finished for j in running.values()) and not all(j.acknowledged for j in running.values()):
        for j in running.values():
            j.acknowledged = True
        st.rerun()  # the whole page: its tables now include what just finished


if running:
    st.fragment(run_every=1.0 if any(not j.finished for j in running.values()) else None)(_progress_panel)()

# --- 3. the quality table ---------------------------------------------------------------------

st.subheader("Quality")
_outcome(running.get("clean"))
results = None
try:
    results = run.read_results(deriv)
except EEGError:
    st.info("No results in the output folder yet: run the recipe.", icon=":material/table:")
if results:
    st.caption(
        f"One row per recording of {deriv}; a failed one has its error in its row. Outliers are more than "
        f"{quality.OUTLIER_Z:g} robust z-scores from the cohort's median (with at least {quality.MIN_COHORT} "
        "recordings). Select a row to open that recording on Browse."
    )
    shown = quality.display_rows(results)
    event = st.dataframe(
        pd.DataFrame(shown),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="study_quality",
    )
    d1, d2, d3 = st.columns(3)
    d1.download_button("Quality table (CSV)", quality.to_delimited(results, ","), "quality.csv", "text/csv")
    d2.download_button(
        "Quality table (TSV)", quality.to_delimited(results, "\t"), "quality.tsv", "text/tab-separated-values"
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        row = results[picked[0]]
        labels = {(e.subject, e.session, e.task, e.run): e for e in entries}
        entry = labels.get((row.get("subject"), row.get("session"), row.get("task"), row.get("run")))
        output = row.get("output")
        if entry is None:
            d3.caption(f"{row.get('file')} is not among the recordings found above.")
        elif d3.button(f"Open {row.get('file')} on Browse", key="study_open", icon=":material/show_chart:"):
            with session.user_errors(), st.spinner(f"Opening {row.get('file')}…"):
                session.open_recording(dataset.open_entry(entry))
                st.switch_page("pages/browse.py")
        if output and Path(output).exists() and d3.button("Open its cleaned version", key="study_open_clean"):
            with session.user_errors(), st.spinner("Opening the cleaned recording…"):
                from backend.io import load_recording

                session.open_recording(load_recording([output], max_bytes=2**40))
                st.switch_page("pages/browse.py")

    st.caption("Each metric across the cohort: a point per recording, outliers in red (hover for the reason).")
    metrics = [m for m in figures.METRIC_LABELS if any(isinstance(r.get(m), (int, float)) for r in results)]
    columns = st.columns(3)
    for i, metric in enumerate(metrics):
        columns[i % 3].plotly_chart(figures.quality_figure(results, metric), key=f"study_metric:{metric}")

# --- 4. group analyses --------------------------------------------------------------------------

st.subheader("Group")
st.caption(
    "Within-subject cross-validation of a Classify pipeline for every subject, the group mean with its 95 % "
    "confidence interval, and grand-average spectra and event averages; on the raw recordings or cleaned first."
)
g1, g2, g3, g4 = st.columns(4)
events_text = g1.text_input("Events", value="T1,T2", key="study_events", help="annotation labels, one class each")
manual = task_ui.manual_window(
    g2,
    "study_window_mode",
    help="Automatic: each subject's training folds pick the epoch window and pass band from a small grid by an inner "
    "cross-validation on their own trials (leave-one-subject-out: on the other subjects'); the event averages then "
    "span −0.5 s to the end of the trials. Manual: the window and band you set.",
)
tmin = g3.number_input("Window start (s)", value=0.5, step=0.1, key="study_tmin", disabled=not manual)
tmax = g3.number_input("Window end (s)", value=2.5, step=0.1, key="study_tmax", disabled=not manual)
band_text = g4.text_input("Band (Hz)", value="8,30", key="study_band", disabled=not manual)
g5, g6, g7, g8 = st.columns(4)
classifier = g5.selectbox(
    "Pipeline",
    list(PIPELINES),
    index=list(PIPELINES).index(BEST),
    format_func=lambda k: PIPELINES[k].label,
    key="study_classifier",
)
folds = g6.number_input("Folds", min_value=2, max_value=20, value=5, key="study_folds")
loso = g7.checkbox(
    "Also leave-one-subject-out",
    key="study_loso",
    disabled=not group.loso_allowed(classifier) or len(subjects) < 2,
    help="scikit-learn pipelines, subjects with the same channels",
)
cleaned_first = g8.checkbox("Clean with the recipe first", key="study_clean_first", disabled=pipeline is None)
channel = st.text_input("Channel of the event averages", value="Cz", key="study_channel")

task = None
with session.user_errors():
    if manual:
        band = parse_floats(band_text.replace(" ", ""), "the band (two frequencies in Hz, like 8,30)", 2)
        task = TaskSpec(tuple(events_text.split(",")), float(tmin), float(tmax), band)
    else:
        task = TaskSpec(tuple(events_text.split(",")))
pre_steps = list(pipeline) if cleaned_first and pipeline else []
b1, b2 = st.columns(2)
ready = task is not None and address_ok
if b1.button(f"Classify {len(subjects)} subject(s)", key="study_classify", disabled=not ready or _busy("classify")):
    running["classify"] = jobs.start(
        f"Classifying {len(subjects)} subject(s) with {PIPELINES[classifier].label}",
        len(group.sessions_of(entries)) + (len(subjects) if loso else 0),
        functools.partial(
            _classify,
            entries=entries,
            task=task,
            address=address,
            pipeline=classifier,
            folds=int(folds),
            loso=bool(loso),
            steps=pre_steps,
        ),
    )
    st.rerun()
if b2.button("Grand averages", key="study_averages", disabled=not ready or _busy("averages")):
    running["averages"] = jobs.start(
        f"Averaging {len(subjects)} subject(s)",
        len(subjects),
        functools.partial(
            _averages, entries=entries, task=task, address=address, channel=channel.strip() or None, steps=pre_steps
        ),
    )
    st.rerun()

classified = running.get("classify")
_outcome(classified)
if classified is not None and classified.finished and classified.result:
    result = classified.result
    low, high = result["roc_auc_ci95"]
    st.caption(
        f"Mean ROC-AUC over {result['n_subjects']} subject(s): {result['roc_auc_mean']:.3f} "
        f"(95 % CI {low:.3f}–{high:.3f}, Student's t); each subject's {result['folds']}-fold mean with its spread"
        + (
            ", with the window and band most of its training folds chose."
            if TaskSpec.from_dict(result["task"]).auto
            else "."
        )
    )
    table = [
        {
            "subject": r["subject"],
            "session": r.get("session"),
            "runs": r.get("runs"),
            "ROC-AUC": r.get("roc_auc"),
            "95 % interval": interval_text(r.get("roc_auc_ci95")),
            "accuracy": r.get("accuracy"),
            # Most folds' choice when automatic.
            "window, band": (
                f"{r['window_s'][0]:g}–{r['window_s'][1]:g} s, {r['band_hz'][0]:g}–{r['band_hz'][1]:g} Hz"
                if r.get("window_s") and r.get("band_hz")
                else None
            ),
            "trials": " ".join(f"{k}={v}" for k, v in (r.get("n_trials") or {}).items()),
            "status": r.get("status"),
            "error": r.get("error"),
        }
        for r in result["subjects"]
    ]
    st.dataframe(pd.DataFrame(table), hide_index=True, key="study_classified")
    st.plotly_chart(figures.classification_figure(result), key="study_classification_figure")

averaged = running.get("averages")
_outcome(averaged)
if averaged is not None and averaged.finished and averaged.result:
    averages = averaged.result
    left_out = "; ".join(f"sub-{r['subject']}: {r.get('error')}" for r in averages["subjects"] if r["status"] != "done")
    st.caption(
        "Each subject's spectrum and event averages (thin lines) and their grand average (black)"
        + (f"; left out: {left_out}" if left_out else ".")
    )
    a1, a2 = st.columns(2)
    a1.plotly_chart(figures.spectra_figure(averages), key="study_spectra")
    for i, condition in enumerate(averaged.result.get("grand", {}).get("erp", {})):
        (a2 if i % 2 == 0 else a1).plotly_chart(
            figures.event_average_figure(averages, condition), key=f"study_erp:{condition}"
        )

# --- 5. the study report ------------------------------------------------------------------------

if results:
    st.subheader("Study report")
    st.caption(
        "The dataset summary, the quality table with its flags and distributions, the group results shown above "
        "(else those stored with the study) and the methods of its recipe: one HTML file (works offline) or a PDF."
    )
    shown_results = {s: j.result for s, j in running.items() if j.finished and j.result}
    with session.user_errors():
        doc = StudyReport.from_deriv(deriv, shown_results.get("classify"), shown_results.get("averages"))
        r1, r2 = st.columns(2)
        r1.download_button("Study report (HTML)", doc.html, "study_report.html", "text/html", key="study_report_html")
        r2.download_button(
            "Study report (PDF)", lambda: doc.pdf(), "study_report.pdf", "application/pdf", key="study_report_pdf"
        )
