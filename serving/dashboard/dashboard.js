// ltrr live dashboard: polls /dashboard/data once a second and draws plain
// SVG line charts (no library). Each chart's <svg> carries data-points
// (values drawn) and data-last (newest value) for tests and curious users.
"use strict";

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const SVGNS = "http://www.w3.org/2000/svg";
const WINDOW_MS = 10 * 60 * 1000;
const MIN_SPAN_MS = 60 * 1000;
const TIME_STEPS = [10000, 15000, 30000, 60000, 120000, 300000];
const M = { top: 10, right: 14, bottom: 22, left: 56 };

const state = { points: [], arms: [], last: 0, max: 600, top: [], sources: {} };

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

// Round tick step: 1, 2 or 5 times a power of ten.
function niceStep(span, n) {
  const raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function fmtNum(v, unit) {
  if (v == null || !isFinite(v)) return "–";
  if (unit === "%") return (v * 100).toFixed(v < 0.1 ? 1 : 0) + " %";
  const a = Math.abs(v);
  const s = a >= 1e6 ? (v / 1e6).toFixed(1) + "M" : a >= 1e4 ? (v / 1e3).toFixed(1) + "k"
    : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2)
    : a === 0 ? "0" : v.toPrecision(2);
  return unit ? s + " " + unit : s;
}

// Axis label of v with as many decimals as the tick step needs.
function fmtTick(v, step, unit) {
  if (unit === "%") {
    const d = Math.max(0, -Math.floor(Math.log10(step * 100) + 1e-9));
    return (v * 100).toFixed(d) + " %";
  }
  if (Math.abs(v) >= 1e4) return fmtNum(v, unit);
  const d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(d) + (unit ? " " + unit : "");
}

function fmtTime(t) {
  const d = new Date(t);
  return d.toTimeString().slice(0, 8);
}

// Draws series [{name, values}] against times ts into the svg #id with a
// legend in #legend. opts: unit, pct (values 0..1 shown as %), min0.
function drawChart(id, ts, series, opts) {
  const svg = document.getElementById(id);
  const legend = document.getElementById(id.replace("c-", "l-"));
  const w = svg.clientWidth || 440, h = svg.clientHeight || 190;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const unit = opts.pct ? "%" : opts.unit;
  let lo = Infinity, hi = -Infinity, drawn = 0, lastVal = null;
  for (const s of series) for (const v of s.values) {
    if (v == null || !isFinite(v)) continue;
    lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  const now = ts.length ? ts[ts.length - 1] : Date.now();
  const first = ts.length ? ts.find(t => t >= now - WINDOW_MS) : now;
  const span = Math.max(now - first, MIN_SPAN_MS), x0 = now - span;
  const pw = w - M.left - M.right, ph = h - M.top - M.bottom;
  const X = t => M.left + (t - x0) / span * pw;
  if (lo === Infinity) { lo = 0; hi = 1; }
  if (opts.min0 !== false) lo = Math.min(0, lo);
  if (opts.pct && hi > 1 && hi < 1.1) hi = 1; // shares: counters read a moment apart
  if (hi - lo < 1e-9) hi = lo + (Math.abs(lo) || 1);
  const step = niceStep(hi - lo, 4);
  lo = Math.floor(lo / step + 1e-9) * step; hi = Math.ceil(hi / step - 1e-9) * step;
  const Y = v => M.top + ph - (v - lo) / (hi - lo) * ph;
  const g = el("g", { class: "grid" }, svg);
  for (let k = 0; lo + k * step <= hi + step / 2; k++) {
    const v = lo + k * step;
    el("line", { x1: M.left, x2: w - M.right, y1: Y(v), y2: Y(v) }, g);
    el("text", { x: M.left - 6, y: Y(v) + 4, "text-anchor": "end" }, svg)
      .textContent = fmtTick(v, step, unit);
  }
  const tstep = TIME_STEPS.find(s => span / s <= 6) || 600000;
  for (let t = Math.ceil(x0 / tstep) * tstep; t <= now; t += tstep)
    if (X(t) > M.left + 20 && X(t) < w - 26)
      el("text", { x: X(t), y: h - 6, "text-anchor": "middle" }, svg).textContent = fmtTime(t);
  el("line", { class: "axis", x1: M.left, x2: w - M.right, y1: M.top + ph, y2: M.top + ph }, svg);
  legend.textContent = "";
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    let d = "", pen = false, last = null;
    s.values.forEach((v, k) => {
      if (v == null || !isFinite(v) || ts[k] < x0) { pen = false; return; }
      d += (pen ? "L" : "M") + X(ts[k]).toFixed(1) + "," + Y(v).toFixed(1);
      pen = true; drawn++; last = v;
    });
    if (d) el("path", { class: "series", d, stroke: color, "data-name": s.name }, svg);
    if (i === 0) lastVal = last;
    const item = document.createElement("span");
    item.innerHTML = `<span class="sw" style="background:${color}"></span>`;
    item.appendChild(document.createTextNode(s.name + " "));
    const b = document.createElement("b"); b.textContent = fmtNum(last, unit);
    item.appendChild(b); legend.appendChild(item);
  });
  if (!drawn)
    el("text", { class: "empty", x: M.left + pw / 2, y: M.top + ph / 2, "text-anchor": "middle" }, svg)
      .textContent = opts.empty || "no data yet";
  svg.dataset.points = String(drawn);
  svg.dataset.last = lastVal == null ? "" : String(lastVal);
}

function col(key) { return state.points.map(p => p[key]); }
function armCol(key, i) { return state.points.map(p => (p[key] || [])[i]); }

function setTile(id, v, unit) { document.getElementById(id).textContent = fmtNum(v, unit); }

function lastOf(key) {
  for (let i = state.points.length - 1; i >= 0; i--) {
    const v = state.points[i][key];
    if (v != null && isFinite(v)) return v;
  }
  return null;
}

function renderTiles() {
  setTile("t-qps", lastOf("qps"), "/s");
  setTile("t-p99", lastOf("p99_ms"), "ms");
  setTile("t-reward", lastOf("reward"), "/imp");
  setTile("t-fresh", lastOf("freshness_s"), "s");
  setTile("t-joinlag", lastOf("join_p99_ms"), "ms");
  setTile("t-degraded", lastOf("degraded_ps"), "/s");
  setTile("t-dropped", lastOf("dropped_ps"), "/s");
  const p = state.points[state.points.length - 1];
  const names = Object.keys(state.sources).filter(k => state.sources[k]);
  const up = p ? names.filter(k => p.up && p.up[k]).length : 0;
  document.getElementById("t-up").textContent = `${up} / ${names.length}`;
}

function renderTop() {
  const body = document.querySelector("#topq tbody");
  body.textContent = "";
  if (!state.top.length) {
    body.innerHTML = '<tr><td colspan="3" class="muted">no queries with Q2E state yet</td></tr>';
    return;
  }
  for (const q of state.top) {
    const tr = document.createElement("tr");
    const tq = document.createElement("td"); tq.textContent = q.query;
    const tn = document.createElement("td"); tn.className = "num"; tn.textContent = q.impressions;
    const tl = document.createElement("td");
    if (!q.leaders.length) tl.innerHTML = '<span class="muted">no engagement yet</span>';
    for (const l of q.leaders) {
      const s = document.createElement("span"); s.className = "lead";
      const c = document.createElement("code"); c.textContent = l.entity;
      s.appendChild(c); s.appendChild(document.createTextNode(" · " + fmtNum(l.score)));
      tl.appendChild(s);
    }
    tr.append(tq, tn, tl); body.appendChild(tr);
  }
}

function render() {
  const ts = col("t");
  const arms = state.arms;
  drawChart("c-traffic", ts, [{ name: "searches/s", values: col("qps") },
    { name: "events accepted/s", values: col("events_ps") },
    { name: "events rejected/s", values: col("rejected_ps") }], { unit: "/s" });
  drawChart("c-latency", ts, [{ name: "p50", values: col("p50_ms") },
    { name: "p95", values: col("p95_ms") }, { name: "p99", values: col("p99_ms") }], { unit: "ms" });
  drawChart("c-reward", ts, [{ name: "rewards per impression", values: col("reward") }],
    { unit: "", empty: "no rewards joined yet" });
  drawChart("c-armreward", ts, arms.map((a, i) => ({ name: a, values: armCol("arm_reward", i) })),
    { unit: "", empty: "no bandit statistics in Redis yet" });
  drawChart("c-armshare", ts, arms.map((a, i) => ({ name: a, values: armCol("arm_share", i) })),
    { pct: true });
  drawChart("c-join", ts, [{ name: "p50", values: col("join_p50_ms") },
    { name: "p99", values: col("join_p99_ms") }], { unit: "ms", empty: "ltrr-join not scraped" });
  drawChart("c-fresh", ts, [{ name: "freshness", values: col("freshness_s") }],
    { unit: "s", empty: "ltrr-learn not scraped" });
  drawChart("c-errors", ts, [{ name: "degraded/s", values: col("degraded_ps") },
    { name: "impressions dropped/s", values: col("dropped_ps") }], { unit: "/s" });
  renderTiles();
  renderTop();
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const r = await fetch(`/dashboard/data?since=${state.last}`, { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const d = await r.json();
    state.arms = d.arms; state.top = d.top_queries; state.sources = d.sources;
    state.max = d.points_max || state.max;
    for (const p of d.points) state.points.push(p);
    if (state.points.length > state.max) state.points.splice(0, state.points.length - state.max);
    if (state.points.length) state.last = state.points[state.points.length - 1].t;
    document.body.dataset.points = String(state.points.length);
    render();
    status.className = "status ok";
    status.textContent = `live · ${state.points.length} points · ${fmtTime(d.now)}`;
  } catch (e) {
    status.className = "status bad";
    status.textContent = "disconnected: " + e.message;
  }
  setTimeout(poll, 1000);
}

window.addEventListener("resize", render);
poll();
