"""Where one Browse page turn's time goes: the server, the websocket, the browser.

One headless Chromium session (alone, no other load of ours) opens the bundled 64-channel
PhysioNet run on the Browse page and turns ``--turns`` pages (Next, Prev at the end), one
at a time. For each turn it records the click-to-drawn latency (as ``e2e_load.py`` times it),
the server's page build (the caption's "built in"), the bytes and count of the websocket
messages the browser received for it, the browser main thread's busy time (Chrome DevTools
``Performance.getMetrics``: task, script, layout and style durations), and the CPU the
app server's process and the browser's processes used.

``--profile`` also samples the browser's JavaScript during the turns (DevTools ``Profiler``) and
prints the functions that took the most of it, by script.

Prints one line per turn, then medians; the last line is one JSON object.

Usage: ``python benchmarks/browse_turn.py [--turns 30] [--pause 1] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e_load as load  # noqa: E402

_METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def _cpu_s(procs) -> float:
    return sum(_cpu_by_type(procs).values())


def _cpu_by_type(procs) -> dict[str, float]:
    """CPU seconds of ``procs`` by Chromium process type (renderer, gpu-process, ...; "other" for the rest)."""
    by: dict[str, float] = {}
    for p in procs:
        try:
            t = p.cpu_times()
            kind = next((a[7:] for a in p.cmdline() if a.startswith("--type=")), "other")
        except psutil.Error:
            continue
        by[kind] = by.get(kind, 0.0) + t.user + t.system
    return by


async def _metrics(cdp) -> dict[str, float]:
    found = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    return {k: found.get(k, 0.0) for k in _METRICS}


def _top_functions(profile: dict, most: int = 15) -> list[tuple[str, float]]:
    """(script:function, ms) of the sampled profile's self time, most first."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    gaps = np.diff([profile["startTime"], *np.cumsum(profile["timeDeltas"]) + profile["startTime"]])
    by: dict[str, float] = {}
    for node_id, gap in zip(profile["samples"], gaps, strict=False):
        frame = nodes[node_id]["callFrame"]
        script = frame["url"].rsplit("/", 1)[-1][:40] or "(native)"
        key = f"{script}:{frame['functionName'] or '(anonymous)'}"
        by[key] = by.get(key, 0.0) + gap / 1e3
    return sorted(by.items(), key=lambda kv: -kv[1])[:most]


async def run(url: str, turns: int, pause_s: float, server_procs, profile: bool = False) -> list[dict]:
    from playwright.async_api import async_playwright

    rows = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(load.CHROMIUM), args=load.CHROMIUM_ARGS)
        page, _ = await load._prepare(browser, url, 300_000)
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        received: list[int] = []
        cdp.on("Network.webSocketFrameReceived", lambda e: received.append(len(e["response"]["payloadData"])))
        await cdp.send("Network.enable")
        if profile:
            await cdp.send("Profiler.enable")
            await cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            await cdp.send("Profiler.start")
        me = psutil.Process()
        server_ids = {q.pid for q in server_procs()}
        for _ in range(turns):
            await asyncio.sleep(pause_s)
            (start, stop, duration), _ = await load._caption(page)
            width = stop - start
            forward = stop + 1e-6 < duration
            new_start = min(start + width, duration - width) if forward else max(0.0, start - width)
            prefix = f"{new_start:.1f}–{new_start + width:.1f} s of"
            browsers = [q for q in me.children(recursive=True) if q.pid not in server_ids]
            before = (await _metrics(cdp), _cpu_s(server_procs()), _cpu_by_type(browsers))
            received.clear()
            began = time.perf_counter()
            await page.locator(".st-key-browse_next button" if forward else ".st-key-browse_prev button").click()
            await page.wait_for_function(load._SHOWS, arg=[prefix, new_start], timeout=60_000, polling=load._POLL_MS)
            latency = time.perf_counter() - began
            await asyncio.sleep(0.3)  # late messages of the run (its end) and the browser's last drawing
            after = (await _metrics(cdp), _cpu_s(server_procs()), _cpu_by_type(browsers))
            rows.append(
                {
                    "latency_ms": 1e3 * latency,
                    "built_ms": (await load._caption(page))[1],
                    "ws_messages": len(received),
                    # payloadData is base64 for binary frames (Streamlit's protobuf): 3 bytes per 4 characters
                    "ws_kb": sum(received) * 3 / 4 / 1e3,
                    **{f"{k[:-8].lower()}_ms": 1e3 * (after[0][k] - before[0][k]) for k in _METRICS},
                    "server_cpu_ms": 1e3 * (after[1] - before[1]),
                    "browser_cpu_ms": 1e3 * (sum(after[2].values()) - sum(before[2].values())),
                    **{f"{k}_cpu_ms": 1e3 * (after[2][k] - before[2].get(k, 0.0)) for k in ("renderer", "gpu-process")},
                }
            )
            r = rows[-1]
            print(
                f"turn {len(rows)}: {r['latency_ms']:.0f} ms (built {r['built_ms']} ms), {r['ws_messages']} messages "
                f"{r['ws_kb']:.0f} kB, browser main thread {r['task_ms']:.0f} ms (script {r['script_ms']:.0f}), "
                f"CPU server {r['server_cpu_ms']:.0f} ms, browser {r['browser_cpu_ms']:.0f} ms "
                f"(renderer {r['renderer_cpu_ms']:.0f}, GPU process {r['gpu-process_cpu_ms']:.0f})"
            )
        if profile:
            found = (await cdp.send("Profiler.stop"))["profile"]
            print(f"browser JavaScript over the {turns} turns (self time, ms a turn):")
            for key, ms in _top_functions(found):
                print(f"  {ms / turns:7.1f}  {key}")
        await browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between turns")
    parser.add_argument("--profile", action="store_true", help="sample the browser's JavaScript")
    args = parser.parse_args()
    if args.turns < 1:
        sys.exit("error: --turns must be at least 1")
    home = tempfile.mkdtemp(prefix="browse-turn-home-")
    server = load.StreamlitServer(env={"EEG_EXPLORER_HOME": home}, log=Path("/tmp") / "browse_turn_streamlit.log")
    server.start()
    try:
        rows = asyncio.run(run(server.url, args.turns, args.pause, lambda: load._tree(server.proc.pid), args.profile))
    finally:
        server.stop()
    figures = {k: round(float(np.median([r[k] for r in rows if r[k] is not None])), 1) for k in rows[0]}
    figures = {f"median_{k}": v for k, v in figures.items()}
    figures["p95_latency_ms"] = round(float(np.percentile([r["latency_ms"] for r in rows], 95)), 1)
    figures.update(turns=len(rows), cpus=psutil.cpu_count(), load_average_1min=round(psutil.getloadavg()[0], 1))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
