"""Concurrent users in real browsers: page turns on the Browse page under load.

Starts ``streamlit run serve.py`` (or uses ``--url``), opens N headless Chromium
sessions at once, loads the bundled 64-channel PhysioNet run in each through the
Load page's upload widget, goes to Browse and turns pages (Next, and Prev at the
end) for the given time. A page turn is timed from the click until the trace view's
caption line names the new window ("a–b s of d s") and its canvas shows it (the page
comes over the app's page route, :mod:`ui.page_server`, with no script run).
By default each session turns again as soon as its page is drawn (a stress test: the
eight browsers' drawing runs on the same two cores as the server); ``--think S`` makes
each session look at a page for about S seconds first, as a fast reader would.

Scenarios (``--scenario``):

- ``stress`` (default): ``--sessions`` readers turning pages back to back (or with ``--think``).
- ``readers16``: 16 readers, each turning a page every 3 s.
- ``mixed``: 6 readers turning a page every 3 s while 2 other sessions each fit ICA (Components,
  picard, all components, a seed of their own) and then cross-validate ``best`` (Classify, a
  fold count of their own; *Run cross-validation* pressed), each on a recording of its own
  (S002R04, S003R04 from ../shared/data), so neither finds the other's stored result. ``--jobs server`` runs the ICA fit and the cross-validation in the app server as
  before jobs existed (``EEG_EXPLORER_JOBS=server``), for the same run with that design beside it.

Before the timed run each reader turns ``--warmup`` pages (3 by default) while the sessions are set
up one at a time: the first turns of a fresh page cost its browser several times a later one
(its JavaScript not yet compiled, its elements drawn for the first time), and sixteen browsers
making those first turns within the same three seconds measure that start, not reading. Those
turns are timed too and reported apart (``warmup_p50_ms``, ``warmup_max_ms``); ``--warmup 0``
gives the run as before.

``--readers`` and ``--heavy`` override a scenario's counts (``--readers 2 --heavy 1 --seconds 10``
is a smoke run). Every session is bounded by ``--seconds`` and by ``--max-turns``; everything
runs on 127.0.0.1, with a private, empty Library.

Prints one line per session, then the figures; the last line is one JSON object:
p50/p95 page-turn latency, turns, errors, the heavy sessions' times, the peak memory of the
app server (with its local Dask workers) and of the browsers (PSS and RSS, sampled every second),
and the CPU a turn of the server, the browsers and Playwright's driver (which stands in for the
users' hands and eyes, and is counted apart from the browsers).

Usage: ``python benchmarks/e2e_load.py [--scenario stress|readers16|mixed] [--sessions 8] [--seconds 60]
[--think 0] [--url URL]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT))
from harness import _COUNT_RUNS, _IDLE_AFTER, CHROMIUM, CHROMIUM_ARGS, EXCEPTION, StreamlitServer  # noqa: E402

from backend.config import SAMPLES  # noqa: E402

RECORDING = SAMPLES / "S001R04.edf"  # 64 EEG channels, 160 Hz, 125 s
SHARED = Path(os.environ.get("EEG_SHARED_DATA") or ROOT.parent / "shared" / "data")


def heavy_recording(index: int) -> Path:
    """The run heavy session ``index`` works on: another PhysioNet subject's imagery run (S002R04,
    S003R04, ...) from ../shared/data, so that neither finds the other's stored ICA or
    cross-validation and both really compute; the bundled run where the shared data is absent."""
    subject = f"S{index + 2:03d}"
    path = SHARED / "eegbci_physionet" / subject / f"{subject}R04.edf"
    return path if path.exists() else RECORDING


_RANGE = re.compile(r"(\d+\.\d)–(\d+\.\d) s of (\d+\.\d) s")
# Check every 20 ms rather than every animation frame: eight pages polling at 60 Hz would
# take CPU from the very work being timed.
_POLL_MS = 20
_BUILT = re.compile(r"built in (\d+) ms")
_SHOWS = """([prefix, start]) => {
  // The canvas view's caption line (or, with Plotly traces, the page's caption) names the window...
  const captions = [...document.querySelectorAll('.eeg-caption, [data-testid="stCaptionContainer"]')]
    .filter((e) => !e.closest('[data-stale="true"]'));
  if (!captions.some((e) => e.textContent.includes(prefix))) return false;
  if (start === null) return true;
  // ...and the traces are drawn: the canvas view (or Plotly) shows the new page's time axis.
  const view = document.querySelector('.eeg-page-view');
  if (view) return Math.abs(parseFloat(view.dataset.start) - start) < 0.05;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const plot = document.querySelector('.st-key-browse_traces .js-plotly-plot');
  const range = plot && plot._fullLayout && plot._fullLayout.xaxis.range;
  return !!range && Math.abs(range[0] - start) < 0.05;
}"""


class PeakMemory(threading.Thread):
    """Samples the memory of process trees (bytes): the peak of their summed PSS (pages Chromium's
    processes share count once) and of their summed RSS (shared pages counted in every process).

    Chromium sets its renderers' priority itself (nice 0, whatever it was started at): the
    processes of the trees in ``keep_nice`` are put back at this script's niceness at each
    sample, so that ``nice -n -19 python benchmarks/e2e_load.py`` covers the browsers too.
    """

    def __init__(self, roots: dict[str, callable], every_s: float = 1.0, keep_nice: tuple[str, ...] = ()):
        super().__init__(daemon=True)
        self.roots, self.every_s, self.keep_nice = roots, every_s, keep_nice
        self.peak = {k: 0 for k in roots}
        self.peak_rss = {k: 0 for k in roots}
        self.stopped = threading.Event()
        self.niceness = os.nice(0)

    def cpu_s(self, name: str) -> float:
        """CPU seconds (user + system) the processes of tree ``name`` alive now have used."""
        total = 0.0
        for p in self.roots[name]():
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
        return total

    def _renice(self, procs) -> None:
        for p in procs:
            try:
                if p.nice() > self.niceness:
                    p.nice(self.niceness)
            except psutil.Error:  # gone, or not ours to raise (not root)
                pass

    @staticmethod
    def _tree_memory(procs) -> tuple[int, int]:
        pss = rss = 0
        for p in procs:
            try:
                info = p.memory_full_info()
            except psutil.Error:
                continue
            pss, rss = pss + info.pss, rss + info.rss
        return pss, rss

    def run(self):
        while not self.stopped.is_set():
            for name, procs in self.roots.items():
                if name in self.keep_nice:
                    self._renice(procs())
                pss, rss = self._tree_memory(procs())
                self.peak[name] = max(self.peak[name], pss)
                self.peak_rss[name] = max(self.peak_rss[name], rss)
            self.stopped.wait(self.every_s)


def _tree(pid: int):
    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.Error:
        return []


def _browser_procs(exclude: set[int], driver: bool = False):
    """Chromium's processes (or, with ``driver``, Playwright's Node.js driver that stands in for the
    user and is no part of a reader's browser): what this script started, the app server excepted."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.pid not in exclude and p.name().startswith("node") == driver:
                found.append(p)
        except psutil.Error:
            pass
    return found


async def _wait_run(page, before: int, timeout_ms: float) -> None:
    await page.wait_for_function(_IDLE_AFTER, arg=before, timeout=timeout_ms)


async def _runs(page) -> int:
    return await page.evaluate("() => window.__eegMessages")


async def _prepare(browser, url: str, timeout_ms: float, recording: Path = RECORDING, warmup: int = 0):
    """A session on the Browse page showing a 64-channel recording (the bundled run by default),
    after ``warmup`` page turns (timed, returned with the page)."""
    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(timeout_ms)
    await context.add_init_script(_COUNT_RUNS)
    page = await context.new_page()
    await page.goto(url)
    await _wait_run(page, 0, timeout_ms)
    before = await _runs(page)
    await page.locator('.st-key-uploads input[type="file"]').set_input_files([str(recording)])
    await _wait_run(page, before, timeout_ms)
    before = await _runs(page)
    await page.locator(".st-key-load_upload button").click()
    await _wait_run(page, before, timeout_ms)
    await page.locator('[data-testid="stMain"] h3', has_text=recording.name).wait_for()
    await page.locator('[data-testid="stSidebarNav"] a', has_text="Browse").click()
    await page.locator(".st-key-browse_next button").wait_for()
    await page.wait_for_function(_SHOWS, arg=["s of ", None], timeout=timeout_ms, polling=_POLL_MS)
    return page, [await _turn(page, timeout_ms) for _ in range(warmup)]


async def _caption(page) -> tuple[tuple[float, float, float], float | None]:
    """The window the page shows (start, stop, duration) and the server's build time (ms)."""
    for text in await page.locator('.eeg-caption, [data-testid="stCaptionContainer"]').all_inner_texts():
        m = _RANGE.search(text)
        if m:
            built = _BUILT.search(text)
            return tuple(float(g) for g in m.groups()), float(built.group(1)) if built else None
    raise RuntimeError("the Browse page shows no 'a–b s of d s' caption")


async def _turn(page, timeout_ms: float) -> float:
    """Turn one page (Next, or Prev at the end) and return the seconds until it is drawn."""
    (start, stop, duration), _ = await _caption(page)
    width = stop - start
    forward = stop + 1e-6 < duration
    new_start = min(start + width, duration - width) if forward else max(0.0, start - width)
    prefix = f"{new_start:.1f}–{new_start + width:.1f} s of"
    began = time.perf_counter()
    await page.locator(".st-key-browse_next button" if forward else ".st-key-browse_prev button").click()
    await page.wait_for_function(_SHOWS, arg=[prefix, new_start], timeout=timeout_ms, polling=_POLL_MS)
    return time.perf_counter() - began


async def _turn_pages(
    index: int,
    page,
    deadline: float,
    timeout_ms: float,
    think_s: float,
    out: dict,
    every_s: float = 0.0,
    max_turns: int = 10_000,
) -> None:
    latencies, built, errors = [], [], []
    rng = np.random.default_rng(index)
    next_at = time.monotonic() + rng.uniform(0, every_s)  # readers start out of step
    while time.monotonic() < deadline and len(latencies) + len(errors) < max_turns:
        try:
            if every_s > 0:  # a turn every `every_s` seconds (at once when the last one took longer)
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at = max(next_at + every_s, time.monotonic())
                if time.monotonic() >= deadline:
                    break
            elif think_s > 0:  # a reader looks at the page before turning it; jittered so sessions do not march in step
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
                if time.monotonic() >= deadline:
                    break
            latencies.append(await _turn(page, timeout_ms))
            built.append((await _caption(page))[1])
            if shown := await _exception(page):
                errors.append(shown)
        except Exception as exc:  # a timeout or a broken page is an error of the run, not of the script
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            await asyncio.sleep(0.5)
    out[index] = {"latencies": latencies, "built_ms": [b for b in built if b is not None], "errors": errors}


async def _fill(page, key: str, value, timeout_ms: float) -> None:
    """Type a number into a number input and wait for the run it starts (and its elements) to end."""
    before = await _runs(page)
    field = page.locator(f".st-key-{key} input")
    await field.fill(str(value))
    await field.press("Enter")
    await _wait_run(page, before, timeout_ms)


async def _exception(page) -> str | None:
    """The exception the page shows, in one line, if any."""
    if await page.locator(EXCEPTION).count():
        return "exception shown: " + (await page.locator(EXCEPTION).first.inner_text())[:200]
    return None


async def _heavy(index: int, page, deadline: float, out: dict) -> None:
    """An ICA fit (Components), then a `best` cross-validation (Classify); each timed until its result shows."""
    times, errors = {}, []
    left_ms = lambda: max(1.0, deadline - time.monotonic()) * 1000  # noqa: E731
    try:
        await page.locator('[data-testid="stSidebarNav"] a', has_text="Components").click()
        await page.locator(".st-key-fit_ica button").wait_for(timeout=left_ms())
        await _fill(page, "ica_seed", 1000 + index, left_ms())  # a fit of its own, not another session's cached one
        began = time.perf_counter()
        await page.locator(".st-key-fit_ica button").click()
        await page.locator(".st-key-card_grid").wait_for(timeout=left_ms())
        times["ica_s"] = round(time.perf_counter() - began, 1)
        await page.locator('[data-testid="stSidebarNav"] a', has_text="Classify").click()
        await page.locator(".st-key-classify_folds input").wait_for(timeout=left_ms())
        await page.wait_for_function(_IDLE_AFTER, arg=0, timeout=left_ms())
        await _fill(page, "classify_folds", 4 - index % 3, left_ms())  # a fold count of its own: 4, 3, 2
        began = time.perf_counter()
        await page.locator(".st-key-classify_run button").click()  # nothing runs until Run is pressed
        await page.get_by_text("ROC-AUC").first.wait_for(timeout=left_ms())
        times["cv_s"] = round(time.perf_counter() - began, 1)
        if shown := await _exception(page):
            errors.append(shown)
    except Exception as exc:  # the run's time is up (not an error: the step is named unfinished), or a broken page
        if time.monotonic() >= deadline - 1.0:
            times["unfinished"] = "cv" if "ica_s" in times else "ica"
        else:
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    out[index] = {"times": times, "errors": errors}


async def main_async(
    url: str,
    readers: int,
    seconds: float,
    timeout_s: float,
    think_s: float,
    every_s: float = 0.0,
    heavy: int = 0,
    max_turns: int = 10_000,
    meter: PeakMemory | None = None,
    warmup: int = 0,
) -> dict:
    from playwright.async_api import async_playwright

    timeout_ms = timeout_s * 1000
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        t0 = time.perf_counter()
        # Setting up is not what is measured: one session at a time, with time to spare on a busy machine.
        setup_ms = max(timeout_ms, 300_000)
        prepared = [await _prepare(browser, url, setup_ms, warmup=warmup) for _ in range(readers)]
        pages = [page for page, _ in prepared]
        warmup_s = [s for _, turns in prepared for s in turns]
        pages += [(await _prepare(browser, url, setup_ms, heavy_recording(i)))[0] for i in range(heavy)]
        setup_s = time.perf_counter() - t0
        for pg in pages:
            pg.set_default_timeout(timeout_ms)
        results: dict[int, dict] = {}
        heavy_results: dict[int, dict] = {}
        deadline = time.monotonic() + seconds
        cpu_before = {k: meter.cpu_s(k) for k in meter.roots} if meter else {}
        began = time.monotonic()
        await asyncio.gather(
            *[
                _turn_pages(i, pg, deadline, timeout_ms, think_s, results, every_s, max_turns)
                for i, pg in enumerate(pages[:readers])
            ],
            *[_heavy(i, pg, deadline, heavy_results) for i, pg in enumerate(pages[readers:])],
        )
        cpu = {k: meter.cpu_s(k) - cpu_before[k] for k in cpu_before} if meter else {}
        wall_s = time.monotonic() - began
        await browser.close()
    return {
        "setup_s": setup_s,
        "warmup_s": warmup_s,
        "sessions": results,
        "heavy": heavy_results,
        "cpu_s": cpu,
        "wall_s": wall_s,
    }


SCENARIOS = {  # readers, heavy sessions, seconds between a reader's turns
    "stress": None,
    "readers16": (16, 0, 3.0),
    "mixed": (6, 2, 3.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=list(SCENARIOS), default="stress")
    parser.add_argument("--sessions", type=int, default=8, help="readers of the stress scenario")
    parser.add_argument("--readers", type=int, help="override the scenario's readers")
    parser.add_argument("--heavy", type=int, help="override the scenario's heavy sessions (ICA fit + CV)")
    parser.add_argument("--max-turns", type=int, default=1000, help="page turns at most per reader")
    parser.add_argument(
        "--jobs",
        choices=["dask", "server"],
        default="dask",
        help="where the ICA fit and cross-validation run (EEG_EXPLORER_JOBS)",
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        help="page turns each reader makes while the sessions are set up, one session at a time, before "
        "the timed run (their times are reported apart as warmup_*; 0: none)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a session looks at a page before turning it (uniform 0.5-1.5 times this; "
        "0: turn again as soon as the page is drawn, a stress test)",
    )
    parser.add_argument("--url", help="an app already running (its memory is then not measured)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before one page turn counts as an error")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"error: {CHROMIUM} is absent")

    readers, heavy, every_s = SCENARIOS[args.scenario] or (args.sessions, 0, 0.0)
    readers = readers if args.readers is None else args.readers
    heavy = heavy if args.heavy is None else args.heavy
    if readers < 0 or heavy < 0 or readers + heavy < 1 or args.max_turns < 1 or args.seconds <= 0:
        sys.exit("error: give at least one session, a positive --max-turns and a positive --seconds")

    server = None
    if args.url is None:
        home = tempfile.mkdtemp(prefix="e2e-load-home-")  # a private, empty Library
        env = {"EEG_EXPLORER_HOME": home, "EEG_EXPLORER_JOBS": args.jobs}
        server = StreamlitServer(env=env, log=Path("/tmp") / "e2e_load_streamlit.log")
        server.start()
    url = args.url or server.url
    server_tree = (lambda: _tree(server.proc.pid)) if server else (lambda: [])
    roots = {
        "browsers": lambda: _browser_procs({p.pid for p in server_tree()}),
        "driver": lambda: _browser_procs({p.pid for p in server_tree()}, driver=True),
    }
    if server:
        roots["server"] = server_tree
    memory = PeakMemory(roots, keep_nice=("browsers",))
    memory.start()
    try:
        run = asyncio.run(
            main_async(
                url,
                readers,
                args.seconds,
                args.timeout,
                args.think,
                every_s,
                heavy,
                args.max_turns,
                memory,
                args.warmup,
            )
        )
    finally:
        memory.stopped.set()
        memory.join()
        if server:
            server.stop()

    all_lat, all_err, all_built = [], [], []
    for i, r in sorted(run["sessions"].items()):
        lat = np.array(r["latencies"]) * 1e3
        all_lat += list(lat)
        all_err += r["errors"]
        all_built += r["built_ms"]
        p50 = f"{np.percentile(lat, 50):.0f}" if len(lat) else "-"
        print(f"session {i}: {len(lat)} page turns, p50 {p50} ms, {len(r['errors'])} errors")
    for i, r in sorted(run["heavy"].items()):
        all_err += r["errors"]
        print(f"heavy session {i}: {r['times']}, {len(r['errors'])} errors")
    for e in sorted(set(all_err))[:10]:
        print(f"  error: {e}")
    lat = np.array(all_lat)
    figures = {
        "scenario": args.scenario,
        "jobs": args.jobs,
        "sessions": readers + heavy,
        "readers": readers,
        "heavy": heavy,
        "every_s": every_s,
        "heavy_times": [run["heavy"][i]["times"] for i in sorted(run["heavy"])],
        "seconds": args.seconds,
        "think_s": args.think,
        "recording": f"{RECORDING.name} (64 ch, 160 Hz, 125 s)",
        "heavy_recordings": [heavy_recording(i).name for i in range(heavy)],
        "turns": int(len(lat)),
        "p50_ms": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
        "p95_ms": round(float(np.percentile(lat, 95)), 1) if len(lat) else None,
        "max_ms": round(float(lat.max()), 1) if len(lat) else None,
        "server_build_p50_ms": round(float(np.percentile(all_built, 50)), 1) if all_built else None,
        "server_build_p95_ms": round(float(np.percentile(all_built, 95)), 1) if all_built else None,
        "errors": len(all_err),
        "warmup_turns": args.warmup,
        "warmup_p50_ms": round(1e3 * float(np.percentile(run["warmup_s"], 50)), 1) if run["warmup_s"] else None,
        "warmup_max_ms": round(1e3 * max(run["warmup_s"]), 1) if run["warmup_s"] else None,
        "setup_s": round(run["setup_s"], 1),
        "server_peak_pss_mb": round(memory.peak.get("server", 0) / 2**20) if server else None,
        "browsers_peak_pss_mb": round(memory.peak["browsers"] / 2**20),
        "server_peak_rss_mb": round(memory.peak_rss.get("server", 0) / 2**20) if server else None,
        "browsers_peak_rss_mb": round(memory.peak_rss["browsers"] / 2**20),
        # Where the CPU went while the sessions ran (the app server's tree includes its local Dask
        # workers, so in `mixed` it counts the heavy jobs too): per page turn, and cores in use.
        "server_cpu_ms_per_turn": round(1e3 * run["cpu_s"]["server"] / len(lat), 1) if server and len(lat) else None,
        "browsers_cpu_ms_per_turn": round(1e3 * run["cpu_s"]["browsers"] / len(lat), 1) if len(lat) else None,
        "server_cores": round(run["cpu_s"]["server"] / run["wall_s"], 2) if server else None,
        "browsers_cores": round(run["cpu_s"]["browsers"] / run["wall_s"], 2),
        "playwright_cpu_ms_per_turn": round(1e3 * run["cpu_s"]["driver"] / len(lat), 1) if len(lat) else None,
        "cpus": psutil.cpu_count(),
        "load_average_1min": round(psutil.getloadavg()[0], 1),
    }
    print(
        f"page turns: {figures['turns']}, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
        f"errors {figures['errors']}, server peak {figures['server_peak_pss_mb']} MB, "
        f"browsers peak {figures['browsers_peak_pss_mb']} MB (PSS)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
