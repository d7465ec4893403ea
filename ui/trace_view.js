// Canvas views of the Browse page, called again with new data on every page turn: they
// redraw the same canvas instead of building a new chart.
// - kind "page" (backend.browse.figures.page_view_data): the stacked rows, time grid,
//   annotation spans, stim events, channel names and scale bar; hovering reads out
//   channel, time and value.
//   Dragging across the traces selects a time span and sends it back ("span"), to annotate it.
// - kind "overview" (backend.browse.figures.overview_view_data): the whole recording as
//   bars with the shown page marked; a click sends its time back ("goto").

function decode(b64) {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Int16Array(bytes.buffer);
}

// Size the canvas's backing store only when the size changes: reallocating it on every
// page turn costs more than drawing the page. An opaque context composites faster.
function context(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(width * ratio);
  const h = Math.round(height * ratio);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
  }
  const ctx = canvas.getContext("2d", { alpha: false });
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

function draw(root) {
  const d = root.__data;
  if (!d) return;
  const canvas = root.querySelector("canvas");
  const width = Math.max(300, root.clientWidth || 1000);
  const height = d.height;
  const ctx = context(canvas, width, height);
  const m = d.margin;
  const plotW = width - m.l - m.r;
  const plotH = height - m.t - m.b;
  const span = d.end - d.start;
  const xOf = (t) => m.l + ((t - d.start) / span) * plotW;
  const unitsPerPx = (d.plot_mm * d.y_units_per_mm) / plotH;
  const yOf = (u) => m.t - u / unitsPerPx;
  root.__geometry = { xOf, yOf, plotW, plotH, unitsPerPx, width };

  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, width, height);
  ctx.font = "11px sans-serif";
  // Annotation spans (below the traces) and time grid.
  for (const a of d.annotations) {
    ctx.globalAlpha = 0.15;
    ctx.fillStyle = a.color;
    if (a.x1 > a.x0) ctx.fillRect(xOf(a.x0), m.t, Math.max(1, xOf(a.x1) - xOf(a.x0)), plotH);
    ctx.globalAlpha = 1;
    if (a.x1 <= a.x0) {
      ctx.strokeStyle = a.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(xOf(a.x0), m.t); ctx.lineTo(xOf(a.x0), m.t + plotH); ctx.stroke();
    }
  }
  ctx.strokeStyle = "#e6e6e6";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#444";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const [t, label] of d.ticks) {
    const x = Math.round(xOf(t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, m.t); ctx.lineTo(x, m.t + plotH); ctx.stroke();
    ctx.fillText(label, x, m.t + plotH + 6);
  }
  // Traces: one path a row, clipped to the plot area as a chart would.
  ctx.save();
  ctx.beginPath(); ctx.rect(m.l, m.t, plotW, plotH); ctx.clip();
  const ys = root.__ys;
  const n = d.n_points;
  ctx.lineWidth = 1;
  for (let r = 0; r < d.rows.length; r++) {
    ctx.strokeStyle = d.rows[r].color;
    ctx.beginPath();
    const base = r * n;
    for (let i = 0; i < n; i++) {
      const x = m.l + ((d.x0 + i * d.dx - d.start) / span) * plotW;
      const y = m.t - ys[base + i] / unitsPerPx;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
  ctx.restore();
  // Stim events, annotation labels, frame.
  ctx.setLineDash([2, 3]);
  ctx.strokeStyle = "#555";
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  for (const e of d.events) {
    const x = xOf(e.t);
    ctx.beginPath(); ctx.moveTo(x, m.t); ctx.lineTo(x, m.t + plotH); ctx.stroke();
    ctx.fillText(e.label, x, m.t + plotH + 18);
  }
  ctx.setLineDash([]);
  ctx.font = "11px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom";
  for (const a of d.annotations) {
    ctx.fillStyle = a.color;
    ctx.fillText(a.label, xOf(a.x0) + 2, m.t - 2);
  }
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(m.l + 0.5, m.t + 0.5, plotW - 1, plotH - 1);
  // Channel names.
  ctx.fillStyle = "#222";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.font = (d.rows.length <= 40 ? 10 : 8) + "px sans-serif";
  for (let r = 0; r < d.rows.length; r++) {
    ctx.fillText(d.rows[r].name, m.l - 6, yOf(d.offsets_mm[r] * d.y_units_per_mm));
  }
  // Scale bar in the right margin, at the bottom row.
  const bottom = yOf((d.offsets_mm[d.offsets_mm.length - 1] - d.plot_mm / d.rows.length / 2) * d.y_units_per_mm);
  const barPx = (d.bar.mm * d.y_units_per_mm) / unitsPerPx;
  const xBar = width - m.r + 0.02 * plotW;
  ctx.strokeStyle = "black";
  ctx.lineWidth = 3;
  ctx.beginPath(); ctx.moveTo(xBar, bottom); ctx.lineTo(xBar, bottom - barPx); ctx.stroke();
  ctx.fillStyle = "black";
  ctx.textAlign = "left";
  ctx.fillText(d.bar.uv + " µV", xBar + 6, bottom - barPx / 2);
  if (d.title) {
    ctx.font = "13px sans-serif";
    ctx.textBaseline = "top";
    ctx.fillText(d.title, 8, 4);
  }
  // The span being dragged (to annotate it).
  if (root.__drag && root.__drag.t1 !== undefined) {
    const a = Math.min(root.__drag.t0, root.__drag.t1);
    const b = Math.max(root.__drag.t0, root.__drag.t1);
    ctx.globalAlpha = 0.2;
    ctx.fillStyle = "#f5a623";
    ctx.fillRect(xOf(a), m.t, xOf(b) - xOf(a), plotH);
    ctx.globalAlpha = 1;
  }
  // Tests and the load benchmark read which page is on screen from here.
  root.dataset.start = d.start.toFixed(3);
  const caption = root.querySelector(".eeg-caption");
  if (caption) caption.textContent = d.caption || "";
}

// Page turns in the browser (data.fetch: the page route of ui/page_server.py). Prev/Next and
// the ← → keys fetch the next page and draw it, without a Streamlit rerun: a rerun costs the
// browser several times what the server spends. A later turn supersedes one still in flight.
// Where the route does not answer with a page (an app run without it), the turn is asked of
// the server by a rerun ("goto").
function turn(root, direction) {
  const d = root.__data;
  const last = Math.max(0, d.duration - d.timebase);
  const from = root.__target === undefined ? d.start : root.__target;
  const target = Math.min(Math.max(0, from + direction * d.timebase), last);
  if (Math.abs(target - from) < 1e-9) return;
  root.__target = target;
  const url = `${d.fetch}?start=${target.toFixed(6)}`;
  fetch(url, { cache: "no-store" })
    .then((r) => (r.ok && (r.headers.get("content-type") || "").includes("json") ? r.json() : Promise.reject(r.status)))
    .then((page) => {
      if (root.__target !== target || !root.__data || root.__data.fetch !== d.fetch) return;
      page.fetch = d.fetch;
      root.__data = page;
      root.__ys = decode(page.ys);
      draw(root);
      window.dispatchEvent(new CustomEvent("eeg-page", { detail: [page.start, page.end] }));
    })
    .catch(() => {
      if (root.__target !== target) return;
      root.__target = undefined;
      root.__send("goto", target);
    });
}

function sameData(a, b) {
  if (a === b) return true;
  if (!a || !b || a.kind !== b.kind) return false;
  if (a.kind === "overview") return JSON.stringify(a) === JSON.stringify(b);
  return a.ys === b.ys && a.caption === b.caption && a.fetch === b.fetch && a.height === b.height &&
    JSON.stringify([a.rows, a.annotations, a.events]) === JSON.stringify([b.rows, b.annotations, b.events]);
}

function turnsHere(root) {
  const d = root.__data;
  return !!(d && d.fetch && root.isConnected);
}

function timeAt(root, event) {
  const d = root.__data;
  const g = root.__geometry;
  const rect = root.querySelector("canvas").getBoundingClientRect();
  const t = d.start + ((event.clientX - rect.left - d.margin.l) / g.plotW) * (d.end - d.start);
  return Math.min(d.end, Math.max(d.start, t));
}

// Drag across the traces: a span of at least 4 px is sent as [from, to] seconds.
function dragStart(root, event) {
  const d = root.__data;
  const g = root.__geometry;
  if (!d || !g) return;
  const rect = root.querySelector("canvas").getBoundingClientRect();
  const px = event.clientX - rect.left;
  const py = event.clientY - rect.top;
  if (px < d.margin.l || px > d.margin.l + g.plotW || py < d.margin.t || py > d.margin.t + g.plotH) return;
  root.__drag = { t0: timeAt(root, event), x0: event.clientX };
}

function dragMove(root, event) {
  if (!root.__drag) return;
  root.__drag.t1 = timeAt(root, event);
  draw(root);
}

function dragEnd(root, event) {
  const drag = root.__drag;
  if (!drag) return;
  root.__drag = null;
  const t1 = timeAt(root, event);
  if (Math.abs(event.clientX - drag.x0) >= 4) {
    root.__send("span", [Math.min(drag.t0, t1), Math.max(drag.t0, t1)]);
  }
  draw(root);
}

function hover(root, event) {
  const d = root.__data;
  const g = root.__geometry;
  const tip = root.querySelector(".eeg-tip");
  if (!d || !g) return;
  const rect = root.querySelector("canvas").getBoundingClientRect();
  const px = event.clientX - rect.left;
  const py = event.clientY - rect.top;
  const t = d.start + ((px - d.margin.l) / g.plotW) * (d.end - d.start);
  if (t < d.start || t > d.end || py < d.margin.t || py > d.margin.t + g.plotH) {
    tip.style.display = "none";
    return;
  }
  const units = (d.margin.t - py) * g.unitsPerPx;
  let row = 0;
  for (let r = 1; r < d.rows.length; r++) {
    if (Math.abs(d.offsets_mm[r] * d.y_units_per_mm - units) < Math.abs(d.offsets_mm[row] * d.y_units_per_mm - units)) row = r;
  }
  const i = Math.min(d.n_points - 1, Math.max(0, Math.round((t - d.x0) / d.dx)));
  const rel = root.__ys[row * d.n_points + i] - d.offsets_mm[row] * d.y_units_per_mm;
  const value = rel * d.uv_per_unit;
  // A clipped trace sits at its row's band: its value there is a bound, not a reading.
  const clipped = d.clip_units && Math.abs(rel) >= d.clip_units - 1;
  const name = d.rows[row].raw ? `${d.rows[row].name} [${d.rows[row].raw}]` : d.rows[row].name;
  const shown = clipped ? `${value > 0 ? "≥" : "≤"} ${value.toFixed(1)} µV (clipped)` : `${value.toFixed(1)} µV`;
  tip.textContent = `${name} · ${(d.x0 + i * d.dx).toFixed(3)} s · ${shown}`;
  tip.style.display = "block";
  tip.style.left = Math.min(px + 12, g.width - 220) + "px";
  tip.style.top = py + 12 + "px";
}

function drawOverview(root) {
  const d = root.__data;
  const canvas = root.querySelector("canvas");
  const width = Math.max(300, root.clientWidth || 1000);
  const ctx = context(canvas, width, d.height);
  const m = d.margin;
  const plotW = width - m.l - m.r;
  const plotH = d.height - m.t - m.b;
  const xOf = (t) => m.l + (t / d.duration) * plotW;
  root.__geometry = { xOf, plotW, width };
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, width, d.height);
  ctx.fillStyle = "#f5a623";
  ctx.globalAlpha = 0.35;
  ctx.fillRect(xOf(d.page[0]), m.t, Math.max(2, xOf(d.page[1]) - xOf(d.page[0])), plotH);
  ctx.globalAlpha = 1;
  const top = d.top > 0 ? d.top : 1;
  const barW = Math.max(1, plotW / Math.max(1, d.values.length));
  ctx.fillStyle = "#6b8fb5";
  d.values.forEach((v, i) => {
    if (v === null) return;
    const h = (Math.min(v, top) / top) * plotH;
    ctx.fillRect(xOf(d.times[i]) - barW / 2, m.t + plotH - h, barW, h);
  });
  for (const mark of d.marks) {
    const x = xOf(mark.t);
    ctx.fillStyle = mark.color;
    ctx.beginPath(); ctx.moveTo(x - 4, m.t - 9); ctx.lineTo(x + 4, m.t - 9); ctx.lineTo(x, m.t - 2); ctx.fill();
  }
  ctx.fillStyle = "#444";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const [t, label] of d.ticks) ctx.fillText(label, xOf(t), m.t + plotH + 4);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText(d.top_label, m.l - 6, m.t);
  ctx.fillText("0", m.l - 6, m.t + plotH);
  ctx.save();
  ctx.translate(14, m.t + plotH / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText(d.unit, 0, 0);
  ctx.restore();
  root.dataset.start = d.page[0].toFixed(3);
}

function clickOverview(root, event, setTriggerValue) {
  const d = root.__data;
  const g = root.__geometry;
  const rect = root.querySelector("canvas").getBoundingClientRect();
  const t = ((event.clientX - rect.left - d.margin.l) / g.plotW) * d.duration;
  if (t >= 0 && t <= d.duration) setTriggerValue("goto", t);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const kind = data && data.kind === "overview" ? "overview" : "page";
  let root = parentElement.querySelector(".eeg-" + kind + "-view");
  if (!root) {
    root = document.createElement("div");
    root.className = "eeg-" + kind + "-view";
    root.innerHTML =
      kind === "page" ? '<canvas></canvas><div class="eeg-tip"></div><div class="eeg-caption"></div>' : "<canvas></canvas>";
    parentElement.appendChild(root);
    const canvas = root.querySelector("canvas");
    if (kind === "page") {
      canvas.addEventListener("mousemove", (e) => { hover(root, e); dragMove(root, e); });
      canvas.addEventListener("mousedown", (e) => dragStart(root, e));
      window.addEventListener("mouseup", (e) => dragEnd(root, e));
      canvas.style.cursor = "crosshair";
      canvas.addEventListener("mouseleave", () => { root.querySelector(".eeg-tip").style.display = "none"; });
      // The page's Prev/Next buttons and ← → keys: taken here, before Streamlit's handlers see them.
      document.addEventListener("click", (e) => {
        const button = e.target.closest && e.target.closest(".st-key-browse_next button, .st-key-browse_prev button");
        if (!button || !turnsHere(root)) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        turn(root, button.closest(".st-key-browse_next") ? 1 : -1);
      }, true);
      window.addEventListener("keydown", (e) => {
        if ((e.key !== "ArrowLeft" && e.key !== "ArrowRight") || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
        const t = e.target;
        if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        if (!turnsHere(root)) return;
        e.preventDefault();
        e.stopImmediatePropagation();
        turn(root, e.key === "ArrowRight" ? 1 : -1);
      }, true);
    } else {
      canvas.style.cursor = "pointer";
      canvas.addEventListener("click", (e) => clickOverview(root, e, root.__send));
      // A page turned in the browser moves the shown-page mark too.
      window.addEventListener("eeg-page", (e) => {
        if (!root.__data || !root.isConnected) return;
        root.__data = Object.assign({}, root.__data, { page: e.detail });
        drawOverview(root);
      });
    }
    new ResizeObserver(() => (kind === "page" ? draw : drawOverview)(root)).observe(root);
  }
  root.__send = setTriggerValue;
  // Only data Streamlit has not given before replaces what is shown: a page turned in the browser
  // stays when the view is rendered again with the same data (another element's rerun).
  if (data && !sameData(data, root.__given)) {
    root.__given = data;
    root.__data = data;
    root.__target = undefined;
    if (kind === "page") {
      root.__ys = decode(data.ys);
      draw(root);
    } else {
      drawOverview(root);
    }
  }
}
